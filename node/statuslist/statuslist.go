// Package statuslist encodes and decodes W3C Bitstring Status Lists
// (https://www.w3.org/TR/vc-bitstring-status-list/): a bitstring, GZIP
// compressed and written as base64url multibase ("u"), in which bit 0 is the
// most significant bit of byte 0. Lists are compared by their decoded bits,
// never by their encoded strings, because GZIP output is not canonical.
package statuslist

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// DefaultMinBits is the spec's minimum list length, which gives a
// credential's index herd privacy among at least 131,072 others.
const DefaultMinBits = 131072

// DefaultMaxBits bounds what Decode inflates: 64 Mibit, 8 MiB of memory,
// so that a small hostile encodedList cannot exhaust the node.
const DefaultMaxBits = 1 << 26

var (
	// ErrMalformed is a list that is not multibase base64url GZIP
	// (MALFORMED_VALUE_ERROR).
	ErrMalformed = errors.New("statuslist: malformed encoded list")
	// ErrLength is a list shorter than the minimum or longer than the
	// maximum (STATUS_LIST_LENGTH_ERROR).
	ErrLength = errors.New("statuslist: list length out of bounds")
	// ErrRange is an index outside the list (RANGE_ERROR).
	ErrRange = errors.New("statuslist: index out of range")
)

// List is a bitstring of statuses, one bit each.
type List struct {
	bits []byte
	n    uint64
}

// New returns a list of n bits, all zero.
func New(n uint64) *List {
	return &List{bits: make([]byte, (n+7)/8), n: n}
}

// FromBits returns the list whose bitstring is bits (bit 0 the most
// significant bit of byte 0), 8×len(bits) entries. It keeps bits.
func FromBits(bits []byte) *List {
	return &List{bits: bits, n: uint64(len(bits)) * 8}
}

// Len is the number of bits in the list.
func (l *List) Len() uint64 { return l.n }

// Get reports whether bit i is set.
func (l *List) Get(i uint64) (bool, error) {
	if i >= l.n {
		return false, fmt.Errorf("%w: index %d, list of %d", ErrRange, i, l.n)
	}
	return l.bits[i/8]&(0x80>>(i%8)) != 0, nil
}

// Set sets bit i to v.
func (l *List) Set(i uint64, v bool) error {
	if i >= l.n {
		return fmt.Errorf("%w: index %d, list of %d", ErrRange, i, l.n)
	}
	if v {
		l.bits[i/8] |= 0x80 >> (i % 8)
	} else {
		l.bits[i/8] &^= 0x80 >> (i % 8)
	}
	return nil
}

// Equal reports whether two lists have the same bits.
func (l *List) Equal(o *List) bool { return l.n == o.n && bytes.Equal(l.bits, o.bits) }

// Encode returns the list's encodedList: "u" + base64url (no padding) of
// the GZIP of the bitstring.
func (l *List) Encode() (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(l.bits); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// DecodeOptions bound what Decode accepts.
type DecodeOptions struct {
	// MinBits is the shortest list accepted. Zero means DefaultMinBits;
	// lists issued before the minimum existed may need less.
	MinBits uint64
	// MaxBits is the longest list accepted. Zero means DefaultMaxBits.
	MaxBits uint64
}

// Decode parses an encodedList. The length of the list is its decompressed
// size in bits.
func Decode(encoded string, opts DecodeOptions) (*List, error) {
	if opts.MinBits == 0 {
		opts.MinBits = DefaultMinBits
	}
	if opts.MaxBits == 0 {
		opts.MaxBits = DefaultMaxBits
	}
	if len(encoded) < 2 || encoded[0] != 'u' {
		return nil, fmt.Errorf("%w: not base64url multibase (prefix u)", ErrMalformed)
	}
	raw, err := base64.RawURLEncoding.DecodeString(encoded[1:])
	if err != nil {
		// Some issuers pad; the spec's base64url multibase has no padding,
		// but a padded list is unambiguous.
		raw, err = base64.URLEncoding.DecodeString(encoded[1:])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	maxBytes := int64(opts.MaxBits / 8)
	bits, err := io.ReadAll(io.LimitReader(zr, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if int64(len(bits)) > maxBytes {
		return nil, fmt.Errorf("%w: over %d bits", ErrLength, opts.MaxBits)
	}
	n := uint64(len(bits)) * 8
	if n < opts.MinBits {
		return nil, fmt.Errorf("%w: %d bits, minimum %d", ErrLength, n, opts.MinBits)
	}
	return &List{bits: bits, n: n}, nil
}

// Entry is a credential's BitstringStatusListEntry.
type Entry struct {
	ID                   string `json:"id,omitempty"`
	Type                 string `json:"type"`
	StatusPurpose        string `json:"statusPurpose"`
	StatusListIndex      string `json:"statusListIndex"`
	StatusListCredential string `json:"statusListCredential"`
}

// EntryType is the type of a Bitstring Status List entry.
const EntryType = "BitstringStatusListEntry"

// Index parses the entry's statusListIndex, a string of decimal digits.
func (e Entry) Index() (uint64, error) {
	i, err := strconv.ParseUint(e.StatusListIndex, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: statusListIndex %q", ErrMalformed, e.StatusListIndex)
	}
	return i, nil
}

// ParseEntries reads a credential's credentialStatus (an object or an
// array of them) and returns its Bitstring Status List entries; entries of
// other types are left out.
func ParseEntries(credentialStatus json.RawMessage) ([]Entry, error) {
	var many []json.RawMessage
	if err := json.Unmarshal(credentialStatus, &many); err != nil {
		many = []json.RawMessage{credentialStatus}
	}
	var out []Entry
	for _, raw := range many {
		var e Entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("%w: credentialStatus entry: %v", ErrMalformed, err)
		}
		if e.Type != EntryType {
			continue
		}
		if _, err := e.Index(); err != nil {
			return nil, err
		}
		if e.StatusPurpose == "" || e.StatusListCredential == "" {
			return nil, fmt.Errorf("%w: entry without statusPurpose or statusListCredential", ErrMalformed)
		}
		out = append(out, e)
	}
	return out, nil
}
