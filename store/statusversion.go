package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"
)

// A status list version is one signed status list credential the node
// published for a list, numbered 1, 2, ... per list. It is stored pending
// until its hash is anchored on chain; verifiers trust only the latest
// anchored version, which is what the node serves.

var (
	// ErrInvalidStatusVersion is returned by PutStatusVersion for a version
	// that cannot be stored: no credential, a zero hash, or a sequence
	// number beyond the list's or below the one the latest version covers.
	ErrInvalidStatusVersion = errors.New("store: invalid status list version")
	// ErrStatusVersionState is returned when a version cannot move to the
	// state asked for, for example anchoring a version older than the
	// anchored one, whose hash the chain must not go back to.
	ErrStatusVersionState = errors.New("store: status list version in the wrong state")
)

// MaxStatusCredentialLen bounds a stored status list credential, in bytes.
// An encoded list of MaxStatusListSize entries, all random, takes 11 MiB.
const MaxStatusCredentialLen = 16 << 20

// StatusVersionState is where a version is on its way to an anchor.
type StatusVersionState uint8

const (
	// StatusVersionPending: stored, its hash not yet anchored. Changes it
	// covers show as pending.
	StatusVersionPending StatusVersionState = iota + 1
	// StatusVersionAnchored: its hash is the list's on chain (TxHash,
	// BlockNumber), or was until a newer version was anchored.
	StatusVersionAnchored
	// StatusVersionFailed: the node gave up anchoring it (Error says why).
	// DirtyStatusLists reports the list again while it is the latest.
	StatusVersionFailed
	// StatusVersionReplaced: never anchored, and a newer version was (or
	// will be instead), so it never will be.
	StatusVersionReplaced
)

var statusVersionStateNames = map[StatusVersionState]string{
	StatusVersionPending:  "pending",
	StatusVersionAnchored: "anchored",
	StatusVersionFailed:   "failed",
	StatusVersionReplaced: "replaced",
}

// String returns the state's name, or its number if it has none.
func (s StatusVersionState) String() string {
	if n, ok := statusVersionStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("StatusVersionState(%d)", uint8(s))
}

// MarshalText encodes the state by name, for the node's API.
func (s StatusVersionState) MarshalText() ([]byte, error) {
	n, ok := statusVersionStateNames[s]
	if !ok {
		return nil, fmt.Errorf("store: unknown status version state %d", uint8(s))
	}
	return []byte(n), nil
}

// StatusVersion is one published version of a list's status list
// credential.
type StatusVersion struct {
	ListID  string
	Version uint64
	// Seq is the list sequence number the version covers: it shows every
	// change whose Seq is at most this.
	Seq   uint64
	State StatusVersionState
	// Credential is the signed status list credential as served.
	Credential []byte
	// Hash is the SHA-256 of the credential's JCS form, the value anchored.
	Hash [32]byte
	// Size and Bits are the list the credential was made from, as at Seq:
	// Size/8 bytes laid out as StatusBits returns them.
	Size uint64
	Bits []byte
	// CreatedAt is when the version was stored; UpdatedAt when its state
	// last changed.
	CreatedAt time.Time
	UpdatedAt time.Time
	// The anchor transaction, set when StatusVersionAnchored.
	TxHash      [32]byte
	BlockNumber uint64
	// Error is why the version failed, for StatusVersionFailed.
	Error string
}

// statusVersionV1 is the first byte of an encoded status version record:
//
//	version(1) state(1) purpose(1) number(4) versionNumber(8) seq(8)
//	createdAt(8) updatedAt(8) hash(32) txHash(32) blockNumber(8)
//	credentialLen(4) credential errorLen(2) error
//	size(8) bitsForm(1) bits(rest)
//
// bitsForm 0 is the bitstring (size/8 bytes); 1 is the indexes of the bits
// that are on, 4 bytes each, strictly increasing, which is much shorter for
// the sparse lists revocation makes.
const statusVersionV1 = 1

const statusVersionFixed = 1 + 1 + listRefLen + 8 + 8 + 8 + 8 + 32 + 32 + 8

const (
	bitsDense  = 0
	bitsSparse = 1
)

func (v *StatusVersion) marshal(r listRef) []byte {
	b := make([]byte, 0, statusVersionFixed+4+len(v.Credential)+2+len(v.Error)+9+len(v.Bits))
	b = r.append(append(b, statusVersionV1, byte(v.State)))
	b = binary.BigEndian.AppendUint64(b, v.Version)
	b = binary.BigEndian.AppendUint64(b, v.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(v.CreatedAt.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(v.UpdatedAt.UnixNano()))
	b = append(b, v.Hash[:]...)
	b = append(b, v.TxHash[:]...)
	b = binary.BigEndian.AppendUint64(b, v.BlockNumber)
	b = binary.BigEndian.AppendUint32(b, uint32(len(v.Credential)))
	b = append(b, v.Credential...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v.Error)))
	b = append(b, v.Error...)
	b = binary.BigEndian.AppendUint64(b, v.Size)
	// The sparse form is used while it is shorter than the bitstring.
	var on []uint32
	for i, c := range v.Bits {
		for k := 0; c != 0 && k < 8; k++ {
			if c&(0x80>>k) != 0 {
				on = append(on, uint32(i*8+k))
			}
		}
		if 4*len(on) >= len(v.Bits) {
			return append(append(b, bitsDense), v.Bits...)
		}
	}
	b = append(b, bitsSparse)
	for _, i := range on {
		b = binary.BigEndian.AppendUint32(b, i)
	}
	return b
}

func (v *StatusVersion) unmarshal(b []byte) error {
	corrupt := func(what string) error {
		return fmt.Errorf("%w: status version record of %d bytes: %s", ErrCorrupt, len(b), what)
	}
	if len(b) < statusVersionFixed || b[0] != statusVersionV1 {
		return corrupt("header")
	}
	d := decoder{b: b[1:]}
	v.State = StatusVersionState(d.u8())
	r := d.listRef()
	v.Version = d.u64()
	v.Seq = d.u64()
	v.CreatedAt = d.time()
	v.UpdatedAt = d.time()
	copy(v.Hash[:], d.bytes(32))
	copy(v.TxHash[:], d.bytes(32))
	v.BlockNumber = d.u64()
	if _, ok := statusVersionStateNames[v.State]; !ok || !validRef(r) || v.Version == 0 {
		return corrupt("fields")
	}
	n := uint64(d.u32())
	if n == 0 || n > MaxStatusCredentialLen || n > uint64(len(d.b)) {
		return corrupt("credential length")
	}
	v.Credential = append([]byte(nil), d.bytes(int(n))...)
	n = uint64(d.u16())
	if n > MaxStatusReasonLen || n > uint64(len(d.b)) {
		return corrupt("error length")
	}
	v.Error = string(d.bytes(int(n)))
	v.Size = d.u64()
	form := d.u8()
	if d.short || !validSize(v.Size) {
		return corrupt("list size")
	}
	rest := d.rest()
	switch form {
	case bitsDense:
		if uint64(len(rest)) != v.Size/8 {
			return corrupt("bitstring length")
		}
		v.Bits = append([]byte(nil), rest...)
	case bitsSparse:
		if len(rest)%4 != 0 || uint64(len(rest)/4) > v.Size {
			return corrupt("bit indexes")
		}
		v.Bits = make([]byte, v.Size/8)
		prev := int64(-1)
		for len(rest) > 0 {
			i := binary.BigEndian.Uint32(rest)
			rest = rest[4:]
			if int64(i) <= prev || uint64(i) >= v.Size {
				return corrupt("bit indexes")
			}
			prev = int64(i)
			v.Bits[i/8] |= 0x80 >> (i % 8)
		}
	default:
		return corrupt("bits form")
	}
	v.ListID = r.String()
	return nil
}

// statusVersion reads version n of list l.
func (s *Store) statusVersion(l *statusListRec, n uint64) (*StatusVersion, error) {
	if n == 0 || n > l.version {
		return nil, fmt.Errorf("%w: version %d of %q", ErrNotFound, n, l.ref)
	}
	rec, err := s.get(statusVersionKey(l.ref, n))
	if err != nil {
		return nil, fmt.Errorf("version %d of %q: %w", n, l.ref, err)
	}
	var v StatusVersion
	if err := v.unmarshal(rec); err != nil {
		return nil, err
	}
	if v.ListID != l.ref.String() || v.Version != n {
		return nil, fmt.Errorf("%w: version %d of %q stored as version %d of %q", ErrCorrupt, n, l.ref, v.Version, v.ListID)
	}
	return &v, nil
}

// StatusVersion returns version n of list id, for serving older versions
// (?version=); ErrNotFound if there is none.
func (s *Store) StatusVersion(id string, n uint64) (*StatusVersion, error) {
	l, err := s.statusListByID(id)
	if err != nil {
		return nil, err
	}
	return s.statusVersion(l, n)
}

// LatestStatusVersion returns the newest version of list id in any state,
// which the publisher compares against; ErrNotFound before the first.
func (s *Store) LatestStatusVersion(id string) (*StatusVersion, error) {
	l, err := s.statusListByID(id)
	if err != nil {
		return nil, err
	}
	return s.statusVersion(l, l.version)
}

// LatestAnchoredStatusVersion returns the newest anchored version of list
// id, the one the node serves and verifiers trust; ErrNotFound before the
// first anchor.
func (s *Store) LatestAnchoredStatusVersion(id string) (*StatusVersion, error) {
	l, err := s.statusListByID(id)
	if err != nil {
		return nil, err
	}
	if l.anchored == 0 {
		return nil, fmt.Errorf("%w: no anchored version of %q", ErrNotFound, id)
	}
	return s.statusVersion(l, l.anchored)
}

// DirtyStatusLists returns the lists the node must publish a version of:
// those with no version yet (a new list must be served before credentials
// that name it can be checked), those with changes after the sequence
// number the latest version covers, and those whose latest version failed
// or was replaced, so that nothing is on its way to an anchor.
func (s *Store) DirtyStatusLists() ([]*StatusList, error) {
	all, err := s.StatusLists()
	if err != nil {
		return nil, err
	}
	var out []*StatusList
	for _, l := range all {
		if l.Version == 0 {
			out = append(out, l)
			continue
		}
		v, err := s.LatestStatusVersion(l.ID)
		if err != nil {
			return nil, err
		}
		if v.State == StatusVersionFailed || v.State == StatusVersionReplaced || l.Seq > v.Seq {
			out = append(out, l)
		}
	}
	return out, nil
}

// PutStatusVersion durably stores the next version of list id, pending its
// anchor: credential is the signed status list credential, hash the SHA-256
// of its JCS form, and seq the list sequence number it was made at (from
// StatusBits). The version keeps the list's bits as at seq, so that it can
// be checked or rebuilt without the credential. A version may cover the
// same seq as the previous one (a refresh before validUntil), never less.
func (s *Store) PutStatusVersion(id string, seq uint64, credential []byte, hash [32]byte) (*StatusVersion, error) {
	if len(credential) == 0 || len(credential) > MaxStatusCredentialLen {
		return nil, fmt.Errorf("%w: credential of %d bytes, want 1 to %d", ErrInvalidStatusVersion, len(credential), MaxStatusCredentialLen)
	}
	if hash == ([32]byte{}) {
		return nil, fmt.Errorf("%w: zero hash", ErrInvalidStatusVersion)
	}
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	l, err := s.statusListByID(id)
	if err != nil {
		return nil, err
	}
	if seq > l.seq {
		return nil, fmt.Errorf("%w: covers seq %d, list %q is at %d", ErrInvalidStatusVersion, seq, id, l.seq)
	}
	if l.version > 0 {
		prev, err := s.statusVersion(l, l.version)
		if err != nil {
			return nil, err
		}
		if seq < prev.Seq {
			return nil, fmt.Errorf("%w: covers seq %d, version %d of %q covers %d", ErrInvalidStatusVersion, seq, prev.Version, id, prev.Seq)
		}
	}
	bits, err := statusBitsAt(s.db, l, seq)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	l.version++
	v := &StatusVersion{
		ListID:     id,
		Version:    l.version,
		Seq:        seq,
		State:      StatusVersionPending,
		Credential: append([]byte(nil), credential...),
		Hash:       hash,
		Size:       l.size,
		Bits:       bits,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	wb := s.db.NewBatch()
	defer wb.Close()
	if err := wb.Set(statusVersionKey(l.ref, v.Version), v.marshal(l.ref), nil); err != nil {
		return nil, err
	}
	if err := wb.Set(statusListKey(l.ref), l.marshal(), nil); err != nil {
		return nil, err
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		return nil, fmt.Errorf("store: put status version: %w", err)
	}
	return v, nil
}

// MarkStatusVersionAnchored durably records that version n of list id was
// anchored by transaction txHash in block blockNumber. Marking it again
// updates the transaction (after a reorg). Pending versions older than n
// become StatusVersionReplaced. It refuses (ErrStatusVersionState) a
// version older than the anchored one or replaced: the chain must never go
// back to an older list.
func (s *Store) MarkStatusVersionAnchored(id string, n uint64, txHash [32]byte, blockNumber uint64) error {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	l, err := s.statusListByID(id)
	if err != nil {
		return err
	}
	v, err := s.statusVersion(l, n)
	if err != nil {
		return err
	}
	if n < l.anchored || v.State == StatusVersionReplaced {
		return fmt.Errorf("%w: version %d of %q is %v and version %d is anchored", ErrStatusVersionState, n, id, v.State, l.anchored)
	}
	now := time.Now().UTC()
	wb := s.db.NewBatch()
	defer wb.Close()
	// Versions between the last anchored one and n are pending or failed:
	// the pending ones can no longer be anchored.
	for m := n - 1; m > l.anchored; m-- {
		old, err := s.statusVersion(l, m)
		if err != nil {
			return err
		}
		if old.State != StatusVersionPending {
			continue
		}
		old.State, old.UpdatedAt = StatusVersionReplaced, now
		if err := wb.Set(statusVersionKey(l.ref, m), old.marshal(l.ref), nil); err != nil {
			return err
		}
	}
	v.State, v.UpdatedAt, v.TxHash, v.BlockNumber, v.Error = StatusVersionAnchored, now, txHash, blockNumber, ""
	l.anchored = n
	if err := wb.Set(statusVersionKey(l.ref, n), v.marshal(l.ref), nil); err != nil {
		return err
	}
	if err := wb.Set(statusListKey(l.ref), l.marshal(), nil); err != nil {
		return err
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: mark status version anchored: %w", err)
	}
	return nil
}

// MarkStatusVersionFailed durably records that the node gave up anchoring
// version n of list id, and why (at most MaxStatusReasonLen bytes). Only a
// pending or failed version can fail (ErrStatusVersionState otherwise).
func (s *Store) MarkStatusVersionFailed(id string, n uint64, reason string) error {
	if len(reason) > MaxStatusReasonLen || !utf8.ValidString(reason) {
		return fmt.Errorf("%w: reason of %d bytes, want at most %d of UTF-8", ErrInvalidStatusVersion, len(reason), MaxStatusReasonLen)
	}
	return s.markStatusVersion(id, n, StatusVersionFailed, reason)
}

// MarkStatusVersionReplaced durably records that version n of list id will
// not be anchored because the node publishes a newer one instead. Only a
// pending or failed version can be replaced (ErrStatusVersionState
// otherwise). Anchoring a version replaces the pending ones before it by
// itself.
func (s *Store) MarkStatusVersionReplaced(id string, n uint64) error {
	return s.markStatusVersion(id, n, StatusVersionReplaced, "")
}

func (s *Store) markStatusVersion(id string, n uint64, state StatusVersionState, reason string) error {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	l, err := s.statusListByID(id)
	if err != nil {
		return err
	}
	v, err := s.statusVersion(l, n)
	if err != nil {
		return err
	}
	if v.State != StatusVersionPending && v.State != StatusVersionFailed {
		return fmt.Errorf("%w: version %d of %q is %v, cannot become %v", ErrStatusVersionState, n, id, v.State, state)
	}
	v.State, v.UpdatedAt, v.Error = state, time.Now().UTC(), reason
	if err := s.db.Set(statusVersionKey(l.ref, n), v.marshal(l.ref), pebble.Sync); err != nil {
		return fmt.Errorf("store: mark status version %v: %w", state, err)
	}
	return nil
}
