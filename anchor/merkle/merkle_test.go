package merkle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
)

// vectors mirrors testdata/rfc6962_vectors.json; see its "origin" field.
type vectors struct {
	Origin          string     `json:"origin"`
	Leaves          []string   `json:"leaves"`
	EmptyRoot       Hash       `json:"emptyRoot"`
	Roots           []Hash     `json:"roots"`
	NodeHashes      [][]Hash   `json:"nodeHashes"`
	InclusionProofs []vecProof `json:"inclusionProofs"`
}

type vecProof struct {
	Index uint64 `json:"index"`
	Size  uint64 `json:"size"`
	Path  []Hash `json:"path"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc6962_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode vectors: %v", err)
	}
	return v
}

// leafHashBytes is the RFC 9162 leaf hash of a leaf of any length; the
// published vectors use short byte strings rather than 32-byte digests.
func leafHashBytes(leaf []byte) Hash {
	return sha256.Sum256(append([]byte{leafPrefix}, leaf...))
}

// treeOfLeafInputs builds a tree over raw leaf inputs, bypassing New's
// digest-only interface.
func treeOfLeafInputs(t *testing.T, leaves [][]byte) *Tree {
	t.Helper()
	nodes := make([]Hash, nodeCount(len(leaves)))
	for i, l := range leaves {
		nodes[i] = leafHashBytes(l)
	}
	return fromLeafHashes(nodes, len(leaves))
}

// testDigests returns n distinct, reproducible digests.
func testDigests(n int) []Hash {
	out := make([]Hash, n)
	var buf [8]byte
	for i := range out {
		binary.BigEndian.PutUint64(buf[:], uint64(i))
		out[i] = sha256.Sum256(buf[:])
	}
	return out
}

func TestKnownAnswerRoots(t *testing.T) {
	v := loadVectors(t)
	leaves := make([][]byte, len(v.Leaves))
	for i, s := range v.Leaves {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		leaves[i] = b
	}
	if got, want := len(v.Roots), len(leaves); got != want {
		t.Fatalf("vectors: got %d roots, want %d", got, want)
	}

	t.Run("empty", func(t *testing.T) {
		if got, want := EmptyRoot(), v.EmptyRoot; got != want {
			t.Errorf("EmptyRoot() = %s, want %s", got, want)
		}
		var zero Tree
		if got, want := zero.Root(), v.EmptyRoot; got != want {
			t.Errorf("zero Tree Root() = %s, want %s", got, want)
		}
	})
	for size := 1; size <= len(leaves); size++ {
		t.Run(fmt.Sprintf("size:%d", size), func(t *testing.T) {
			tr := treeOfLeafInputs(t, leaves[:size])
			if got, want := tr.Root(), v.Roots[size-1]; got != want {
				t.Errorf("Root() = %s, want %s", got, want)
			}
			if got, want := tr.Size(), uint64(size); got != want {
				t.Errorf("Size() = %d, want %d", got, want)
			}
		})
	}
	t.Run("nodes", func(t *testing.T) {
		tr := treeOfLeafInputs(t, leaves)
		if got, want := len(tr.levels), len(v.NodeHashes); got != want {
			t.Fatalf("got %d levels, want %d", got, want)
		}
		for l, want := range v.NodeHashes {
			for i := range want {
				if got := tr.levels[l][i]; got != want[i] {
					t.Errorf("level %d node %d = %s, want %s", l, i, got, want[i])
				}
			}
		}
	})
}

func TestKnownAnswerInclusionProofs(t *testing.T) {
	v := loadVectors(t)
	leaves := make([][]byte, len(v.Leaves))
	for i, s := range v.Leaves {
		leaves[i], _ = hex.DecodeString(s)
	}
	for _, tc := range v.InclusionProofs {
		t.Run(fmt.Sprintf("index:%d:size:%d", tc.Index, tc.Size), func(t *testing.T) {
			tr := treeOfLeafInputs(t, leaves[:tc.Size])
			got, err := tr.InclusionProof(tc.Index)
			if err != nil {
				t.Fatalf("InclusionProof(%d): %v", tc.Index, err)
			}
			if !equalProofs(got, tc.Path) {
				t.Errorf("InclusionProof(%d) = %v, want %v", tc.Index, got, tc.Path)
			}
			root, err := rootFromLeafHash(tc.Index, tc.Size, leafHashBytes(leaves[tc.Index]), tc.Path)
			if err != nil {
				t.Fatalf("rootFromLeafHash: %v", err)
			}
			if want := v.Roots[tc.Size-1]; root != want {
				t.Errorf("rootFromLeafHash = %s, want %s", root, want)
			}
		})
	}
}

func TestHashFunctions(t *testing.T) {
	hasher := rfc6962.DefaultHasher
	for i, d := range testDigests(5) {
		t.Run(fmt.Sprintf("digest:%d", i), func(t *testing.T) {
			if got, want := LeafHash(d), hasher.HashLeaf(d[:]); !bytes.Equal(got[:], want) {
				t.Errorf("LeafHash = %x, want %x", got, want)
			}
			if got, want := LeafHash(d), leafHashBytes(d[:]); got != want {
				t.Errorf("LeafHash = %s, leafHashBytes = %s", got, want)
			}
			other := sha256.Sum256(d[:])
			if got, want := NodeHash(d, other), hasher.HashChildren(d[:], other[:]); !bytes.Equal(got[:], want) {
				t.Errorf("NodeHash = %x, want %x", got, want)
			}
		})
	}
}

func equalProofs(a, b []Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
