package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// BatchState is where a batch is on its way to a confirmed anchor.
type BatchState uint8

const (
	// BatchPending: persisted, no anchor transaction outstanding. A batch
	// whose anchor was reorganised away returns here.
	BatchPending BatchState = iota + 1
	// BatchSent: the anchor transaction is signed and recorded (TxHash,
	// Nonce, RawTx) and may or may not have reached the chain.
	BatchSent
	// BatchConfirmed: the anchor is in a canonical block with the required
	// confirmations.
	BatchConfirmed
	// BatchFailed: the chain refused the anchor for good (for example the
	// root was anchored by another member). Needs an operator.
	BatchFailed
)

var stateNames = map[BatchState]string{
	BatchPending:   "pending",
	BatchSent:      "sent",
	BatchConfirmed: "confirmed",
	BatchFailed:    "failed",
}

func (s BatchState) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("BatchState(%d)", uint8(s))
}

// MarshalText encodes the state by name.
func (s BatchState) MarshalText() ([]byte, error) {
	n, ok := stateNames[s]
	if !ok {
		return nil, fmt.Errorf("store: unknown batch state %d", uint8(s))
	}
	return []byte(n), nil
}

// UnmarshalText decodes a state name.
func (s *BatchState) UnmarshalText(b []byte) error {
	for k, n := range stateNames {
		if n == string(b) {
			*s = k
			return nil
		}
	}
	return fmt.Errorf("store: unknown batch state %q", b)
}

// Batch is a Merkle batch of credential digests and its anchoring progress.
type Batch struct {
	Root      [32]byte   `json:"root"`
	Size      uint64     `json:"size"`
	State     BatchState `json:"state"`
	CreatedAt time.Time  `json:"createdAt"`

	// The anchor transaction, set from BatchSent on.
	TxHash [32]byte `json:"txHash"`
	Nonce  uint64   `json:"nonce"`
	RawTx  []byte   `json:"rawTx,omitempty"`

	// Where the anchor landed, set when BatchConfirmed.
	BlockNumber uint64    `json:"blockNumber,omitempty"`
	BlockHash   [32]byte  `json:"blockHash"`
	BlockTime   time.Time `json:"blockTime"`
	Member      [20]byte  `json:"member"`
	GasUsed     uint64    `json:"gasUsed,omitempty"`

	// Attempts counts anchor transactions sent for this batch, including
	// re-anchoring after a reorg.
	Attempts int `json:"attempts"`
	// Error is the last reason the chain refused the anchor, for BatchFailed.
	Error string `json:"error,omitempty"`
	// Foreign marks a batch another consortium member anchored, which this
	// node holds (AddForeignBatch) to answer for its credentials; it never
	// anchors it.
	Foreign bool `json:"foreign,omitempty"`
}

// CreateBatch durably stores a new batch with its digests in leaf order, in
// state b.State (BatchPending when zero). It returns ErrExists if a batch with
// the same root is stored.
func (s *Store) CreateBatch(b *Batch, digests [][32]byte) error {
	if s.db == nil {
		return ErrClosed
	}
	if uint64(len(digests)) != b.Size {
		return fmt.Errorf("store: batch of size %d with %d digests", b.Size, len(digests))
	}
	if b.State == 0 {
		b.State = BatchPending
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.get(batchKey(b.Root)); err == nil {
		return fmt.Errorf("%w: batch %x", ErrExists, b.Root)
	} else if err != ErrNotFound {
		return err
	}
	rec, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("store: encode batch: %w", err)
	}
	flat := make([]byte, 0, 32*len(digests))
	for _, d := range digests {
		flat = append(flat, d[:]...)
	}
	wb := s.db.NewBatch()
	defer wb.Close()
	if err := putBatch(wb, b, rec, flat); err != nil {
		return err
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: create batch: %w", err)
	}
	return nil
}

// putBatch adds to wb every key of a new batch: its record, its digests
// (flat, in leaf order) and its entries in the state and time indexes.
func putBatch(wb *pebble.Batch, b *Batch, rec, flat []byte) error {
	for _, kv := range [][2][]byte{
		{batchKey(b.Root), rec},
		{digestsKey(b.Root), flat},
		{stateKey(b.State, b.Root), nil},
		{timeKey(b.CreatedAt, b.Root), nil},
	} {
		if err := wb.Set(kv[0], kv[1], nil); err != nil {
			return err
		}
	}
	return nil
}

// UpdateBatch durably replaces a stored batch record, moving it between state
// indexes as needed. It returns ErrNotFound if the batch was never created.
func (s *Store) UpdateBatch(b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.Batch(b.Root)
	if err != nil {
		return err
	}
	if old.Size != b.Size {
		return fmt.Errorf("store: batch %x size changed from %d to %d", b.Root, old.Size, b.Size)
	}
	rec, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("store: encode batch: %w", err)
	}
	wb := s.db.NewBatch()
	defer wb.Close()
	if old.State != b.State {
		if err := wb.Delete(stateKey(old.State, b.Root), nil); err != nil {
			return err
		}
		if err := wb.Set(stateKey(b.State, b.Root), nil, nil); err != nil {
			return err
		}
	}
	if err := wb.Set(batchKey(b.Root), rec, nil); err != nil {
		return err
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: update batch: %w", err)
	}
	return nil
}

// Batch returns the batch with the given root, or ErrNotFound.
func (s *Store) Batch(root [32]byte) (*Batch, error) {
	rec, err := s.get(batchKey(root))
	if err != nil {
		return nil, err
	}
	var b Batch
	if err := decodeJSON(rec, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// BatchDigests returns the digests of a batch in leaf order.
func (s *Store) BatchDigests(root [32]byte) ([][32]byte, error) {
	flat, err := s.get(digestsKey(root))
	if err != nil {
		return nil, err
	}
	if len(flat)%32 != 0 {
		return nil, fmt.Errorf("%w: digests of batch %x: %d bytes", ErrCorrupt, root, len(flat))
	}
	out := make([][32]byte, len(flat)/32)
	for i := range out {
		copy(out[i][:], flat[32*i:])
	}
	return out, nil
}

// BatchesInState returns every batch in state, ordered by root.
func (s *Store) BatchesInState(state BatchState) ([]*Batch, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	lower, upper := statePrefixBounds(state)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: iterate: %w", err)
	}
	var roots [][32]byte
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != len(lower)+32 {
			it.Close()
			return nil, fmt.Errorf("%w: state index key %x", ErrCorrupt, k)
		}
		var r [32]byte
		copy(r[:], k[len(lower):])
		roots = append(roots, r)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("store: iterate: %w", err)
	}
	return s.batches(roots)
}

// batches reads the records of roots, in order.
func (s *Store) batches(roots [][32]byte) ([]*Batch, error) {
	out := make([]*Batch, 0, len(roots))
	for _, r := range roots {
		b, err := s.Batch(r)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// foreignChunk bounds the credential records of one write of
// AddForeignBatch, so that a batch of millions does not build one huge
// Pebble batch in memory.
const foreignChunk = 1 << 16

// AddForeignBatch durably stores a batch another member anchored, with its
// digests in leaf order, in state BatchConfirmed and marked Foreign, and a
// credential record for each digest this node does not already hold (one
// of its own keeps its own record). The caller has checked that the digests
// rebuild the root and that the chain holds the anchor b names. It returns
// ErrExists if a batch with the same root is stored.
//
// The credential records go first, in chunks; the batch record goes last in
// a synced write, which makes every earlier write durable too. A crash in
// between leaves records that point at a batch the store does not hold, so
// no reader takes them for answers, and the batch can be added again.
func (s *Store) AddForeignBatch(b *Batch, digests [][32]byte) error {
	if s.db == nil {
		return ErrClosed
	}
	if uint64(len(digests)) != b.Size || b.Size == 0 {
		return fmt.Errorf("store: batch of size %d with %d digests", b.Size, len(digests))
	}
	b.State, b.Foreign = BatchConfirmed, true
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
	flat := make([]byte, 0, 32*len(digests))
	for start := 0; start < len(digests); start += foreignChunk {
		wb := s.db.NewBatch()
		for i := start; i < min(start+foreignChunk, len(digests)); i++ {
			d := digests[i]
			flat = append(flat, d[:]...)
			if _, err := s.get(credentialKey(d)); err == nil {
				continue
			} else if !errors.Is(err, ErrNotFound) {
				wb.Close()
				return err
			}
			c := Credential{Digest: d, SubmittedAt: b.BlockTime, Batched: true, BatchRoot: b.Root, LeafIndex: uint64(i)}
			if err := wb.Set(credentialKey(d), c.marshal(), nil); err != nil {
				wb.Close()
				return err
			}
		}
		err := wb.Commit(pebble.NoSync)
		wb.Close()
		if err != nil {
			return fmt.Errorf("store: foreign batch records: %w", err)
		}
	}
	wb := s.db.NewBatch()
	defer wb.Close()
	if err := putBatch(wb, b, rec, flat); err != nil {
		return err
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: foreign batch: %w", err)
	}
	return nil
}
