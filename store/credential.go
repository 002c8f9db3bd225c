package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Credential is the node's record of a submitted credential. Whether it is
// anchored is its batch's state: the record only says which batch and leaf.
type Credential struct {
	Digest      [32]byte
	Issuer      string
	SubmittedAt time.Time
	// Batched is false while the credential waits in the pending queue.
	Batched   bool
	BatchRoot [32]byte
	LeafIndex uint64
}

// credentialV1 is the first byte of an encoded credential record. Records
// are read on every query, so they are a fixed binary layout rather than
// JSON:
//
//	version(1) batched(1) digest(32) batchRoot(32) leafIndex(8) submittedAt(8, Unix ns) issuer(rest)
const credentialV1 = 1

const credentialFixed = 1 + 1 + 32 + 32 + 8 + 8

func (c *Credential) marshal() []byte {
	b := make([]byte, credentialFixed, credentialFixed+len(c.Issuer))
	b[0] = credentialV1
	if c.Batched {
		b[1] = 1
	}
	copy(b[2:], c.Digest[:])
	copy(b[34:], c.BatchRoot[:])
	binary.BigEndian.PutUint64(b[66:], c.LeafIndex)
	binary.BigEndian.PutUint64(b[74:], uint64(c.SubmittedAt.UnixNano()))
	return append(b, c.Issuer...)
}

func (c *Credential) unmarshal(b []byte) error {
	if len(b) < credentialFixed || b[0] != credentialV1 || b[1] > 1 {
		return fmt.Errorf("%w: credential record of %d bytes", ErrCorrupt, len(b))
	}
	c.Batched = b[1] == 1
	copy(c.Digest[:], b[2:])
	copy(c.BatchRoot[:], b[34:])
	c.LeafIndex = binary.BigEndian.Uint64(b[66:])
	c.SubmittedAt = time.Unix(0, int64(binary.BigEndian.Uint64(b[74:]))).UTC()
	c.Issuer = string(b[credentialFixed:])
	return nil
}

// queue is the in-memory view of the pending queue's sequence numbers.
type queue struct {
	mu   sync.Mutex
	next uint64 // the sequence number of the next queued digest
	// head is the lowest sequence number not yet cut into a batch; batches
	// are cut from the head of the queue, so an entry below it was consumed.
	head uint64
}

// stripes serialise the check-then-write of one digest without serialising
// different digests, so that concurrent submissions still share WAL syncs.
const stripes = 256

func (s *Store) stripe(d [32]byte) *sync.Mutex { return &s.stripeMu[d[0]] }

// loadQueue recovers the next sequence number from the last queued entry.
func (s *Store) loadQueue() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: queueLower, UpperBound: queueUpper})
	if err != nil {
		return fmt.Errorf("store: iterate queue: %w", err)
	}
	defer it.Close()
	seqAt := func() (uint64, error) {
		k := it.Key()
		if len(k) != len(queueLower)+8 {
			return 0, fmt.Errorf("%w: queue key %x", ErrCorrupt, k)
		}
		return binary.BigEndian.Uint64(k[len(queueLower):]), nil
	}
	if !it.Last() {
		return nil
	}
	last, err := seqAt()
	if err != nil {
		return err
	}
	it.First()
	first, err := seqAt()
	if err != nil {
		return err
	}
	s.queue.next, s.queue.head = last+1, first
	return nil
}

// AddCredential durably records a submitted credential and queues its digest
// for the next batch. A digest already recorded is the same credential:
// AddCredential then returns the existing record and created false, and
// queues nothing.
func (s *Store) AddCredential(digest [32]byte, issuer string, at time.Time) (rec *Credential, created bool, err error) {
	if s.db == nil {
		return nil, false, ErrClosed
	}
	mu := s.stripe(digest)
	mu.Lock()
	defer mu.Unlock()
	if rec, err := s.Credential(digest); err == nil {
		return rec, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	rec = &Credential{Digest: digest, Issuer: issuer, SubmittedAt: at.UTC()}
	enc := rec.marshal()
	s.queue.mu.Lock()
	seq := s.queue.next
	s.queue.next++
	s.queue.mu.Unlock()
	wb := s.db.NewBatch()
	defer wb.Close()
	if err := wb.Set(credentialKey(digest), enc, nil); err != nil {
		return nil, false, err
	}
	if err := wb.Set(queueKey(seq), enc, nil); err != nil {
		return nil, false, err
	}
	// Pebble groups the WAL syncs of concurrent commits, so many
	// submissions in flight share one fsync.
	if err := wb.Commit(pebble.Sync); err != nil {
		return nil, false, fmt.Errorf("store: add credential: %w", err)
	}
	return rec, true, nil
}

// Credential returns the record of a digest, or ErrNotFound.
func (s *Store) Credential(digest [32]byte) (*Credential, error) {
	data, err := s.get(credentialKey(digest))
	if err != nil {
		return nil, err
	}
	var c Credential
	if err := c.unmarshal(data); err != nil {
		return nil, err
	}
	return &c, nil
}

// QueuedDigest is a digest in the pending queue, with the record it was
// queued with, so that cutting a batch reads nothing more.
type QueuedDigest struct {
	Seq    uint64
	Digest [32]byte
	Record Credential
}

// Pending returns up to limit digests from the head of the pending queue,
// oldest first, and the total number queued is not computed here; see
// PendingCount.
func (s *Store) Pending(limit int) ([]QueuedDigest, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: queueLower, UpperBound: queueUpper})
	if err != nil {
		return nil, fmt.Errorf("store: iterate queue: %w", err)
	}
	defer it.Close()
	var out []QueuedDigest
	for it.First(); it.Valid() && len(out) < limit; it.Next() {
		k := it.Key()
		if len(k) != len(queueLower)+8 {
			return nil, fmt.Errorf("%w: queue entry %x", ErrCorrupt, k)
		}
		q := QueuedDigest{Seq: binary.BigEndian.Uint64(k[len(queueLower):])}
		if err := q.Record.unmarshal(it.Value()); err != nil {
			return nil, fmt.Errorf("queue entry %d: %w", q.Seq, err)
		}
		q.Digest = q.Record.Digest
		out = append(out, q)
	}
	return out, it.Error()
}

// CutBatch atomically turns queued digests into a batch: it stores the batch
// (in BatchPending) with its digests in the order given, points each
// credential at its batch and leaf, and removes the entries from the queue,
// all in one synced write. A digest therefore leaves the queue exactly when
// it joins a batch, and can never join two.
func (s *Store) CutBatch(b *Batch, entries []QueuedDigest) error {
	if s.db == nil {
		return ErrClosed
	}
	if uint64(len(entries)) != b.Size || b.Size == 0 {
		return fmt.Errorf("store: batch of size %d with %d digests", b.Size, len(entries))
	}
	b.State = BatchPending
	rec, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("store: encode batch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.get(batchKey(b.Root)); err == nil {
		return fmt.Errorf("%w: batch %x", ErrExists, b.Root)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	wb := s.db.NewBatch()
	defer wb.Close()
	flat := make([]byte, 0, 32*len(entries))
	s.queue.mu.Lock()
	head := s.queue.head
	s.queue.mu.Unlock()
	for i, e := range entries {
		// Entries come from the head of the queue in order; one below the
		// head, or out of order, was consumed by an earlier batch.
		if e.Seq < head || (i > 0 && e.Seq <= entries[i-1].Seq) {
			return fmt.Errorf("store: queue entry %d of digest %x is not at the head of the queue", e.Seq, e.Digest)
		}
		c := e.Record
		c.Batched, c.BatchRoot, c.LeafIndex = true, b.Root, uint64(i)
		if err := wb.Set(credentialKey(e.Digest), c.marshal(), nil); err != nil {
			return err
		}
		if err := wb.Delete(queueKey(e.Seq), nil); err != nil {
			return err
		}
		flat = append(flat, e.Digest[:]...)
	}
	if err := putBatch(wb, b, rec, flat); err != nil {
		return err
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: cut batch: %w", err)
	}
	s.queue.mu.Lock()
	s.queue.head = entries[len(entries)-1].Seq + 1
	s.queue.mu.Unlock()
	return nil
}

// PendingCount counts the digests in the pending queue.
func (s *Store) PendingCount() (int, error) {
	if s.db == nil {
		return 0, ErrClosed
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: queueLower, UpperBound: queueUpper})
	if err != nil {
		return 0, fmt.Errorf("store: iterate queue: %w", err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n, it.Error()
}

// NewCredential is a credential to record with AddCredentials.
type NewCredential struct {
	Digest [32]byte
	Issuer string
}

// AddCredentials records many credentials in one synced write, queueing
// each new digest in the order given. It answers like AddCredential for each
// entry; a digest given twice is created once.
func (s *Store) AddCredentials(entries []NewCredential, at time.Time) (recs []*Credential, created []bool, err error) {
	if s.db == nil {
		return nil, nil, ErrClosed
	}
	// Lock every stripe involved, in ascending order so that concurrent
	// callers cannot deadlock.
	var need [stripes]bool
	for _, e := range entries {
		need[e.Digest[0]] = true
	}
	for i := range need {
		if need[i] {
			s.stripeMu[i].Lock()
			defer s.stripeMu[i].Unlock()
		}
	}
	recs, created = make([]*Credential, len(entries)), make([]bool, len(entries))
	fresh := map[[32]byte]*Credential{}
	wb := s.db.NewBatch()
	defer wb.Close()
	at = at.UTC()
	for i, e := range entries {
		if rec, ok := fresh[e.Digest]; ok {
			recs[i] = rec
			continue
		}
		rec, err := s.Credential(e.Digest)
		if err == nil {
			recs[i] = rec
			continue
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		rec = &Credential{Digest: e.Digest, Issuer: e.Issuer, SubmittedAt: at}
		s.queue.mu.Lock()
		seq := s.queue.next
		s.queue.next++
		s.queue.mu.Unlock()
		enc := rec.marshal()
		if err := wb.Set(credentialKey(e.Digest), enc, nil); err != nil {
			return nil, nil, err
		}
		if err := wb.Set(queueKey(seq), enc, nil); err != nil {
			return nil, nil, err
		}
		fresh[e.Digest] = rec
		recs[i], created[i] = rec, true
	}
	if len(fresh) == 0 {
		return recs, created, nil
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		return nil, nil, fmt.Errorf("store: add credentials: %w", err)
	}
	return recs, created, nil
}
