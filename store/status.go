package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"
)

// Status lists are the W3C Bitstring Status Lists (v1.0) a node keeps for its
// institution. Each purpose has a sequence of lists, "revocation-1",
// "revocation-2", ...; only the last one of a purpose is open for allocation,
// and a new one is opened when it is full. A list holds which indexes were
// handed out, its current bits, the log of its changes numbered by a
// sequence, and the signed versions the node published (statusversion.go).

// The status purposes a node keeps lists for (the statusPurpose of a
// BitstringStatusListEntry).
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
)

// Status list sizes, in entries (bits).
const (
	// DefaultStatusListSize is the spec's minimum, which gives each index
	// herd privacy among 131,072 others while keeping a list credential small.
	DefaultStatusListSize = 131072
	// MinStatusListSize is the smallest size Open accepts: the spec's
	// minimum, below which verifiers refuse the list.
	MinStatusListSize = 131072
	// MaxStatusListSize is the largest size Open accepts, the most that
	// node/statuslist decodes by default (64 Mibit, 8 MiB).
	MaxStatusListSize = 1 << 26
	// MaxStatusReasonLen bounds the reason of a status change, in bytes, so
	// that a caller cannot grow a credential's history without limit.
	MaxStatusReasonLen = 1024
)

var (
	// ErrUnknownStatusList is returned for a list id that names no list. It
	// wraps ErrNotFound.
	ErrUnknownStatusList = fmt.Errorf("%w: status list", ErrNotFound)
	// ErrUnknownStatusPurpose is returned for a purpose other than
	// PurposeRevocation and PurposeSuspension.
	ErrUnknownStatusPurpose = errors.New("store: unknown status purpose")
	// ErrStatusIndexRange is returned for an index at or beyond a list's size.
	ErrStatusIndexRange = errors.New("store: status index out of range")
	// ErrStatusIndexUnallocated is returned when changing the status of an
	// index that AllocateStatus never handed out: setting it would give the
	// status to whichever credential is allocated the index later.
	ErrStatusIndexUnallocated = errors.New("store: status index not allocated")
	// ErrRevocationFinal is returned when clearing a bit of a revocation
	// list: a revoked credential stays revoked.
	ErrRevocationFinal = errors.New("store: revocation is final")
	// ErrStatusUnchanged is returned by SetStatus when the bit already has
	// the value asked for; nothing is recorded.
	ErrStatusUnchanged = errors.New("store: status unchanged")
	// ErrInvalidStatusChange is returned for a status change whose action
	// does not match the list and value, or whose digest or reason is
	// invalid.
	ErrInvalidStatusChange = errors.New("store: invalid status change")
)

// purposeCode is a status purpose in keys and records.
type purposeCode uint8

const (
	purposeRevocation purposeCode = 1
	purposeSuspension purposeCode = 2
	purposeCount                  = 3 // one more than the highest code
)

func (p purposeCode) valid() bool { return p == purposeRevocation || p == purposeSuspension }

func (p purposeCode) String() string {
	switch p {
	case purposeRevocation:
		return PurposeRevocation
	case purposeSuspension:
		return PurposeSuspension
	}
	return fmt.Sprintf("purpose(%d)", uint8(p))
}

func purposeOf(name string) (purposeCode, error) {
	switch name {
	case PurposeRevocation:
		return purposeRevocation, nil
	case PurposeSuspension:
		return purposeSuspension, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownStatusPurpose, name)
}

// String is the list id, "<purpose>-<number>"; at most 21 bytes, so that
// it fits the registry's bytes32 listId.
func (r listRef) String() string {
	return r.purpose.String() + "-" + strconv.FormatUint(uint64(r.number), 10)
}

// parseListID parses a list id. Only the form String writes is accepted
// (no sign, no leading zero), so that one list has one id.
func parseListID(id string) (listRef, error) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return listRef{}, fmt.Errorf("%w %q", ErrUnknownStatusList, id)
	}
	p, err := purposeOf(id[:i])
	if err != nil {
		return listRef{}, fmt.Errorf("%w %q", ErrUnknownStatusList, id)
	}
	n, err := strconv.ParseUint(id[i+1:], 10, 32)
	r := listRef{purpose: p, number: uint32(n)}
	if err != nil || n == 0 || r.String() != id {
		return listRef{}, fmt.Errorf("%w %q", ErrUnknownStatusList, id)
	}
	return r, nil
}

// checkStatusListSize reports whether n entries make a publishable list:
// whole bytes (a decoded list's length is its byte count times 8) within
// the bounds verifiers accept.
func checkStatusListSize(n uint64) error {
	if n%8 != 0 || n < MinStatusListSize || n > MaxStatusListSize {
		return fmt.Errorf("%d entries: want a multiple of 8 from %d to %d", n, MinStatusListSize, MaxStatusListSize)
	}
	return nil
}

// StatusList describes one status list.
type StatusList struct {
	// ID names the list in URLs and on chain, e.g. "revocation-1".
	ID      string
	Purpose string
	// Size is the number of entries (bits) of the list.
	Size uint64
	// Allocated is how many indexes were handed out. A list that is not its
	// purpose's newest is full.
	Allocated uint64
	// Seq counts the changes of the list's bits; a version covering Seq
	// shows them all.
	Seq       uint64
	CreatedAt time.Time
	// Version is the number of the latest version (of any state), zero
	// before the first; AnchoredVersion that of the latest anchored one.
	Version         uint64
	AnchoredVersion uint64
}

// statusListRec is the stored record of a list. Allocation is not in it: the
// allocation keys are the truth, so that concurrent allocations need not
// rewrite one record.
type statusListRec struct {
	ref       listRef
	size      uint64
	seq       uint64
	createdAt time.Time
	version   uint64
	anchored  uint64
}

// statusListV1 is the first byte of an encoded status list record:
//
//	version(1) purpose(1) number(4) size(8) seq(8) createdAt(8, Unix ns) latestVersion(8) anchoredVersion(8)
const statusListV1 = 1

const statusListLen = 1 + listRefLen + 8 + 8 + 8 + 8 + 8

func (l *statusListRec) marshal() []byte {
	b := make([]byte, 0, statusListLen)
	b = l.ref.append(append(b, statusListV1))
	b = binary.BigEndian.AppendUint64(b, l.size)
	b = binary.BigEndian.AppendUint64(b, l.seq)
	b = binary.BigEndian.AppendUint64(b, uint64(l.createdAt.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, l.version)
	return binary.BigEndian.AppendUint64(b, l.anchored)
}

func (l *statusListRec) unmarshal(b []byte) error {
	if len(b) != statusListLen || b[0] != statusListV1 {
		return fmt.Errorf("%w: status list record of %d bytes", ErrCorrupt, len(b))
	}
	d := decoder{b: b[1:]}
	l.ref = d.listRef()
	l.size = d.u64()
	l.seq = d.u64()
	l.createdAt = d.time()
	l.version = d.u64()
	l.anchored = d.u64()
	if !validRef(l.ref) || !validSize(l.size) || l.anchored > l.version {
		return fmt.Errorf("%w: status list record %x", ErrCorrupt, b)
	}
	return nil
}

func validRef(r listRef) bool { return r.purpose.valid() && r.number > 0 }

// validSize is what a stored list may have: whole bytes, at most
// MaxStatusListSize. The minimum is not checked, so that a lower minimum
// in the past does not make old lists unreadable.
func validSize(n uint64) bool { return n > 0 && n%8 == 0 && n <= MaxStatusListSize }

func (l *statusListRec) public(allocated uint64) *StatusList {
	return &StatusList{
		ID:              l.ref.String(),
		Purpose:         l.ref.purpose.String(),
		Size:            l.size,
		Allocated:       allocated,
		Seq:             l.seq,
		CreatedAt:       l.createdAt,
		Version:         l.version,
		AnchoredVersion: l.anchored,
	}
}

// statusList reads the record of r from rd.
func (s *Store) statusList(rd pebble.Reader, r listRef) (*statusListRec, error) {
	v, closer, err := rd.Get(statusListKey(r))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("%w %q", ErrUnknownStatusList, r)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get status list: %w", err)
	}
	defer closer.Close()
	var l statusListRec
	if err := l.unmarshal(v); err != nil {
		return nil, err
	}
	if l.ref != r {
		return nil, fmt.Errorf("%w: status list record of %q under the key of %q", ErrCorrupt, l.ref, r)
	}
	return &l, nil
}

// statusListByID parses id and reads its record.
func (s *Store) statusListByID(id string) (*statusListRec, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	r, err := parseListID(id)
	if err != nil {
		return nil, err
	}
	return s.statusList(s.db, r)
}

// allStatusLists reads every list record, by purpose then number.
func (s *Store) allStatusLists() ([]*statusListRec, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: statusListLower, UpperBound: statusListUpper})
	if err != nil {
		return nil, fmt.Errorf("store: iterate status lists: %w", err)
	}
	defer it.Close()
	var out []*statusListRec
	for it.First(); it.Valid(); it.Next() {
		var l statusListRec
		if err := l.unmarshal(it.Value()); err != nil {
			return nil, err
		}
		if !bytes.Equal(it.Key(), statusListKey(l.ref)) {
			return nil, fmt.Errorf("%w: status list record of %q under key %x", ErrCorrupt, l.ref, it.Key())
		}
		out = append(out, &l)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: iterate status lists: %w", err)
	}
	return out, nil
}

// StatusLists returns every status list, by purpose (revocation first) and
// then in the order they were opened. The node publishes each of them.
func (s *Store) StatusLists() ([]*StatusList, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	s.alloc.mu.Lock()
	defer s.alloc.mu.Unlock()
	if err := s.loadAlloc(); err != nil {
		return nil, err
	}
	recs, err := s.allStatusLists()
	if err != nil {
		return nil, err
	}
	out := make([]*StatusList, len(recs))
	for i, l := range recs {
		out[i] = l.public(s.alloc.allocated(l))
	}
	return out, nil
}

// StatusList returns the list named id, or an error wrapping
// ErrUnknownStatusList.
func (s *Store) StatusList(id string) (*StatusList, error) {
	l, err := s.statusListByID(id)
	if err != nil {
		return nil, err
	}
	s.alloc.mu.Lock()
	defer s.alloc.mu.Unlock()
	if err := s.loadAlloc(); err != nil {
		return nil, err
	}
	return l.public(s.alloc.allocated(l)), nil
}

// StatusBits returns the current bits of list id as the bitstring of a
// Bitstring Status List (Size/8 bytes; index i is bit 0x80>>(i%8) of byte
// i/8, as node/statuslist lays them out) and the sequence number they show,
// both read from one snapshot, so that a version built from them covers
// exactly seq.
func (s *Store) StatusBits(id string) (bitstring []byte, seq uint64, err error) {
	if s.db == nil {
		return nil, 0, ErrClosed
	}
	r, err := parseListID(id)
	if err != nil {
		return nil, 0, err
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	l, err := s.statusList(snap, r)
	if err != nil {
		return nil, 0, err
	}
	b, err := statusBitsAt(snap, l, l.seq)
	if err != nil {
		return nil, 0, err
	}
	return b, l.seq, nil
}

// statusBitsAt rebuilds the bits of list l as they were at sequence number
// seq (at most l.seq): the bits that are on now, with every change after seq
// undone, newest first.
func statusBitsAt(rd pebble.Reader, l *statusListRec, seq uint64) ([]byte, error) {
	out := make([]byte, l.size/8)
	set := func(i uint64, v bool) error {
		if i >= l.size {
			return fmt.Errorf("%w: status bit %d of %q, a list of %d", ErrCorrupt, i, l.ref, l.size)
		}
		if v {
			out[i/8] |= 0x80 >> (i % 8)
		} else {
			out[i/8] &^= 0x80 >> (i % 8)
		}
		return nil
	}
	lower, upper := listPrefixBounds(prefixStatusBit, l.ref)
	it, err := rd.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: iterate status bits: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		if err := set(listItemOf(it.Key(), lower), true); err != nil {
			it.Close()
			return nil, err
		}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("store: iterate status bits: %w", err)
	}
	if seq == l.seq {
		return out, nil
	}
	_, upper = listPrefixBounds(prefixStatusChange, l.ref)
	it, err = rd.NewIter(&pebble.IterOptions{LowerBound: statusChangeKey(l.ref, seq+1), UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: iterate status changes: %w", err)
	}
	defer it.Close()
	for it.Last(); it.Valid(); it.Prev() {
		var c StatusChange
		if err := c.unmarshal(it.Value()); err != nil {
			return nil, err
		}
		if c.ListID != l.ref.String() {
			return nil, fmt.Errorf("%w: status change of %q in the log of %q", ErrCorrupt, c.ListID, l.ref)
		}
		// Every recorded change flipped its bit, so before it the bit was
		// the opposite of its value.
		if err := set(c.Index, !c.Value); err != nil {
			return nil, err
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: iterate status changes: %w", err)
	}
	return out, nil
}

// listItemOf returns the 8-byte number that ends a key made by listItemKey
// under the prefix lower; iteration bounds guarantee the length.
func listItemOf(key, lower []byte) uint64 {
	if len(key) != len(lower)+8 {
		return ^uint64(0) // out of every list's range: reported as corrupt
	}
	return binary.BigEndian.Uint64(key[len(lower):])
}

// Allocation.

// StatusEntry is an index allocated in a status list: what a credential's
// BitstringStatusListEntry names.
type StatusEntry struct {
	ListID  string
	Purpose string
	Index   uint64
}

// statusAlloc is the in-memory allocation state: the open list of each
// purpose with its free indexes. It is loaded from the allocation keys on
// first use.
type statusAlloc struct {
	mu     sync.Mutex
	loaded bool
	// open is the newest list of each purpose, nil before the first.
	open [purposeCount]*openList
}

type openList struct {
	ref  listRef
	size uint64
	free *freeSet
}

// allocated returns how many indexes of l were handed out; a list older
// than its purpose's open list is full.
func (a *statusAlloc) allocated(l *statusListRec) uint64 {
	if o := a.open[l.ref.purpose]; o != nil && o.ref == l.ref {
		return o.size - o.free.n
	}
	return l.size
}

// loadAlloc finds the newest list of each purpose and reads which of its
// indexes are allocated. The caller holds s.alloc.mu.
func (s *Store) loadAlloc() error {
	a := &s.alloc
	if a.loaded {
		return nil
	}
	recs, err := s.allStatusLists()
	if err != nil {
		return err
	}
	var open [purposeCount]*openList
	for _, l := range recs {
		// Records come by purpose, then number: the last of a purpose wins.
		open[l.ref.purpose] = &openList{ref: l.ref, size: l.size}
	}
	for _, o := range open {
		if o == nil {
			continue
		}
		o.free = newFreeSet(o.size)
		lower, upper := listPrefixBounds(prefixStatusAlloc, o.ref)
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
		if err != nil {
			return fmt.Errorf("store: iterate status allocations: %w", err)
		}
		for it.First(); it.Valid(); it.Next() {
			i := listItemOf(it.Key(), lower)
			if i >= o.size {
				it.Close()
				return fmt.Errorf("%w: allocation key %x of a list of %d", ErrCorrupt, it.Key(), o.size)
			}
			o.free.take(i)
		}
		if err := it.Close(); err != nil {
			return fmt.Errorf("store: iterate status allocations: %w", err)
		}
	}
	a.open, a.loaded = open, true
	return nil
}

// AllocateStatus hands out one index for each purpose, in the order given,
// from the purpose's open list, opening a new list when it is full. Each
// index is drawn uniformly at random (crypto/rand) among the list's unused
// indexes, so that an index says nothing about when or to whom it was
// issued (herd privacy), and is never handed out again. The allocation is
// synced before AllocateStatus returns; concurrent callers share WAL syncs.
// A purpose other than PurposeRevocation and PurposeSuspension is refused
// with ErrUnknownStatusPurpose, and one given twice with an error.
func (s *Store) AllocateStatus(purposes ...string) ([]StatusEntry, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	codes := make([]purposeCode, len(purposes))
	for i, name := range purposes {
		p, err := purposeOf(name)
		if err != nil {
			return nil, err
		}
		if slices.Contains(codes[:i], p) {
			return nil, fmt.Errorf("store: allocate status: purpose %q given twice", name)
		}
		codes[i] = p
	}
	type pick struct {
		list  *openList
		index uint64
	}
	picks := make([]pick, 0, len(codes))
	a := &s.alloc
	// release returns picked indexes whose allocation was not written. An
	// index of a list closed in the meantime stays unused for good, which
	// is harmless.
	release := func() {
		for _, p := range picks {
			p.list.free.release(p.index)
		}
	}
	a.mu.Lock()
	if err := s.loadAlloc(); err != nil {
		a.mu.Unlock()
		return nil, err
	}
	for _, p := range codes {
		o := a.open[p]
		if o == nil || o.free.n == 0 {
			var err error
			if o, err = s.openStatusList(p, o); err != nil {
				release()
				a.mu.Unlock()
				return nil, err
			}
			a.open[p] = o
		}
		r, err := randN(o.free.n)
		if err != nil {
			release()
			a.mu.Unlock()
			return nil, err
		}
		i := o.free.nth(r)
		o.free.take(i)
		picks = append(picks, pick{o, i})
	}
	a.mu.Unlock()

	// The indexes are taken in memory, so no other caller gets them while
	// this write is in flight; the lock is not held across the sync, so
	// that concurrent allocations share it.
	wb := s.db.NewBatch()
	defer wb.Close()
	for _, p := range picks {
		if err := wb.Set(statusAllocKey(p.list.ref, p.index), nil, nil); err != nil {
			a.mu.Lock()
			release()
			a.mu.Unlock()
			return nil, fmt.Errorf("store: allocate status: %w", err)
		}
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		a.mu.Lock()
		release()
		a.mu.Unlock()
		return nil, fmt.Errorf("store: allocate status: %w", err)
	}
	out := make([]StatusEntry, len(picks))
	for i, p := range picks {
		out[i] = StatusEntry{ListID: p.list.ref.String(), Purpose: p.list.ref.purpose.String(), Index: p.index}
	}
	return out, nil
}

// openStatusList durably creates the list after prev (the first list when
// prev is nil) for purpose p. The caller holds s.alloc.mu.
func (s *Store) openStatusList(p purposeCode, prev *openList) (*openList, error) {
	r := listRef{purpose: p, number: 1}
	if prev != nil {
		if prev.ref.number == ^uint32(0) {
			return nil, fmt.Errorf("store: no status list after %q", prev.ref)
		}
		r.number = prev.ref.number + 1
	}
	l := &statusListRec{ref: r, size: s.statusSize, createdAt: time.Now().UTC()}
	if err := s.db.Set(statusListKey(r), l.marshal(), pebble.Sync); err != nil {
		return nil, fmt.Errorf("store: open status list %q: %w", r, err)
	}
	return &openList{ref: r, size: l.size, free: newFreeSet(l.size)}, nil
}

// randN returns a uniformly random integer in [0, n) from crypto/rand,
// n > 0. It rejects the draws above the largest multiple of n, which would
// favour small results.
func randN(n uint64) (uint64, error) {
	limit := ^uint64(0) - (^uint64(0)%n+1)%n
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, fmt.Errorf("store: random index: %w", err)
		}
		if v := binary.LittleEndian.Uint64(b[:]); v <= limit {
			return v % n, nil
		}
	}
}

// freeSet is the allocation bitmap of an open list with a count of free
// indexes per block of freeBlockWords words, so that the r-th free index is
// found by scanning the block counts and then one block's words: about 100
// steps for a list of 131,072 however full it is.
type freeSet struct {
	used      []uint64 // bit i%64 of word i/64 is set when index i is taken
	blockFree []uint32
	n         uint64 // free indexes in all
}

const freeBlockWords = 64

func newFreeSet(size uint64) *freeSet {
	words := (size + 63) / 64
	f := &freeSet{
		used:      make([]uint64, words),
		blockFree: make([]uint32, (words+freeBlockWords-1)/freeBlockWords),
		n:         size,
	}
	// The bits past the end of the list are taken for good.
	if rem := size % 64; rem != 0 {
		f.used[words-1] = ^uint64(0) << rem
	}
	for w, u := range f.used {
		f.blockFree[w/freeBlockWords] += uint32(64 - bits.OnesCount64(u))
	}
	return f
}

func (f *freeSet) take(i uint64) {
	m := uint64(1) << (i % 64)
	if f.used[i/64]&m == 0 {
		f.used[i/64] |= m
		f.blockFree[i/64/freeBlockWords]--
		f.n--
	}
}

func (f *freeSet) release(i uint64) {
	m := uint64(1) << (i % 64)
	if f.used[i/64]&m != 0 {
		f.used[i/64] &^= m
		f.blockFree[i/64/freeBlockWords]++
		f.n++
	}
}

// nth returns the r-th free index in increasing order, counting from zero;
// r < f.n.
func (f *freeSet) nth(r uint64) uint64 {
	b := 0
	for uint64(f.blockFree[b]) <= r {
		r -= uint64(f.blockFree[b])
		b++
	}
	w := b * freeBlockWords
	for {
		c := uint64(64 - bits.OnesCount64(f.used[w]))
		if r < c {
			break
		}
		r -= c
		w++
	}
	x := ^f.used[w]
	for ; r > 0; r-- {
		x &= x - 1 // clear the lowest free bit
	}
	return uint64(w)*64 + uint64(bits.TrailingZeros64(x))
}

// Changes.

// StatusAction is what a status change does to a credential.
type StatusAction string

// The status actions. Each belongs to one purpose and value: revoke sets a
// revocation bit, suspend sets a suspension bit, unsuspend clears one.
const (
	StatusRevoke    StatusAction = "revoke"
	StatusSuspend   StatusAction = "suspend"
	StatusUnsuspend StatusAction = "unsuspend"
)

var actionCodes = map[StatusAction]byte{StatusRevoke: 1, StatusSuspend: 2, StatusUnsuspend: 3}

func actionOf(code byte) (StatusAction, bool) {
	for a, c := range actionCodes {
		if c == code {
			return a, true
		}
	}
	return "", false
}

// actionFor returns the action that sets a bit of purpose p to value.
func actionFor(p purposeCode, value bool) (StatusAction, bool) {
	switch {
	case p == purposeRevocation && value:
		return StatusRevoke, true
	case p == purposeSuspension && value:
		return StatusSuspend, true
	case p == purposeSuspension && !value:
		return StatusUnsuspend, true
	}
	return "", false
}

// StatusUpdate is what a caller says about a status change.
type StatusUpdate struct {
	// Digest is the credential whose status changes; its history is read
	// back by StatusChanges.
	Digest [32]byte
	// Action must match the list's purpose and the new value; empty means
	// the one that does.
	Action StatusAction
	// Reason is the issuer's reason, at most MaxStatusReasonLen bytes of
	// UTF-8.
	Reason string
	// At is when the change was asked for; zero means now.
	At time.Time
}

// StatusChange is a recorded change of one status bit.
type StatusChange struct {
	ListID string
	Index  uint64
	Value  bool
	// Seq is the list's sequence number after the change: the change is
	// published by every version whose Seq is at least this, and anchored
	// once such a version is.
	Seq uint64
	StatusUpdate
}

// statusChangeV1 is the first byte of an encoded status change record:
//
//	version(1) purpose(1) number(4) index(8) seq(8) value(1) action(1) at(8, Unix ns) digest(32) reason(rest)
const statusChangeV1 = 1

const statusChangeFixed = 1 + listRefLen + 8 + 8 + 1 + 1 + 8 + 32

func (c *StatusChange) marshal(r listRef) []byte {
	b := make([]byte, 0, statusChangeFixed+len(c.Reason))
	b = r.append(append(b, statusChangeV1))
	b = binary.BigEndian.AppendUint64(b, c.Index)
	b = binary.BigEndian.AppendUint64(b, c.Seq)
	v := byte(0)
	if c.Value {
		v = 1
	}
	b = append(b, v, actionCodes[c.Action])
	b = binary.BigEndian.AppendUint64(b, uint64(c.At.UnixNano()))
	b = append(b, c.Digest[:]...)
	return append(b, c.Reason...)
}

func (c *StatusChange) unmarshal(b []byte) error {
	if len(b) < statusChangeFixed || len(b) > statusChangeFixed+MaxStatusReasonLen || b[0] != statusChangeV1 {
		return fmt.Errorf("%w: status change record of %d bytes", ErrCorrupt, len(b))
	}
	d := decoder{b: b[1:]}
	r := d.listRef()
	c.Index = d.u64()
	c.Seq = d.u64()
	value, action := d.u8(), d.u8()
	c.At = d.time()
	copy(c.Digest[:], d.bytes(32))
	c.Reason = string(d.rest())
	var ok bool
	c.Action, ok = actionOf(action)
	c.Value = value == 1
	if want, valid := actionFor(r.purpose, c.Value); !ok || value > 1 || !validRef(r) || !valid || want != c.Action {
		return fmt.Errorf("%w: status change record %x", ErrCorrupt, b)
	}
	c.ListID = r.String()
	return nil
}

// SetStatus sets bit index of list id to value and records the change: its
// digest, action, reason and time, the bit, and the list's new sequence
// number, all in one synced write, so a change acknowledged is never lost.
//
// It refuses, writing nothing: clearing a revocation bit
// (ErrRevocationFinal), a bit that already has the value
// (ErrStatusUnchanged), an unknown list (ErrUnknownStatusList), an index
// beyond the list (ErrStatusIndexRange) or never allocated
// (ErrStatusIndexUnallocated), and an action, digest or reason that does
// not fit (ErrInvalidStatusChange).
func (s *Store) SetStatus(id string, index uint64, value bool, u StatusUpdate) (*StatusChange, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	r, err := parseListID(id)
	if err != nil {
		return nil, err
	}
	want, ok := actionFor(r.purpose, value)
	switch {
	case !ok:
		// Clearing a revocation bit; refused below once the list is known.
	case u.Action == "":
		u.Action = want
	case u.Action != want:
		return nil, fmt.Errorf("%w: action %q on %q to %v, want %q", ErrInvalidStatusChange, u.Action, id, value, want)
	}
	if u.Digest == ([32]byte{}) {
		return nil, fmt.Errorf("%w: no digest", ErrInvalidStatusChange)
	}
	if len(u.Reason) > MaxStatusReasonLen || !utf8.ValidString(u.Reason) {
		return nil, fmt.Errorf("%w: reason of %d bytes, want at most %d of UTF-8", ErrInvalidStatusChange, len(u.Reason), MaxStatusReasonLen)
	}
	if u.At.IsZero() {
		u.At = time.Now()
	}
	u.At = u.At.UTC()

	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	l, err := s.statusList(s.db, r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: cannot clear bit %d of %q", ErrRevocationFinal, index, id)
	}
	if index >= l.size {
		return nil, fmt.Errorf("%w: index %d, list %q of %d", ErrStatusIndexRange, index, id, l.size)
	}
	if _, err := s.get(statusAllocKey(r, index)); errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: index %d of %q", ErrStatusIndexUnallocated, index, id)
	} else if err != nil {
		return nil, err
	}
	cur := true
	if _, err := s.get(statusBitKey(r, index)); errors.Is(err, ErrNotFound) {
		cur = false
	} else if err != nil {
		return nil, err
	}
	if cur == value {
		return nil, fmt.Errorf("%w: bit %d of %q is already %v", ErrStatusUnchanged, index, id, value)
	}
	l.seq++
	c := &StatusChange{ListID: id, Index: index, Value: value, Seq: l.seq, StatusUpdate: u}
	wb := s.db.NewBatch()
	defer wb.Close()
	if value {
		err = wb.Set(statusBitKey(r, index), nil, nil)
	} else {
		err = wb.Delete(statusBitKey(r, index), nil)
	}
	if err != nil {
		return nil, err
	}
	for _, kv := range [][2][]byte{
		{statusChangeKey(r, c.Seq), c.marshal(r)},
		{statusHistoryKey(u.Digest, r, c.Seq), nil},
		{statusListKey(r), l.marshal()},
	} {
		if err := wb.Set(kv[0], kv[1], nil); err != nil {
			return nil, err
		}
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		return nil, fmt.Errorf("store: set status: %w", err)
	}
	return c, nil
}

// StatusChanges returns the status changes recorded for a credential digest,
// oldest first (by At, then list and sequence), and none for a digest whose
// status never changed.
func (s *Store) StatusChanges(digest [32]byte) ([]*StatusChange, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	lower, upper := statusHistoryBounds(digest)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: iterate status history: %w", err)
	}
	defer it.Close()
	var out []*StatusChange
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != len(lower)+listRefLen+8 {
			return nil, fmt.Errorf("%w: status history key %x", ErrCorrupt, k)
		}
		d := decoder{b: k[len(lower):]}
		r, seq := d.listRef(), d.u64()
		rec, err := s.get(statusChangeKey(r, seq))
		if err != nil {
			return nil, fmt.Errorf("status change %d of %q: %w", seq, r, err)
		}
		c := &StatusChange{}
		if err := c.unmarshal(rec); err != nil {
			return nil, err
		}
		if c.Digest != digest || c.Seq != seq || c.ListID != r.String() {
			return nil, fmt.Errorf("%w: status change %d of %q indexed under digest %x", ErrCorrupt, seq, r, digest)
		}
		out = append(out, c)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: iterate status history: %w", err)
	}
	slices.SortStableFunc(out, func(a, b *StatusChange) int { return a.At.Compare(b.At) })
	return out, nil
}

// decoder reads fields from a record without panicking: past the end it
// sets short and yields zeros (for fields of up to 32 bytes; longer reads
// yield nil and callers check their length first).
type decoder struct {
	b     []byte
	short bool
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.short = true
		d.b = nil
		if n < 0 || n > 32 {
			return nil
		}
		return make([]byte, n)
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) rest() []byte { return d.bytes(len(d.b)) }

func (d *decoder) u8() byte { return d.bytes(1)[0] }

func (d *decoder) u16() uint16 { return binary.BigEndian.Uint16(d.bytes(2)) }

func (d *decoder) u32() uint32 { return binary.BigEndian.Uint32(d.bytes(4)) }

func (d *decoder) u64() uint64 { return binary.BigEndian.Uint64(d.bytes(8)) }

func (d *decoder) time() time.Time { return time.Unix(0, int64(d.u64())).UTC() }

func (d *decoder) listRef() listRef {
	p := purposeCode(d.u8())
	return listRef{purpose: p, number: d.u32()}
}

// PutStatusEntries records the status entries given to the credential with
// digest, durably, so that a status change names the credential rather than
// its indexes.
func (s *Store) PutStatusEntries(digest [32]byte, entries []StatusEntry) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, e := range entries {
		r, err := parseListID(e.ListID)
		if err != nil {
			return err
		}
		if err := b.Set(statusEntryKey(digest, r, e.Index), nil, nil); err != nil {
			return fmt.Errorf("store: status entry: %w", err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: status entries: %w", err)
	}
	return nil
}

// StatusEntries returns the status entries of the credential with digest,
// none if it has none.
func (s *Store) StatusEntries(digest [32]byte) ([]StatusEntry, error) {
	lower := append([]byte{prefixStatusEntry, '/'}, digest[:]...)
	upper := append(append([]byte(nil), lower...), bytes.Repeat([]byte{0xff}, listRefLen+9)...)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: status entries: %w", err)
	}
	defer it.Close()
	var out []StatusEntry
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()[len(lower):]
		if len(k) != listRefLen+8 {
			return nil, fmt.Errorf("%w: status entry key of %d bytes", ErrCorrupt, len(k))
		}
		r := listRef{purpose: purposeCode(k[0]), number: binary.BigEndian.Uint32(k[1:5])}
		if !r.purpose.valid() {
			return nil, fmt.Errorf("%w: status entry of purpose %d", ErrCorrupt, k[0])
		}
		out = append(out, StatusEntry{ListID: r.String(), Purpose: r.purpose.String(), Index: binary.BigEndian.Uint64(k[5:])})
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: status entries: %w", err)
	}
	return out, nil
}

// StatusBit reports whether bit index of list id is on now.
func (s *Store) StatusBit(id string, index uint64) (bool, error) {
	if s.db == nil {
		return false, ErrClosed
	}
	r, err := parseListID(id)
	if err != nil {
		return false, err
	}
	_, closer, err := s.db.Get(statusBitKey(r, index))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: status bit: %w", err)
	}
	return true, closer.Close()
}
