package store

import (
	"errors"
	"testing"
	"time"
)

// TestAddForeignBatch: another member's batch is stored confirmed and
// foreign, with a record for each digest at its leaf; a digest this node
// holds keeps its own record; the same root twice is refused; all of it
// survives a reopen.
func TestAddForeignBatch(t *testing.T) {
	dir := t.TempDir()
	s := openTemp(t, dir)
	own := digests(1, "own")[0]
	if _, _, err := s.AddCredential(own, "did:example:us", time.Now()); err != nil {
		t.Fatal(err)
	}
	ds := append(digests(3, "theirs"), own)
	b := &Batch{Root: [32]byte{7}, Size: uint64(len(ds)), CreatedAt: time.Unix(1700000000, 0).UTC(), BlockNumber: 42,
		BlockTime: time.Unix(1700000100, 0).UTC(), Member: [20]byte{9}, TxHash: [32]byte{3}}
	if err := s.AddForeignBatch(b, ds); err != nil {
		t.Fatal(err)
	}
	if err := s.AddForeignBatch(b, ds); !errors.Is(err, ErrExists) {
		t.Errorf("the same batch again: %v, want ErrExists", err)
	}
	if err := s.AddForeignBatch(&Batch{Root: [32]byte{8}, Size: 2}, ds); err == nil {
		t.Error("a batch whose size is not its digests' count was stored")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTemp(t, dir)
	got, err := s.Batch(b.Root)
	if err != nil || got.State != BatchConfirmed || !got.Foreign || got.BlockNumber != 42 || got.Member != b.Member {
		t.Fatalf("batch %+v, %v", got, err)
	}
	back, err := s.BatchDigests(b.Root)
	if err != nil || len(back) != len(ds) || back[3] != own {
		t.Fatalf("digests %d, %v", len(back), err)
	}
	for i, d := range ds[:3] {
		c, err := s.Credential(d)
		if err != nil || !c.Batched || c.BatchRoot != b.Root || c.LeafIndex != uint64(i) {
			t.Errorf("record of leaf %d: %+v, %v", i, c, err)
		}
	}
	if c, err := s.Credential(own); err != nil || c.Batched || c.Issuer != "did:example:us" {
		t.Errorf("own record: %+v, %v; want it untouched", c, err)
	}
}

// BenchmarkAddForeignBatch1M stores a foreign batch of 1,000,000 digests,
// as catching up with a peer does.
func BenchmarkAddForeignBatch1M(b *testing.B) {
	ds := digests(1_000_000, "bench")
	i := 0
	for b.Loop() {
		b.StopTimer()
		s, err := Open(Config{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		i++
		b.StartTimer()
		if err := s.AddForeignBatch(&Batch{Root: [32]byte{byte(i)}, Size: uint64(len(ds))}, ds); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}
