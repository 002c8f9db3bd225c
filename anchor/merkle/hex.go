package merkle

import (
	"encoding/hex"
	"fmt"
)

// maxProofLen bounds a decoded proof: a tree of at most 2^64-1 leaves has
// at most 64 levels, so longer input is rejected before decoding it.
const maxProofLen = 64

// String returns h as 0x-prefixed lowercase hex.
func (h Hash) String() string {
	b, _ := h.MarshalText()
	return string(b)
}

// MarshalText encodes h as 0x-prefixed lowercase hex, the form receipts use.
func (h Hash) MarshalText() ([]byte, error) {
	out := make([]byte, 2+2*HashSize)
	out[0], out[1] = '0', 'x'
	hex.Encode(out[2:], h[:])
	return out, nil
}

// UnmarshalText decodes 64 hex digits of either case, with or without a
// 0x prefix, as ParseHash does.
func (h *Hash) UnmarshalText(text []byte) error {
	if len(text) >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') {
		text = text[2:]
	}
	if got, want := len(text), 2*HashSize; got != want {
		return fmt.Errorf("%w: got %d hex digits, want %d", ErrInvalidHash, got, want)
	}
	var out Hash
	if _, err := hex.Decode(out[:], text); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidHash, err)
	}
	*h = out
	return nil
}

// ParseHash decodes a hash from 64 hex digits of either case, with or
// without a 0x prefix. Errors wrap ErrInvalidHash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	err := h.UnmarshalText([]byte(s))
	return h, err
}

// ParseProof decodes an inclusion proof stored as a list of hex strings, as
// in a receipt's path. Errors wrap ErrInvalidHash or ErrProofLength.
func ParseProof(path []string) ([]Hash, error) {
	if got, want := len(path), maxProofLen; got > want {
		return nil, fmt.Errorf("%w: got %d hashes, want at most %d", ErrProofLength, got, want)
	}
	proof := make([]Hash, len(path))
	for i, s := range path {
		h, err := ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("path[%d]: %w", i, err)
		}
		proof[i] = h
	}
	return proof, nil
}

// FormatProof encodes an inclusion proof as a list of 0x-prefixed lowercase
// hex strings, the inverse of ParseProof.
func FormatProof(proof []Hash) []string {
	path := make([]string, len(proof))
	for i, h := range proof {
		path[i] = h.String()
	}
	return path
}
