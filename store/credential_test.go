package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestAddCredentialQueuesOnce(t *testing.T) {
	dir := t.TempDir()
	s := openTemp(t, dir)
	ds := digests(3, "cred")
	at := time.Unix(1700000000, 0)
	for i, d := range ds {
		rec, created, err := s.AddCredential(d, fmt.Sprintf("did:web:issuer%d", i), at)
		if err != nil || !created || rec.Digest != d || rec.Batched {
			t.Fatalf("AddCredential(%d) = %+v, %v, %v", i, rec, created, err)
		}
	}
	// The same digest again is the same credential.
	rec, created, err := s.AddCredential(ds[1], "did:web:other", at.Add(time.Hour))
	if err != nil || created || rec.Issuer != "did:web:issuer1" || !rec.SubmittedAt.Equal(at) {
		t.Fatalf("resubmission = %+v, created %v, %v; want the first record", rec, created, err)
	}
	q, err := s.Pending(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 3 {
		t.Fatalf("queue has %d entries, want 3", len(q))
	}
	for i := range q {
		if q[i].Digest != ds[i] {
			t.Errorf("queue[%d] = %x, want %x (arrival order)", i, q[i].Digest, ds[i])
		}
	}

	// Reopen: the queue and its sequence survive.
	s.Close()
	s = openTemp(t, dir)
	if n, err := s.PendingCount(); err != nil || n != 3 {
		t.Fatalf("PendingCount after reopen = %d, %v; want 3", n, err)
	}
	extra := digests(1, "after-reopen")[0]
	if _, _, err := s.AddCredential(extra, "", at); err != nil {
		t.Fatal(err)
	}
	q, _ = s.Pending(10)
	if len(q) != 4 || q[3].Digest != extra || q[3].Seq <= q[2].Seq {
		t.Fatalf("after reopen the new digest is not last in the queue: %+v", q)
	}
}

func TestCutBatchIsAtomicAndExactlyOnce(t *testing.T) {
	s := openTemp(t, t.TempDir())
	ds := digests(5, "cut")
	for _, d := range ds {
		if _, _, err := s.AddCredential(d, "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	q, _ := s.Pending(3)
	b := &Batch{Root: digests(1, "root")[0], Size: 3, CreatedAt: time.Now()}
	if err := s.CutBatch(b, q); err != nil {
		t.Fatal(err)
	}
	rest, _ := s.Pending(10)
	if len(rest) != 2 || rest[0].Digest != ds[3] {
		t.Fatalf("queue after the cut = %+v, want the last two digests", rest)
	}
	for i := range 3 {
		c, err := s.Credential(ds[i])
		if err != nil || !c.Batched || c.BatchRoot != b.Root || c.LeafIndex != uint64(i) {
			t.Fatalf("credential %d after the cut = %+v, %v", i, c, err)
		}
	}
	got, err := s.BatchDigests(b.Root)
	if err != nil || len(got) != 3 || got[2] != ds[2] {
		t.Fatalf("BatchDigests = %v, %v", got, err)
	}
	// The same entries cannot join a second batch.
	b2 := &Batch{Root: digests(1, "root2")[0], Size: 3, CreatedAt: time.Now()}
	if err := s.CutBatch(b2, q); err == nil {
		t.Fatal("a digest joined two batches")
	}
	if _, err := s.Batch(b2.Root); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the refused batch was stored: %v", err)
	}
	if err := s.CutBatch(&Batch{Root: b2.Root, Size: 2}, rest[:1]); err == nil {
		t.Fatal("CutBatch accepted a size that does not match the entries")
	}
}

func TestConcurrentSubmissionsOfOneDigest(t *testing.T) {
	s := openTemp(t, t.TempDir())
	d := digests(1, "race")[0]
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, c, err := s.AddCredential(d, "", time.Now())
			if err != nil {
				t.Error(err)
			}
			if c {
				mu.Lock()
				created++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n, _ := s.PendingCount(); created != 1 || n != 1 {
		t.Fatalf("32 concurrent submissions of one digest: %d created, %d queued; want 1 and 1", created, n)
	}
}

func BenchmarkAddCredentialParallel(b *testing.B) {
	s, err := Open(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var mu sync.Mutex
	i := 0
	b.SetParallelism(32) // 64 writers on two cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			i++
			n := i
			mu.Unlock()
			if _, _, err := s.AddCredential(digests(1, fmt.Sprint(n))[0], "", time.Now()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creds/s")
}

func TestAddCredentialsInOneWrite(t *testing.T) {
	s := openTemp(t, t.TempDir())
	ds := digests(4, "many")
	if _, _, err := s.AddCredential(ds[0], "first", time.Now()); err != nil {
		t.Fatal(err)
	}
	entries := []NewCredential{{ds[0], "again"}, {ds[1], "a"}, {ds[2], "b"}, {ds[1], "dup"}, {ds[3], "c"}}
	recs, created, err := s.AddCredentials(entries, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wantCreated := []bool{false, true, true, false, true}
	for i := range entries {
		if created[i] != wantCreated[i] || recs[i].Digest != entries[i].Digest {
			t.Errorf("entry %d: created %v (want %v), record %x", i, created[i], wantCreated[i], recs[i].Digest)
		}
	}
	if recs[0].Issuer != "first" || recs[3].Issuer != "a" {
		t.Errorf("existing records were overwritten: %q, %q", recs[0].Issuer, recs[3].Issuer)
	}
	q, _ := s.Pending(10)
	if len(q) != 4 {
		t.Fatalf("queue has %d digests, want 4", len(q))
	}
	for i, d := range ds {
		if q[i].Digest != d {
			t.Errorf("queue[%d] = %x, want %x", i, q[i].Digest, d)
		}
	}
}
