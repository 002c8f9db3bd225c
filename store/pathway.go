package store

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// prefixPathway keys pathway definitions: p/<id>, the JSON the node stored.
const prefixPathway = 'p'

// MaxPathwayIDLen and MaxPathwayLen bound a pathway's key and record.
const (
	MaxPathwayIDLen = 128
	MaxPathwayLen   = 64 << 10
)

func pathwayKey(id string) []byte { return append([]byte{prefixPathway, '/'}, id...) }

// PutPathway stores a pathway definition under id, durably. An existing id
// is refused with ErrExists: a pathway, once learners claim it, does not
// change under them.
func (s *Store) PutPathway(id string, def []byte) error {
	if s.db == nil {
		return ErrClosed
	}
	if id == "" || len(id) > MaxPathwayIDLen || len(def) > MaxPathwayLen {
		return fmt.Errorf("store: pathway id of %d bytes or definition of %d bytes out of bounds", len(id), len(def))
	}
	s.pathwayMu.Lock()
	defer s.pathwayMu.Unlock()
	_, closer, err := s.db.Get(pathwayKey(id))
	if err == nil {
		closer.Close()
		return fmt.Errorf("%w: pathway %s", ErrExists, id)
	}
	if !errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("store: pathway: %w", err)
	}
	if err := s.db.Set(pathwayKey(id), def, pebble.Sync); err != nil {
		return fmt.Errorf("store: pathway: %w", err)
	}
	return nil
}

// Pathway returns the definition stored under id, or ErrNotFound.
func (s *Store) Pathway(id string) ([]byte, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	v, closer, err := s.db.Get(pathwayKey(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("%w: pathway %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: pathway: %w", err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), nil
}

// Pathways returns every stored definition, in id order.
func (s *Store) Pathways() ([][]byte, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	lower, upper := []byte{prefixPathway, '/'}, []byte{prefixPathway, '/' + 1}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: pathways: %w", err)
	}
	defer it.Close()
	var out [][]byte
	for it.First(); it.Valid(); it.Next() {
		out = append(out, append([]byte(nil), it.Value()...))
	}
	return out, it.Error()
}
