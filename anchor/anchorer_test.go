package anchor_test

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/store"
)

func TestAnchorerConfirmsAndReceiptsVerify(t *testing.T) {
	c := newSimChain(t)
	st := openStore(t, t.TempDir())
	var confirmed []*store.Batch
	a := newAnchorer(t, c, st, func(cfg *anchor.Config) {
		cfg.Confirmations = 2
		cfg.OnConfirmed = func(b *store.Batch) { confirmed = append(confirmed, b) }
	})
	tree, ds := newBatch(t, st, 37, "confirm")
	root := tree.Root()

	step(t, a)
	sent := wantState(t, st, root, store.BatchSent)
	if sent.Attempts != 1 || len(sent.RawTx) == 0 {
		t.Fatalf("sent batch = %+v, want one attempt with its raw transaction", sent)
	}
	c.sim.Commit()
	step(t, a) // mined, but one confirmation of the two asked for
	wantState(t, st, root, store.BatchSent)
	c.sim.Commit()
	step(t, a)
	b := wantState(t, st, root, store.BatchConfirmed)
	if len(confirmed) != 1 || confirmed[0].Root != root {
		t.Fatalf("OnConfirmed calls = %d, want 1 for the batch", len(confirmed))
	}
	if b.Member != c.memberAddr() || b.BlockNumber == 0 || b.GasUsed == 0 || b.TxHash != sent.TxHash {
		t.Fatalf("confirmed batch = %+v", b)
	}
	if a.GasSpent() != b.GasUsed {
		t.Errorf("GasSpent = %d, want %d", a.GasSpent(), b.GasUsed)
	}
	// The anchor in the registry is what the batch says.
	oc := anchorOf(t, c, root)
	if oc.Member != c.memberAddr() || oc.BlockNumber != b.BlockNumber || oc.Size != 37 {
		t.Fatalf("anchorOf = %+v, batch %+v", oc, b)
	}

	at := anchor.AnchorInfo{ChainID: chainID(t, c), Contract: c.registry, TxHash: b.TxHash, BlockNumber: b.BlockNumber, Member: b.Member}
	for i, d := range ds {
		r, err := anchor.NewReceipt(tree, uint64(i), d, at)
		if err != nil {
			t.Fatal(err)
		}
		v, err := anchor.VerifyReceipt(context.Background(), c.client, r, d)
		if err != nil {
			t.Fatalf("leaf %d: VerifyReceipt: %v", i, err)
		}
		if v.Member != c.memberAddr() || v.BlockNumber != b.BlockNumber || v.Confirmations < 2 || v.BlockTime == 0 {
			t.Fatalf("leaf %d: verification = %+v", i, v)
		}
	}

	// Nothing more is sent for a confirmed batch.
	nonce := pendingNonce(t, c)
	step(t, a)
	c.sim.Commit()
	step(t, a)
	if got := pendingNonce(t, c); got != nonce {
		t.Fatalf("nonce moved from %d to %d after the batch was confirmed", nonce, got)
	}
}

func TestAnchorerReanchorsAfterReorg(t *testing.T) {
	c := newSimChain(t)
	st := openStore(t, t.TempDir())
	reorged := 0
	a := newAnchorer(t, c, st, func(cfg *anchor.Config) {
		cfg.OnReorged = func(*store.Batch) { reorged++ }
	})
	tree, _ := newBatch(t, st, 5, "reorg")
	root := tree.Root()
	parent := headHash(t, c)

	step(t, a)
	c.sim.Commit()
	step(t, a)
	before := wantState(t, st, root, store.BatchConfirmed)

	// A longer side chain from the parent of the anchor's block, without the
	// anchor transaction.
	if err := c.sim.Fork(parent); err != nil {
		t.Fatal(err)
	}
	c.sim.Rollback()
	c.sim.Commit()
	c.sim.Commit()
	if got := headHash(t, c); got == before.BlockHash {
		t.Fatal("the fork did not become canonical")
	}
	if oc := anchorOf(t, c, root); oc.Member != (common.Address{}) {
		t.Fatalf("after the reorg the root is still anchored: %+v", oc)
	}

	step(t, a) // notices the reorg and re-broadcasts the anchor
	if reorged != 1 {
		t.Fatalf("OnReorged calls = %d, want 1", reorged)
	}
	if b := mustBatch(t, st, root); b.State == store.BatchConfirmed {
		t.Fatalf("batch still confirmed after its block left the chain: %+v", b)
	}
	c.sim.Commit()
	step(t, a)
	after := wantState(t, st, root, store.BatchConfirmed)
	if after.BlockHash == before.BlockHash {
		t.Fatal("re-anchored batch kept the reorganised block")
	}
	if oc := anchorOf(t, c, root); oc.Member != c.memberAddr() || oc.BlockNumber != after.BlockNumber {
		t.Fatalf("anchorOf after re-anchoring = %+v, batch %+v", oc, after)
	}
}

func TestAnchorerResumesAfterRestart(t *testing.T) {
	c := newSimChain(t)
	dir := t.TempDir()
	st := openStore(t, dir)

	// Crash after the anchor was recorded but before it was broadcast: the
	// next Anchorer sends the recorded transaction, with the same nonce.
	tree, _ := newBatch(t, st, 3, "restart")
	root := tree.Root()
	a := newAnchorer(t, c, st, nil)
	step(t, a)
	sent := wantState(t, st, root, store.BatchSent)
	c.sim.Rollback() // the transaction never reached the chain
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openStore(t, dir)
	a = newAnchorer(t, c, st, nil)
	step(t, a)
	c.sim.Commit()
	step(t, a)
	b := wantState(t, st, root, store.BatchConfirmed)
	if b.TxHash != sent.TxHash || b.Attempts != 1 {
		t.Fatalf("after restart: tx %x attempts %d, want the recorded tx %x and one attempt", b.TxHash, b.Attempts, sent.TxHash)
	}

	// The store lost track of an anchor that is on chain (the record says
	// pending): the Anchorer adopts it and sends nothing.
	b.State = store.BatchPending
	b.TxHash = [32]byte{}
	if err := st.UpdateBatch(b); err != nil {
		t.Fatal(err)
	}
	nonce := pendingNonce(t, c)
	a = newAnchorer(t, c, st, nil)
	step(t, a)
	adopted := wantState(t, st, root, store.BatchConfirmed)
	if adopted.TxHash != sent.TxHash || adopted.BlockHash != b.BlockHash {
		t.Fatalf("adopted anchor = %+v, want tx %x in block %x", adopted, sent.TxHash, b.BlockHash)
	}
	if got := pendingNonce(t, c); got != nonce {
		t.Fatalf("a second anchor was sent for a root already on chain (nonce %d -> %d)", nonce, got)
	}
}

func TestAnchorerRefusals(t *testing.T) {
	c := newSimChain(t)
	st := openStore(t, t.TempDir())
	tree, _ := newBatch(t, st, 4, "refusals")

	t.Run("unauthorised key", func(t *testing.T) {
		a := newAnchorer(t, c, st, func(cfg *anchor.Config) { cfg.Key = c.member })
		if err := a.Step(context.Background()); !errors.Is(err, anchor.ErrNotAuthorized) {
			t.Fatalf("Step with the member's own key: got %v, want ErrNotAuthorized", err)
		}
		wantState(t, st, tree.Root(), store.BatchPending)
	})
	t.Run("fee cap below base fee", func(t *testing.T) {
		a := newAnchorer(t, c, st, func(cfg *anchor.Config) { cfg.MaxFeePerGas = big.NewInt(1) })
		if err := a.Step(context.Background()); !errors.Is(err, anchor.ErrFeeCapExceeded) {
			t.Fatalf("Step: got %v, want ErrFeeCapExceeded", err)
		}
		wantState(t, st, tree.Root(), store.BatchPending)
	})
	t.Run("config", func(t *testing.T) {
		for _, cfg := range []anchor.Config{
			{Store: st, Registry: c.registry, Key: c.nodeKey},
			{Backend: c.client, Registry: c.registry, Key: c.nodeKey},
			{Backend: c.client, Store: st, Key: c.nodeKey},
			{Backend: c.client, Store: st, Registry: c.registry},
		} {
			if _, err := anchor.New(cfg); err == nil {
				t.Errorf("New(%+v) accepted an incomplete config", cfg)
			}
		}
	})
}

func TestRunStopsWithContext(t *testing.T) {
	c := newSimChain(t)
	st := openStore(t, t.TempDir())
	a := newAnchorer(t, c, st, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: got %v, want context.Canceled", err)
	}
}

func anchorOf(t *testing.T, c *simChain, root [32]byte) registry.AnchorOfOutput {
	t.Helper()
	reg := registry.NewRegistry()
	out, err := c.client.CallContract(context.Background(), callMsg(c.registry, reg.PackAnchorOf(root)), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := reg.UnpackAnchorOf(out)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func chainID(t *testing.T, c *simChain) uint64 {
	t.Helper()
	id, err := c.client.ChainID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id.Uint64()
}

func pendingNonce(t *testing.T, c *simChain) uint64 {
	t.Helper()
	n, err := c.client.PendingNonceAt(context.Background(), crypto.PubkeyToAddress(c.nodeKey.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func headHash(t *testing.T, c *simChain) [32]byte {
	t.Helper()
	h, err := c.client.HeaderByNumber(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h.Hash()
}

// TestAnchorerLeavesForeignBatches: a batch another member anchored, held
// for its credentials, is never rechecked or anchored by this node, even
// when its block is not on this chain.
func TestAnchorerLeavesForeignBatches(t *testing.T) {
	c := newSimChain(t)
	st := openStore(t, t.TempDir())
	reorged := 0
	a := newAnchorer(t, c, st, func(cfg *anchor.Config) {
		cfg.OnReorged = func(*store.Batch) { reorged++ }
	})
	tree, err := merkle.New([]merkle.Hash{{1}, {2}})
	if err != nil {
		t.Fatal(err)
	}
	root := tree.Root()
	b := &store.Batch{Root: root, Size: 2, BlockNumber: 1, BlockHash: [32]byte{0xee}, Member: [20]byte{9}}
	if err := st.AddForeignBatch(b, [][32]byte{{1}, {2}}); err != nil {
		t.Fatal(err)
	}
	nonce := pendingNonce(t, c)
	step(t, a)
	c.sim.Commit()
	step(t, a)
	got := wantState(t, st, root, store.BatchConfirmed)
	if !got.Foreign || got.BlockHash != b.BlockHash || reorged != 0 || pendingNonce(t, c) != nonce {
		t.Fatalf("foreign batch %+v after two passes, %d reorgs, nonce %d → %d", got, reorged, nonce, pendingNonce(t, c))
	}
}
