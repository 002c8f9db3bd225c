package store

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

func openTemp(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func digests(n int, seed string) [][32]byte {
	out := make([][32]byte, n)
	for i := range out {
		out[i] = sha256.Sum256(fmt.Appendf(nil, "%s-%d", seed, i))
	}
	return out
}

func TestBatchLifecycle(t *testing.T) {
	dir := t.TempDir()
	s := openTemp(t, dir)
	ds := digests(5, "a")
	b := &Batch{Root: sha256.Sum256([]byte("root-a")), Size: 5, CreatedAt: time.Unix(1700000000, 0).UTC()}
	if err := s.CreateBatch(b, ds); err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	if err := s.CreateBatch(b, ds); !errors.Is(err, ErrExists) {
		t.Fatalf("second CreateBatch: got %v, want ErrExists", err)
	}
	pending, err := s.BatchesInState(BatchPending)
	if err != nil || len(pending) != 1 || pending[0].Root != b.Root {
		t.Fatalf("BatchesInState(pending) = %v, %v; want the new batch", pending, err)
	}

	b.State = BatchConfirmed
	b.TxHash = sha256.Sum256([]byte("tx"))
	b.BlockNumber = 42
	if err := s.UpdateBatch(b); err != nil {
		t.Fatalf("UpdateBatch: %v", err)
	}
	for _, tc := range []struct {
		state BatchState
		want  int
	}{{BatchPending, 0}, {BatchSent, 0}, {BatchConfirmed, 1}, {BatchFailed, 0}} {
		got, err := s.BatchesInState(tc.state)
		if err != nil || len(got) != tc.want {
			t.Errorf("BatchesInState(%v) = %d batches, %v; want %d", tc.state, len(got), err, tc.want)
		}
	}

	// Everything survives a reopen.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s = openTemp(t, dir)
	got, err := s.Batch(b.Root)
	if err != nil {
		t.Fatalf("Batch after reopen: %v", err)
	}
	if got.State != BatchConfirmed || got.BlockNumber != 42 || got.TxHash != b.TxHash || !got.CreatedAt.Equal(b.CreatedAt) {
		t.Errorf("Batch after reopen = %+v, want %+v", got, b)
	}
	gotDs, err := s.BatchDigests(b.Root)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotDs) != len(ds) {
		t.Fatalf("BatchDigests: got %d, want %d", len(gotDs), len(ds))
	}
	for i := range ds {
		if gotDs[i] != ds[i] {
			t.Errorf("digest %d: got %x, want %x", i, gotDs[i], ds[i])
		}
	}
}

func TestErrors(t *testing.T) {
	s := openTemp(t, t.TempDir())
	missing := sha256.Sum256([]byte("missing"))
	if _, err := s.Batch(missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("Batch(missing): got %v, want ErrNotFound", err)
	}
	if _, err := s.BatchDigests(missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("BatchDigests(missing): got %v, want ErrNotFound", err)
	}
	if err := s.UpdateBatch(&Batch{Root: missing, Size: 1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateBatch(missing): got %v, want ErrNotFound", err)
	}
	if err := s.CreateBatch(&Batch{Root: missing, Size: 2}, digests(1, "x")); err == nil {
		t.Error("CreateBatch with size != len(digests) succeeded")
	}
	s.Close()
	if _, err := s.Batch(missing); !errors.Is(err, ErrClosed) {
		t.Errorf("Batch after Close: got %v, want ErrClosed", err)
	}
	if _, err := s.BatchesInState(BatchPending); !errors.Is(err, ErrClosed) {
		t.Errorf("BatchesInState after Close: got %v, want ErrClosed", err)
	}
	if _, err := Open(Config{}); err == nil {
		t.Error("Open without Dir succeeded")
	}
}

func TestSchemaVersionChecked(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(metaKey("schema"), binary.BigEndian.AppendUint32(nil, schemaVersion+1), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(Config{Dir: dir}); !errors.Is(err, ErrSchema) {
		t.Fatalf("Open of a newer schema: got %v, want ErrSchema", err)
	}
}

func TestBatchStateText(t *testing.T) {
	for _, st := range []BatchState{BatchPending, BatchSent, BatchConfirmed, BatchFailed} {
		txt, err := st.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back BatchState
		if err := back.UnmarshalText(txt); err != nil || back != st {
			t.Errorf("round trip of %v: got %v, %v", st, back, err)
		}
	}
	var bad BatchState
	if err := bad.UnmarshalText([]byte("nope")); err == nil {
		t.Error("UnmarshalText(nope) succeeded")
	}
	if _, err := BatchState(99).MarshalText(); err == nil {
		t.Error("MarshalText(99) succeeded")
	}
}
