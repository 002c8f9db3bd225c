package merkle

import (
	"fmt"
	"iter"
	"math/bits"
)

// Tree is an RFC 9162 Merkle tree over a fixed list of digests (a batch).
// It keeps every level so that an inclusion proof is a read of one sibling
// per level, with no hashing. The zero Tree, like a nil *Tree, is the empty
// tree: its Root is EmptyRoot and it has no proofs. A Tree is immutable and safe for
// concurrent use.
type Tree struct {
	// levels[0] holds the leaf hashes and the last level the root alone.
	// A level's unpaired last node is carried up unchanged, which gives the
	// same tree as RFC 9162's split at the largest power of two below n:
	// that split's left part is complete, so pairing level by level from
	// the left never pairs nodes across it.
	levels [][]Hash
}

// New builds the tree whose leaves are the given digests, in order. It
// returns ErrEmptyTree if there are none, since an empty batch is a
// caller's bug rather than something to anchor. New does not keep digests.
func New(digests []Hash) (*Tree, error) {
	if len(digests) == 0 {
		return nil, fmt.Errorf("%w: got 0 digests, want at least 1", ErrEmptyTree)
	}
	n := len(digests)
	// One backing array for all levels: two allocations for the whole
	// tree instead of one per level or node keeps a million-leaf build
	// cheap.
	nodes := make([]Hash, nodeCount(n))
	for i := range digests {
		nodes[i] = LeafHash(digests[i])
	}
	return fromLeafHashes(nodes, n), nil
}

// nodeCount is the number of hashes on all levels of a tree of n > 0
// leaves, the root included.
func nodeCount(n int) int {
	total := n
	for n > 1 {
		n = (n + 1) / 2
		total += n
	}
	return total
}

// fromLeafHashes builds the upper levels in nodes, which has room for
// nodeCount(n) hashes and holds the n leaf hashes first. It is separate
// from New so that tests can build trees over arbitrary leaf inputs.
func fromLeafHashes(nodes []Hash, n int) *Tree {
	levels := make([][]Hash, 0, bits.Len(uint(n))+1)
	cur := nodes[:n:n]
	nodes = nodes[n:]
	levels = append(levels, cur)
	for len(cur) > 1 {
		m := (len(cur) + 1) / 2
		next := nodes[:m:m]
		nodes = nodes[m:]
		for i := 0; i+1 < len(cur); i += 2 {
			next[i/2] = NodeHash(cur[i], cur[i+1])
		}
		if len(cur)%2 == 1 {
			next[m-1] = cur[len(cur)-1]
		}
		levels = append(levels, next)
		cur = next
	}
	return &Tree{levels: levels}
}

// Size returns the number of leaves.
func (t *Tree) Size() uint64 {
	if t == nil || len(t.levels) == 0 {
		return 0
	}
	return uint64(len(t.levels[0]))
}

// Root returns the RFC 9162 root hash, EmptyRoot for the empty tree.
func (t *Tree) Root() Hash {
	if t == nil || len(t.levels) == 0 {
		return emptyRoot
	}
	return t.levels[len(t.levels)-1][0]
}

// InclusionProof returns the RFC 9162 inclusion proof (audit path) of the
// leaf at index, ordered from the leaf's sibling up to the root's child.
func (t *Tree) InclusionProof(index uint64) ([]Hash, error) {
	if err := checkIndex(index, t.Size()); err != nil {
		return nil, err
	}
	return t.appendProof(make([]Hash, 0, len(t.levels)-1), index), nil
}

// AllInclusionProofs yields the index and inclusion proof of every leaf in
// order. The proof slice is reused between iterations, so copy it to keep
// it: all proofs of a million-leaf batch held at once would take 640 MB.
func (t *Tree) AllInclusionProofs() iter.Seq2[uint64, []Hash] {
	return func(yield func(uint64, []Hash) bool) {
		if t.Size() == 0 {
			return
		}
		buf := make([]Hash, 0, len(t.levels)-1)
		for i := range t.Size() {
			buf = t.appendProof(buf[:0], i)
			if !yield(i, buf) {
				return
			}
		}
	}
}

func (t *Tree) appendProof(dst []Hash, index uint64) []Hash {
	for _, level := range t.levels[:len(t.levels)-1] {
		// A node's sibling is at index^1; when that is past the end the
		// node was carried up and contributes no hash at this level.
		if sib := index ^ 1; sib < uint64(len(level)) {
			dst = append(dst, level[sib])
		}
		index >>= 1
	}
	return dst
}

func checkIndex(index, size uint64) error {
	if size == 0 {
		return fmt.Errorf("%w: got size 0, want at least 1", ErrEmptyTree)
	}
	if index >= size {
		return fmt.Errorf("%w: got index %d, want below size %d", ErrIndexOutOfRange, index, size)
	}
	return nil
}
