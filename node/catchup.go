package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/store"
)

// Catch-up pacing.
const (
	// catchUpRange is how many blocks one FilterLogs call reads.
	catchUpRange = 5000
	// catchUpInterval is how often a node looks for anchors it missed
	// (gossip reaches only the nodes that are up).
	catchUpInterval = 30 * time.Second
	// catchUpCheckpoint is the store's meta entry of the last block read.
	catchUpCheckpoint = "p2p/checkpoint"
)

// ErrNoPeerHas: no connected peer could give a batch the chain says was
// anchored; the catch-up tries again later.
var ErrNoPeerHas = errors.New("node: no peer has the batch")

// runCatchUp catches up at start and every catchUpInterval; after a
// failure (no peer connected yet, say) it tries again sooner, from a second
// doubling up to the interval.
func (n *Node) runCatchUp(ctx context.Context) {
	retry := time.Second
	for {
		wait := catchUpInterval
		if _, err := n.CatchUp(ctx); err != nil && ctx.Err() == nil {
			// Right after a start peers are still connecting: only a
			// failure that outlasts the backoff is worth a warning.
			level := slog.LevelDebug
			if retry == catchUpInterval {
				level = slog.LevelWarn
			}
			n.log.Log(ctx, level, "catching up", slog.Any("error", err))
			wait, retry = retry, min(2*retry, catchUpInterval)
		} else {
			retry = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// CatchUp reads the registry's Anchored events since the last checkpoint
// and fetches, from any connected peer, every other member's batch the
// store lacks, checking that its digests rebuild the anchored root. It
// returns how many batches it stored. The checkpoint moves only past
// blocks whose batches are all stored.
func (n *Node) CatchUp(ctx context.Context) (int, error) {
	if n.host == nil {
		return 0, nil
	}
	n.catchUpMu.Lock()
	defer n.catchUpMu.Unlock()
	var from uint64
	if b, err := n.st.Meta(catchUpCheckpoint); err == nil && len(b) == 8 {
		from = binary.BigEndian.Uint64(b) + 1
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	head, err := n.cfg.Chain.HeaderByNumber(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("node: head: %w", err)
	}
	own, err := n.anchorer.Member(ctx)
	if err != nil {
		return 0, err
	}
	reg := registry.NewRegistry()
	topic := reg.GetABI().Events["Anchored"].ID
	fetched := 0
	for start := from; start <= head.Number.Uint64(); start += catchUpRange {
		end := min(start+catchUpRange-1, head.Number.Uint64())
		logs, err := n.cfg.Chain.FilterLogs(ctx, ethereum.FilterQuery{
			FromBlock: new(big.Int).SetUint64(start), ToBlock: new(big.Int).SetUint64(end),
			Addresses: []common.Address{n.cfg.Registry}, Topics: [][]common.Hash{{topic}},
		})
		if err != nil {
			return fetched, fmt.Errorf("node: registry events of blocks %d–%d: %w", start, end, err)
		}
		// The batches of the range this node lacks, in chain order.
		type missing struct {
			ev    *registry.RegistryAnchored
			tx    common.Hash
			block uint64
		}
		var todo []missing
		for _, l := range logs {
			ev, err := reg.UnpackAnchoredEvent(&l)
			if err != nil || ev.Member == own {
				continue
			}
			if _, err := n.st.Batch(ev.Root); err == nil {
				continue
			}
			todo = append(todo, missing{ev, l.TxHash, l.BlockNumber})
		}
		for i, m := range todo {
			n.metrics.catchUpRemaining.Set(float64(len(todo) - i))
			if err := n.fetchFromAnyPeer(ctx, m.ev, m.tx, m.block); err != nil {
				// Keep the checkpoint before this block, to try again.
				if m.block > 0 {
					_ = n.setCheckpoint(m.block - 1)
				}
				return fetched, err
			}
			fetched++
			n.metrics.catchUpBatches.Inc()
			if fetched%100 == 0 {
				n.log.Info("catching up", slog.Int("batches", fetched), slog.Int("remaining in range", len(todo)-i-1), slog.Uint64("block", m.block))
			}
		}
		n.metrics.catchUpRemaining.Set(0)
		if err := n.setCheckpoint(end); err != nil {
			return fetched, err
		}
	}
	if fetched > 0 {
		n.log.Info("caught up", slog.Int("batches", fetched), slog.Uint64("block", head.Number.Uint64()))
	}
	return fetched, nil
}

func (n *Node) fetchFromAnyPeer(ctx context.Context, ev *registry.RegistryAnchored, tx common.Hash, block uint64) error {
	var errs []error
	for _, p := range n.host.Peers() {
		err := n.consortium.fetchBatch(ctx, p, ev.Root, ev.Size, ev.Member, tx, block)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("%w: root %x of %s: %w", ErrNoPeerHas, ev.Root, ev.Member, errors.Join(errs...))
}

func (n *Node) setCheckpoint(block uint64) error {
	return n.st.SetMeta(catchUpCheckpoint, binary.BigEndian.AppendUint64(nil, block))
}
