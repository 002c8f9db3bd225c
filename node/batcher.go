package node

import (
	"container/list"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/store"
)

// batchLoop closes a batch whenever MaxBatchSize digests wait or the oldest
// has waited MaxBatchWait, until ctx ends.
func (n *Node) batchLoop(ctx context.Context) error {
	backoff := time.Second
	for {
		wait, err := n.cutReady(time.Now())
		if err != nil {
			n.log.ErrorContext(ctx, "closing a batch failed", slog.Any("error", err))
			wait = backoff
			backoff = min(2*backoff, time.Minute)
		} else {
			backoff = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-n.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// idleWait is how long the batcher sleeps with an empty queue; a submission
// that fills a batch wakes it sooner.
const idleWait = time.Hour

// cutReady closes every batch that is due at now and returns how long to
// wait for the next one.
func (n *Node) cutReady(now time.Time) (time.Duration, error) {
	for {
		entries, err := n.st.Pending(n.cfg.MaxBatchSize)
		if err != nil {
			return 0, err
		}
		if len(entries) == 0 {
			return idleWait, nil
		}
		if len(entries) < n.cfg.MaxBatchSize {
			oldest, err := n.st.Credential(entries[0].Digest)
			if err != nil {
				return 0, err
			}
			if due := oldest.SubmittedAt.Add(n.cfg.MaxBatchWait); due.After(now) {
				return due.Sub(now), nil
			}
		}
		if err := n.cut(entries); err != nil {
			return 0, err
		}
	}
}

// cut builds the tree over entries, in queue order, and stores the batch in
// one synced write with the queue entries it consumes; only then does the
// anchorer hear of it.
func (n *Node) cut(entries []store.QueuedDigest) error {
	hs := make([]merkle.Hash, len(entries))
	for i, e := range entries {
		hs[i] = e.Digest
	}
	tree, err := merkle.New(hs)
	if err != nil {
		return err
	}
	b := &store.Batch{Root: tree.Root(), Size: tree.Size(), CreatedAt: time.Now().UTC()}
	if err := n.st.CutBatch(b, entries); err != nil {
		return err
	}
	n.trees.put(b.Root, tree)
	n.noteCut(b, entries)
	n.mu.Lock()
	n.pending -= len(entries)
	n.metrics.pending.Set(float64(n.pending))
	n.mu.Unlock()
	n.metrics.batchSize.Observe(float64(b.Size))
	n.log.Info("batch closed", slog.String("root", tree.Root().String()), slog.Uint64("size", b.Size))
	n.anchorer.Notify()
	return nil
}

// lru keeps the values of the most recently used batch roots: the trees
// of fresh batches, whose receipts are asked for soon after, and the records
// of confirmed batches, which every credential query reads.
type lru[V any] struct {
	mu    sync.Mutex
	max   int
	order *list.List // of [32]byte, most recent first
	elems map[[32]byte]*list.Element
	vals  map[[32]byte]V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, order: list.New(), elems: map[[32]byte]*list.Element{}, vals: map[[32]byte]V{}}
}

func (c *lru[V]) get(root [32]byte) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.elems[root]
	if ok {
		c.order.MoveToFront(e)
	}
	return c.vals[root], ok
}

func (c *lru[V]) put(root [32]byte, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.vals[root] = v
	if e, ok := c.elems[root]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.elems[root] = c.order.PushFront(root)
	for c.order.Len() > c.max {
		last := c.order.Back()
		r := last.Value.([32]byte)
		c.order.Remove(last)
		delete(c.elems, r)
		delete(c.vals, r)
	}
}

func (c *lru[V]) remove(root [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.elems[root]; ok {
		c.order.Remove(e)
		delete(c.elems, root)
		delete(c.vals, root)
	}
}
