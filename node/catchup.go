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
	// DefaultLogRange is how many blocks one FilterLogs call of the
	// catch-up reads when P2PConfig.LogRange is zero.
	DefaultLogRange = 5000
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

// CatchUpProgress is how far a catch-up has come. A catch-up first reads
// the registry's events to count what it lacks, so that the totals are known
// before it fetches; only when more than 65,536 batches are missing does it
// fetch those before reading on, and the totals grow then. A catch-up that
// reads more than one range of blocks (P2PConfig.LogRange) also reports
// after each range it reads: Reading is then set.
type CatchUpProgress struct {
	// Batches and Credentials are what the catch-up has stored, of the
	// TotalBatches and TotalCredentials it found missing.
	Batches, TotalBatches         int
	Credentials, TotalCredentials uint64
	// Block is how far the stored batches reach: the block of the batch
	// stored last, or Scanned once all of a pass's are. Scanned is the last
	// block whose events were read; the totals are final once it reaches
	// HeadBlock, the chain's head when the catch-up began.
	Block, Scanned, HeadBlock uint64
	// Reading: the catch-up is reading events, up to Scanned so far, and
	// the totals are those of the passes before.
	Reading bool
	// Started is when the catch-up began.
	Started time.Time
	// Done: the catch-up has ended, with Err if it failed (and will be
	// tried again).
	Done bool
	Err  error
}

// catchUpMaxPending bounds the missing batches a catch-up keeps in memory
// (about 150 bytes each): with more, it fetches them before reading on.
const catchUpMaxPending = 1 << 16

// missingBatch is a batch the chain names that the store lacks.
type missingBatch struct {
	ev    *registry.RegistryAnchored
	tx    common.Hash
	block uint64
}

// CatchUp reads the registry's Anchored events since the last checkpoint
// and fetches, from any connected peer, every other member's batch the
// store lacks, checking that its digests rebuild the anchored root. It
// returns how many batches it stored. The checkpoint moves only past
// blocks whose batches are all stored. Config.OnCatchUp follows it when
// anything is missing or it reads more than one range of blocks.
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
	p := CatchUpProgress{HeadBlock: head.Number.Uint64(), Started: time.Now()}
	if from > 0 {
		p.Block = from - 1
	}
	// Reading a long chain takes a while before any total is known: that
	// is worth showing too, and then its end, even with nothing missing.
	long := p.HeadBlock >= from && p.HeadBlock-from >= n.logRange
	err = n.catchUp(ctx, from, own, &p, long)
	if p.TotalBatches > 0 || long {
		p.Done, p.Reading, p.Err = true, false, err
		n.reportCatchUp(p)
		if err == nil && p.TotalBatches > 0 {
			n.log.Info("caught up", slog.Int("batches", p.Batches), slog.Uint64("credentials", p.Credentials),
				slog.Uint64("block", p.HeadBlock), slog.Duration("took", time.Since(p.Started)))
		}
	}
	return p.Batches, err
}

// catchUp reads the events of blocks from to p.HeadBlock in passes of at
// most catchUpMaxPending missing batches, and fetches each pass's batches
// before reading on.
func (n *Node) catchUp(ctx context.Context, from uint64, own common.Address, p *CatchUpProgress, long bool) error {
	var onRange func(uint64)
	if long {
		onRange = func(scanned uint64) {
			q := *p
			q.Scanned, q.Reading = scanned, true
			n.reportCatchUp(q)
		}
	}
	for from <= p.HeadBlock {
		todo, scanned, err := n.scanMissing(ctx, from, p.HeadBlock, own, onRange)
		if err != nil {
			return err
		}
		if len(todo) > 0 && len(n.host.Peers()) == 0 {
			// Right after a start no peer is verified yet: wait for one
			// before counting, rather than report a catch-up that stops.
			// What comes before the first missing batch is all here.
			if todo[0].block > from {
				_ = n.setCheckpoint(todo[0].block - 1)
			}
			return fmt.Errorf("%w: no peer connected yet", ErrNoPeerHas)
		}
		p.Scanned = scanned
		p.TotalBatches += len(todo)
		for _, m := range todo {
			p.TotalCredentials += m.ev.Size
		}
		if p.TotalBatches > 0 || long {
			n.reportCatchUp(*p)
		}
		for _, m := range todo {
			if err := n.fetchFromAnyPeer(ctx, m.ev, m.tx, m.block); err != nil {
				// Keep the checkpoint before this block, to try again.
				if m.block > 0 {
					_ = n.setCheckpoint(m.block - 1)
				}
				return err
			}
			p.Batches++
			p.Credentials += m.ev.Size
			p.Block = m.block
			n.metrics.catchUpBatches.Inc()
			n.reportCatchUp(*p)
			if p.Batches%100 == 0 {
				n.log.Info("catching up", slog.Int("batches", p.Batches), slog.Int("total", p.TotalBatches), slog.Uint64("block", m.block))
			}
		}
		if err := n.setCheckpoint(scanned); err != nil {
			return err
		}
		p.Block, from = scanned, scanned+1
	}
	return nil
}

// scanMissing reads the registry's Anchored events of blocks from to head,
// n.logRange blocks a call, and returns the other members' batches the
// store lacks, in chain order, and the last block it read whole. It stops
// before a block that would take the batches past catchUpMaxPending.
// onRange, if not nil, is told the last block of each range read.
func (n *Node) scanMissing(ctx context.Context, from, head uint64, own common.Address, onRange func(uint64)) ([]missingBatch, uint64, error) {
	reg := registry.NewRegistry()
	topic := reg.GetABI().Events["Anchored"].ID
	var todo []missingBatch
	for start := from; start <= head; start += n.logRange {
		end := min(start+n.logRange-1, head)
		logs, err := n.cfg.Chain.FilterLogs(ctx, ethereum.FilterQuery{
			FromBlock: new(big.Int).SetUint64(start), ToBlock: new(big.Int).SetUint64(end),
			Addresses: []common.Address{n.cfg.Registry}, Topics: [][]common.Hash{{topic}},
		})
		if err != nil {
			return nil, 0, fmt.Errorf("node: registry events of blocks %d–%d: %w", start, end, err)
		}
		for _, l := range logs {
			ev, err := reg.UnpackAnchoredEvent(&l)
			if err != nil || ev.Member == own {
				continue
			}
			if _, err := n.st.Batch(ev.Root); err == nil {
				continue
			}
			// A block's batches go in one pass, so that the
			// checkpoint can end the pass before the next block.
			if len(todo) >= catchUpMaxPending && l.BlockNumber != todo[len(todo)-1].block {
				return todo, l.BlockNumber - 1, nil
			}
			todo = append(todo, missingBatch{ev, l.TxHash, l.BlockNumber})
		}
		if onRange != nil && end < head {
			onRange(end)
		}
	}
	return todo, head, nil
}

// reportCatchUp sets the catch-up metrics and tells Config.OnCatchUp.
func (n *Node) reportCatchUp(p CatchUpProgress) {
	n.metrics.catchUpRemaining.Set(float64(p.TotalBatches - p.Batches))
	n.metrics.catchUpRemainingCredentials.Set(float64(p.TotalCredentials - p.Credentials))
	if n.cfg.OnCatchUp != nil {
		n.cfg.OnCatchUp(p)
	}
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
