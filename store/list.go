package store

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// RecentBatches returns up to limit batches, newest (by CreatedAt) first;
// batches created at the same instant are ordered by root, highest first.
// It reads the time index backwards, so it costs O(limit) whatever the
// number of batches.
func (s *Store) RecentBatches(limit int) ([]*Batch, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	if limit <= 0 {
		return nil, nil
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: timeLower, UpperBound: timeUpper})
	if err != nil {
		return nil, fmt.Errorf("store: iterate batches: %w", err)
	}
	var roots [][32]byte
	for it.Last(); it.Valid() && len(roots) < limit; it.Prev() {
		k := it.Key()
		if len(k) != len(timeLower)+8+32 {
			it.Close()
			return nil, fmt.Errorf("%w: batch time key %x", ErrCorrupt, k)
		}
		var r [32]byte
		copy(r[:], k[len(timeLower)+8:])
		roots = append(roots, r)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("store: iterate batches: %w", err)
	}
	return s.batches(roots)
}
