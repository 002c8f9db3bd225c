package store

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

func TestRecentBatches(t *testing.T) {
	s := openTemp(t, t.TempDir())
	base := time.Unix(1700000000, 0).UTC()
	// Roots are random with respect to time, so key order is not time order.
	const n = 12
	for i := range n {
		b := &Batch{Root: sha256.Sum256(fmt.Appendf(nil, "root-%d", i)), Size: 1, CreatedAt: base.Add(time.Duration(i) * time.Minute)}
		if err := s.CreateBatch(b, digests(1, fmt.Sprint(i))); err != nil {
			t.Fatalf("CreateBatch: %v", err)
		}
	}
	for _, limit := range []int{0, 1, 5, n, n + 10} {
		got, err := s.RecentBatches(limit)
		if err != nil {
			t.Fatalf("RecentBatches(%d): %v", limit, err)
		}
		if want := min(limit, n); len(got) != want {
			t.Fatalf("RecentBatches(%d): got %d batches, want %d", limit, len(got), want)
		}
		for i, b := range got {
			if want := base.Add(time.Duration(n-1-i) * time.Minute); !b.CreatedAt.Equal(want) {
				t.Errorf("RecentBatches(%d)[%d]: created %v, want %v (newest first)", limit, i, b.CreatedAt, want)
			}
		}
	}
	s.Close()
	if _, err := s.RecentBatches(1); err != ErrClosed {
		t.Errorf("after Close: got %v, want ErrClosed", err)
	}
}
