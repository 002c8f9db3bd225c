package anchor_test

import (
	"context"
	"errors"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
)

// devChainWithRegistry starts an in-process dev chain (a block per
// transaction) with a registry whose member authorised keys[1].
func devChainWithRegistry(ctx context.Context, t *testing.T) (*testnet.DevChain, common.Address) {
	t.Helper()
	chain, err := testnet.New(ctx, testnet.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	c, err := testnet.DeployConsortium(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	return chain, c.Registry
}

// waitState polls the store until the batch reaches want.
func waitState(ctx context.Context, t *testing.T, st *store.Store, root [32]byte, want store.BatchState) *store.Batch {
	t.Helper()
	for {
		b, err := st.Batch(root)
		if err != nil {
			t.Fatal(err)
		}
		if b.State == want {
			return b
		}
		select {
		case <-ctx.Done():
			t.Fatalf("batch %x in state %v, want %v", root, b.State, want)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// flakyBackend is a chain RPC that is down while down is set.
type flakyBackend struct {
	anchor.Backend
	down  atomic.Bool
	calls atomic.Int64
}

var errDown = errors.New("connection refused")

func (f *flakyBackend) HeaderByNumber(ctx context.Context, n *big.Int) (*types.Header, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return nil, errDown
	}
	return f.Backend.HeaderByNumber(ctx, n)
}

func (f *flakyBackend) ChainID(ctx context.Context) (*big.Int, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return nil, errDown
	}
	return f.Backend.ChainID(ctx)
}

func (f *flakyBackend) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	if f.down.Load() {
		return errDown
	}
	return f.Backend.SendTransaction(ctx, tx)
}

func (f *flakyBackend) CallContract(ctx context.Context, msg ethereum.CallMsg, n *big.Int) ([]byte, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Backend.CallContract(ctx, msg, n)
}

// TestRunRetriesWhileRPCIsDown: Run keeps going, with backoff, through an
// RPC outage, and anchors the batch once the RPC is back.
func TestRunRetriesWhileRPCIsDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	chain, reg := devChainWithRegistry(ctx, t)
	st := openStore(t, t.TempDir())
	tree, _ := newBatch(t, st, 10, "outage")
	backend := &flakyBackend{Backend: chain.Client()}
	backend.down.Store(true)
	a, err := anchor.New(anchor.Config{Backend: backend, Store: st, Registry: reg, Key: chain.Keys()[1], PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	for backend.calls.Load() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	wantState(t, st, tree.Root(), store.BatchPending)
	backend.down.Store(false)
	a.Notify()
	waitState(ctx, t, st, tree.Root(), store.BatchConfirmed)
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
}

// TestRestartAfterChainLostBlocks: a dev chain killed with the node can lose
// its newest blocks. A restarted Anchorer re-checks every confirmed anchor,
// finds the lost one, and anchors the batch again.
func TestRestartAfterChainLostBlocks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	chain, reg := devChainWithRegistry(ctx, t)
	dir := t.TempDir()
	st := openStore(t, dir)
	tree, _ := newBatch(t, st, 6, "lost")
	cfg := anchor.Config{Backend: chain.Client(), Store: st, Registry: reg, Key: chain.Keys()[1]}
	a, err := anchor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if b, _ := st.Batch(tree.Root()); b.State == store.BatchConfirmed {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	lost := wantState(t, st, tree.Root(), store.BatchConfirmed)

	// The chain loses the anchor's block (and its transaction).
	if err := chain.Client().Client().CallContext(ctx, nil, "debug_setHead", hexutil.Uint64(lost.BlockNumber-1)); err != nil {
		t.Fatalf("debug_setHead: %v", err)
	}
	if oc := anchorOfOn(t, chain, reg, tree.Root()); oc != (common.Address{}) {
		t.Fatal("the root is still anchored after the chain lost its block")
	}

	a, err = anchor.New(cfg) // the restarted node
	if err != nil {
		t.Fatal(err)
	}
	for {
		if err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
		b, _ := st.Batch(tree.Root())
		if b.State == store.BatchConfirmed && b.BlockHash != lost.BlockHash {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("batch not anchored again: %+v", b)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if oc := anchorOfOn(t, chain, reg, tree.Root()); oc != crypto.PubkeyToAddress(chain.Keys()[0].PublicKey) {
		t.Fatalf("after re-anchoring the root is anchored by %s", oc)
	}
}

func anchorOfOn(t *testing.T, chain *testnet.DevChain, reg common.Address, root [32]byte) common.Address {
	t.Helper()
	return anchorOf(t, &simChain{client: chain.Client(), registry: reg}, root).Member
}
