package merkle

import "fmt"

// RootMismatchError reports an inclusion proof that leads to a root other
// than the expected one; callers can show both roots.
type RootMismatchError struct {
	Got  Hash // root computed from the leaf and the proof
	Want Hash // root the caller expected
}

func (e RootMismatchError) Error() string {
	return fmt.Sprintf("merkle: root mismatch: got %s, want %s", e.Got, e.Want)
}

// VerifyInclusion checks that proof proves the leaf with the given digest at
// index in the tree of the given size and root (RFC 9162 section 2.1.3.2).
// Errors are ErrEmptyTree, ErrIndexOutOfRange and ErrProofLength (wrapped),
// or a RootMismatchError.
//
// The proof fixes the index only for the given size, and the same proof can
// verify for another size (and then another index) whose path has the same
// shape. So take size from where the root is anchored, never from the
// holder of the proof alone.
func VerifyInclusion(index, size uint64, digest Hash, proof []Hash, root Hash) error {
	got, err := RootFromInclusionProof(index, size, digest, proof)
	if err != nil {
		return err
	}
	if got != root {
		return RootMismatchError{Got: got, Want: root}
	}
	return nil
}

// RootFromInclusionProof returns the root of the tree of the given size
// implied by the leaf with the given digest at index and its inclusion
// proof. It checks index, size and proof length, not the root.
func RootFromInclusionProof(index, size uint64, digest Hash, proof []Hash) (Hash, error) {
	return rootFromLeafHash(index, size, LeafHash(digest), proof)
}

func rootFromLeafHash(index, size uint64, leafHash Hash, proof []Hash) (Hash, error) {
	if err := checkIndex(index, size); err != nil {
		return Hash{}, err
	}
	if got, want := len(proof), proofLen(index, size); got != want {
		return Hash{}, fmt.Errorf("%w: got %d, want %d", ErrProofLength, got, want)
	}
	// Walk up the levels as New builds them: fn is the node's position on
	// its level and sn the level's last position. An odd fn is a right
	// child; an even fn below sn is a left child; an even fn equal to sn
	// is carried up unhashed. This is RFC 9162's loop with the carrying
	// made explicit.
	r := leafHash
	fn, sn := index, size-1
	i := 0
	for sn > 0 {
		switch {
		case fn&1 == 1:
			r = NodeHash(proof[i], r)
			i++
		case fn < sn:
			r = NodeHash(r, proof[i])
			i++
		}
		fn >>= 1
		sn >>= 1
	}
	return r, nil
}

// proofLen is the number of hashes in the inclusion proof of index in a tree
// of size > index: one per level where the node has a sibling.
func proofLen(index, size uint64) int {
	n := 0
	for fn, sn := index, size-1; sn > 0; fn, sn = fn>>1, sn>>1 {
		if fn&1 == 1 || fn < sn {
			n++
		}
	}
	return n
}
