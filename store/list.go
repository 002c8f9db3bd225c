package store

import (
	"bytes"
	"container/heap"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// batchLower and batchUpper bound every batch record key (b/<root>).
var batchLower, batchUpper = []byte{prefixBatch, '/'}, []byte{prefixBatch, '/' + 1}

// RecentBatches returns up to limit batches, newest (by CreatedAt) first;
// batches created at the same instant are ordered by root.
//
// Batch keys are ordered by root, not by time, so this reads every batch
// record and keeps the newest limit in a heap: O(batches) reads, O(limit)
// memory. A time-ordered index would make it O(limit) if the number of
// batches ever makes that matter.
func (s *Store) RecentBatches(limit int) ([]*Batch, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	if limit <= 0 {
		return nil, nil
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: batchLower, UpperBound: batchUpper})
	if err != nil {
		return nil, fmt.Errorf("store: iterate batches: %w", err)
	}
	h := &oldestFirst{}
	for it.First(); it.Valid(); it.Next() {
		if len(it.Key()) != len(batchLower)+32 {
			it.Close()
			return nil, fmt.Errorf("%w: batch key %x", ErrCorrupt, it.Key())
		}
		var b Batch
		if err := decodeJSON(it.Value(), &b); err != nil {
			it.Close()
			return nil, err
		}
		if h.Len() < limit {
			heap.Push(h, &b)
		} else if newer(&b, (*h)[0]) {
			(*h)[0] = &b
			heap.Fix(h, 0)
		}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("store: iterate batches: %w", err)
	}
	out := make([]*Batch, h.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(h).(*Batch)
	}
	return out, nil
}

// newer orders batches by creation time, then by root so that the order is
// total and stable across calls.
func newer(a, b *Batch) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return bytes.Compare(a.Root[:], b.Root[:]) > 0
}

// oldestFirst is a min-heap of batches: its root is the oldest one kept, the
// first to drop when a newer batch turns up.
type oldestFirst []*Batch

func (h oldestFirst) Len() int           { return len(h) }
func (h oldestFirst) Less(i, j int) bool { return newer(h[j], h[i]) }
func (h oldestFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *oldestFirst) Push(x any)        { *h = append(*h, x.(*Batch)) }
func (h *oldestFirst) Pop() any {
	old := *h
	b := old[len(old)-1]
	*h = old[:len(old)-1]
	return b
}
