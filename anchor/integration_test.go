package anchor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
)

// TestAnchoringOnRealChains runs the whole anchoring path (deploy, authorise,
// anchor batches through Run, verify every receipt over JSON-RPC) on both
// kinds of real chain: the in-process dev node and a geth --dev process.
func TestAnchoringOnRealChains(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(ctx context.Context, t *testing.T) testnet.Chain
	}{
		{"in-process", func(ctx context.Context, t *testing.T) testnet.Chain {
			c, err := testnet.New(ctx, testnet.Config{DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"geth --dev", func(ctx context.Context, t *testing.T) testnet.Chain {
			g, err := testnet.StartGeth(ctx, testnet.GethConfig{})
			if err != nil {
				t.Fatal(err)
			}
			return g
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			chain := tc.start(ctx, t)
			defer chain.Close()
			client := chain.Client()
			c, err := testnet.DeployConsortium(ctx, chain)
			if err != nil {
				t.Fatal(err)
			}
			reg, nodeKey := c.Registry, c.NodeKey

			st := openStore(t, t.TempDir())
			confirmed := make(chan *store.Batch, 8)
			a, err := anchor.New(anchor.Config{
				Backend: client, Store: st, Registry: reg, Key: nodeKey,
				PollInterval: 50 * time.Millisecond,
				OnConfirmed:  func(b *store.Batch) { confirmed <- b },
			})
			if err != nil {
				t.Fatal(err)
			}
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- a.Run(runCtx) }()

			type batch struct {
				tree    *merkle.Tree
				digests []merkle.Hash
			}
			var batches []batch
			for i, n := range []int{1, 2, 1000} {
				tree, ds := newBatch(t, st, n, tc.name+string(rune('a'+i)))
				batches = append(batches, batch{tree, ds})
				a.Notify()
			}
			got := map[merkle.Hash]*store.Batch{}
			for len(got) < len(batches) {
				select {
				case b := <-confirmed:
					got[b.Root] = b
				case <-ctx.Done():
					t.Fatalf("%d of %d batches confirmed before the deadline", len(got), len(batches))
				}
			}
			stop()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v", err)
			}

			for _, bt := range batches {
				b := got[bt.tree.Root()]
				t.Logf("batch of %d anchored in block %d, gas %d", b.Size, b.BlockNumber, b.GasUsed)
				at := anchor.AnchorInfo{ChainID: chain.ChainID().Uint64(), Contract: reg, TxHash: b.TxHash, BlockNumber: b.BlockNumber, Member: b.Member}
				for i := 0; i < len(bt.digests); i += 1 + len(bt.digests)/50 {
					r, err := anchor.NewReceipt(bt.tree, uint64(i), bt.digests[i], at)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := anchor.VerifyReceipt(ctx, client, r, bt.digests[i]); err != nil {
						t.Fatalf("batch of %d, leaf %d: %v", b.Size, i, err)
					}
				}
			}
			// Gas does not grow with the batch: only the size's calldata
			// bytes differ (12 gas for each byte that is no longer zero).
			small, large := got[batches[0].tree.Root()].GasUsed, got[batches[2].tree.Root()].GasUsed
			if large > small+2*12 {
				t.Errorf("anchor gas grows with the batch size: %d for 1 leaf, %d for 1000", small, large)
			}
		})
	}
}
