// Package merkle implements the RFC 9162 (Certificate Transparency v2) Merkle tree over SHA-256 digests.
package merkle

import (
	"crypto/sha256"
	"errors"
)

// HashSize is the size in bytes of a digest, a leaf hash and a node hash.
const HashSize = sha256.Size

// Domain-separation prefixes of RFC 9162 section 2.1.1; they keep a leaf
// from being passed off as an interior node (second-preimage resistance).
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// Hash is a 32-byte SHA-256 value: a credential digest, a leaf hash, a node
// hash or a root. Its text form (and so its JSON form) is 0x-prefixed
// lowercase hex.
type Hash [HashSize]byte

// Sentinel errors, refined with %w; test for them with errors.Is.
var (
	// ErrEmptyTree reports a tree of size 0: it has a root (EmptyRoot) but
	// no leaves, so nothing can be proved in it, and a batch is never empty.
	ErrEmptyTree = errors.New("merkle: empty tree")
	// ErrIndexOutOfRange reports a leaf index not below the tree size.
	ErrIndexOutOfRange = errors.New("merkle: leaf index out of range")
	// ErrProofLength reports an inclusion proof with the wrong number of
	// hashes for its index and tree size.
	ErrProofLength = errors.New("merkle: wrong proof length")
	// ErrInvalidHash reports a hash whose text form cannot be decoded.
	ErrInvalidHash = errors.New("merkle: invalid hash")
)

// emptyRoot is SHA-256 of the empty string, the root of the empty tree
// (RFC 9162 section 2.1.1).
var emptyRoot = Hash(sha256.Sum256(nil))

// EmptyRoot returns the root of the empty tree, SHA-256 of the empty string.
func EmptyRoot() Hash { return emptyRoot }

// LeafHash returns the RFC 9162 leaf hash SHA-256(0x00 || digest).
func LeafHash(digest Hash) Hash {
	var buf [1 + HashSize]byte
	buf[0] = leafPrefix
	copy(buf[1:], digest[:])
	return sha256.Sum256(buf[:])
}

// NodeHash returns the RFC 9162 interior node hash
// SHA-256(0x01 || left || right).
func NodeHash(left, right Hash) Hash {
	// A stack buffer and sha256.Sum256 hash without allocating, which
	// matters when a batch tree hashes a million nodes.
	var buf [1 + 2*HashSize]byte
	buf[0] = nodePrefix
	copy(buf[1:], left[:])
	copy(buf[1+HashSize:], right[:])
	return sha256.Sum256(buf[:])
}
