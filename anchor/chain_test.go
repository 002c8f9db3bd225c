package anchor_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
)

// simChain is an in-process chain (go-ethereum's simulated backend, under
// the dev chain's Prague/Osaka rules) with a registry of one member whose
// node key may anchor.
type simChain struct {
	sim      *simulated.Backend
	client   simulated.Client
	registry common.Address
	member   *ecdsa.PrivateKey
	nodeKey  *ecdsa.PrivateKey
}

func (c *simChain) memberAddr() common.Address { return crypto.PubkeyToAddress(c.member.PublicKey) }

func newSimChain(t *testing.T) *simChain {
	t.Helper()
	keys := testnet.DevKeys(3)
	alloc := types.GenesisAlloc{}
	for _, k := range keys {
		alloc[crypto.PubkeyToAddress(k.PublicKey)] = types.Account{Balance: new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))}
	}
	sim := simulated.NewBackend(nil, func(_ *node.Config, ethConf *ethconfig.Config) {
		ethConf.Genesis = testnet.Genesis(testnet.ChainConfig(), alloc)
	})
	t.Cleanup(func() { sim.Close() })
	c := &simChain{sim: sim, client: sim.Client(), member: keys[0], nodeKey: keys[1]}

	// The helpers wait for receipts, so blocks are sealed in the background
	// until setup is done.
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
				sim.Commit()
			}
		}
	}()
	defer close(done)
	ctx := context.Background()
	m := anchor.Member{Address: c.memberAddr(), DID: "did:web:uni.example", Name: "Example University"}
	var err error
	if c.registry, err = anchor.DeployRegistry(ctx, c.client, c.member, []anchor.Member{m}, 1); err != nil {
		t.Fatal(err)
	}
	if err := anchor.AuthorizeKey(ctx, c.client, c.registry, c.member, crypto.PubkeyToAddress(c.nodeKey.PublicKey)); err != nil {
		t.Fatal(err)
	}
	return c
}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(store.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newBatch stores a pending batch of n digests and returns its tree.
func newBatch(t *testing.T, st *store.Store, n int, seed string) (*merkle.Tree, []merkle.Hash) {
	t.Helper()
	ds := make([]merkle.Hash, n)
	raw := make([][32]byte, n)
	for i := range ds {
		ds[i] = sha256.Sum256(fmt.Appendf(nil, "%s/%d", seed, i))
		raw[i] = ds[i]
	}
	tree, err := merkle.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	b := &store.Batch{Root: tree.Root(), Size: uint64(n), CreatedAt: time.Now()}
	if err := st.CreateBatch(b, raw); err != nil {
		t.Fatal(err)
	}
	return tree, ds
}

func newAnchorer(t *testing.T, c *simChain, st *store.Store, mod func(*anchor.Config)) *anchor.Anchorer {
	t.Helper()
	cfg := anchor.Config{Backend: c.client, Store: st, Registry: c.registry, Key: c.nodeKey}
	if mod != nil {
		mod(&cfg)
	}
	a, err := anchor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func step(t *testing.T, a *anchor.Anchorer) {
	t.Helper()
	if err := a.Step(context.Background()); err != nil {
		t.Fatalf("Step: %v", err)
	}
}

func mustBatch(t *testing.T, st *store.Store, root merkle.Hash) *store.Batch {
	t.Helper()
	b, err := st.Batch(root)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantState(t *testing.T, st *store.Store, root merkle.Hash, want store.BatchState) *store.Batch {
	t.Helper()
	b := mustBatch(t, st, root)
	if b.State != want {
		t.Fatalf("batch %s: state %v, want %v (error %q)", root, b.State, want, b.Error)
	}
	return b
}

func callMsg(to common.Address, data []byte) ethereum.CallMsg {
	return ethereum.CallMsg{To: &to, Data: data}
}
