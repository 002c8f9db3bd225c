package merkle

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

// sampleIndexes returns every index of small trees and, for large ones, the
// edges, the neighbourhood of each power of two and a spread in between, so
// the test stays fast while still touching every proof shape.
func sampleIndexes(size uint64) []uint64 {
	if size <= 300 {
		out := make([]uint64, size)
		for i := range out {
			out[i] = uint64(i)
		}
		return out
	}
	seen := map[uint64]bool{}
	var out []uint64
	add := func(i uint64) {
		if i < size && !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	for i := uint64(0); i < 8; i++ {
		add(i)
		add(size - 1 - i)
	}
	for p := uint64(1); p < size; p <<= 1 {
		add(p - 1)
		add(p)
		add(p + 1)
	}
	for i := uint64(0); i < 64; i++ {
		add(i * size / 64)
		add(i*size/64 + 37)
	}
	return out
}

func TestTreeMatchesTransparencyDev(t *testing.T) {
	hasher := rfc6962.DefaultHasher
	var sizes []uint64
	for s := uint64(1); s <= 300; s++ {
		sizes = append(sizes, s)
	}
	sizes = append(sizes, 511, 512, 513, 1023, 1024, 1025, 4097, 65535, 65536, 65537)

	for _, size := range sizes {
		t.Run(fmt.Sprintf("size:%d", size), func(t *testing.T) {
			digests := testDigests(int(size))
			tr, err := New(digests)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			root := tr.Root()

			ref := testonly.New(hasher)
			rf := compact.RangeFactory{Hash: hasher.HashChildren}
			cr := rf.NewEmptyRange(0)
			for _, d := range digests {
				ref.AppendData(d[:])
				if err := cr.Append(hasher.HashLeaf(d[:]), nil); err != nil {
					t.Fatalf("compact Append: %v", err)
				}
			}
			if got, want := root[:], ref.Hash(); string(got) != string(want) {
				t.Fatalf("Root() = %x, testonly root %x", got, want)
			}
			compactRoot, err := cr.GetRootHash(nil)
			if err != nil {
				t.Fatalf("compact GetRootHash: %v", err)
			}
			if got, want := root[:], compactRoot; string(got) != string(want) {
				t.Fatalf("Root() = %x, compact root %x", got, want)
			}

			for _, i := range sampleIndexes(size) {
				p, err := tr.InclusionProof(i)
				if err != nil {
					t.Fatalf("InclusionProof(%d): %v", i, err)
				}
				want, err := ref.InclusionProof(i, size)
				if err != nil {
					t.Fatalf("testonly InclusionProof(%d, %d): %v", i, size, err)
				}
				if got := toBytes(p); !equalBytesProofs(got, want) {
					t.Fatalf("InclusionProof(%d) = %x, testonly %x", i, got, want)
				}
				leafHash := hasher.HashLeaf(digests[i][:])
				if err := proof.VerifyInclusion(hasher, i, size, leafHash, toBytes(p), root[:]); err != nil {
					t.Errorf("proof.VerifyInclusion(%d, %d): %v", i, size, err)
				}
				if err := VerifyInclusion(i, size, digests[i], p, root); err != nil {
					t.Errorf("VerifyInclusion(%d, %d): %v", i, size, err)
				}
				got, err := RootFromInclusionProof(i, size, digests[i], p)
				if err != nil || got != root {
					t.Errorf("RootFromInclusionProof(%d, %d) = %s, %v, want %s, nil", i, size, got, err, root)
				}
			}
		})
	}
}

// rfcRoot and rfcPath transcribe RFC 9162 section 2.1.1 and 2.1.3.1
// literally (split at the largest power of two below n), to show that the
// level-by-level tree with carried nodes is the same tree.
func rfcRoot(leaves []Hash) Hash {
	switch n := len(leaves); n {
	case 0:
		return EmptyRoot()
	case 1:
		return LeafHash(leaves[0])
	default:
		k := largestPow2Below(n)
		return NodeHash(rfcRoot(leaves[:k]), rfcRoot(leaves[k:]))
	}
}

func rfcPath(m int, leaves []Hash) []Hash {
	n := len(leaves)
	if n <= 1 {
		return nil
	}
	k := largestPow2Below(n)
	if m < k {
		return append(rfcPath(m, leaves[:k]), rfcRoot(leaves[k:]))
	}
	return append(rfcPath(m-k, leaves[k:]), rfcRoot(leaves[:k]))
}

func largestPow2Below(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

func TestTreeMatchesRFCDefinition(t *testing.T) {
	for size := 1; size <= 70; size++ {
		t.Run(fmt.Sprintf("size:%d", size), func(t *testing.T) {
			digests := testDigests(size)
			tr, err := New(digests)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got, want := tr.Root(), rfcRoot(digests); got != want {
				t.Fatalf("Root() = %s, want %s", got, want)
			}
			for m := range size {
				got, err := tr.InclusionProof(uint64(m))
				if err != nil {
					t.Fatalf("InclusionProof(%d): %v", m, err)
				}
				if want := rfcPath(m, digests); !equalProofs(got, want) {
					t.Errorf("InclusionProof(%d) = %v, want %v", m, got, want)
				}
			}
		})
	}
}

func TestAllInclusionProofs(t *testing.T) {
	for _, size := range []int{1, 2, 3, 7, 8, 9, 33, 100} {
		t.Run(fmt.Sprintf("size:%d", size), func(t *testing.T) {
			tr, err := New(testDigests(size))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			var next uint64
			for i, p := range tr.AllInclusionProofs() {
				if got, want := i, next; got != want {
					t.Fatalf("got index %d, want %d", got, want)
				}
				want, err := tr.InclusionProof(i)
				if err != nil {
					t.Fatalf("InclusionProof(%d): %v", i, err)
				}
				if !equalProofs(p, want) {
					t.Errorf("proof %d = %v, want %v", i, p, want)
				}
				next++
			}
			if got, want := next, uint64(size); got != want {
				t.Errorf("got %d proofs, want %d", got, want)
			}
		})
	}
	t.Run("break", func(t *testing.T) {
		tr, _ := New(testDigests(10))
		n := 0
		for range tr.AllInclusionProofs() {
			n++
			if n == 3 {
				break
			}
		}
		if got, want := n, 3; got != want {
			t.Errorf("got %d iterations, want %d", got, want)
		}
	})
	t.Run("empty", func(t *testing.T) {
		for _, tr := range []*Tree{nil, {}} {
			for i := range tr.AllInclusionProofs() {
				t.Errorf("empty tree yielded proof %d", i)
			}
		}
	})
}

func TestTreeErrors(t *testing.T) {
	one, err := New(testDigests(1))
	if err != nil {
		t.Fatal(err)
	}
	five, err := New(testDigests(5))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("New", func(t *testing.T) {
		for _, in := range [][]Hash{nil, {}} {
			tr, err := New(in)
			if !errors.Is(err, ErrEmptyTree) || tr != nil {
				t.Errorf("New(%v) = %v, %v, want nil, ErrEmptyTree", in, tr, err)
			}
		}
	})
	for _, tc := range []struct {
		name    string
		tree    *Tree
		index   uint64
		wantErr error
		wantMsg string
	}{
		{"nil tree", nil, 0, ErrEmptyTree, "merkle: empty tree: got size 0, want at least 1"},
		{"zero tree", &Tree{}, 0, ErrEmptyTree, ""},
		{"size 1 index 1", one, 1, ErrIndexOutOfRange, "merkle: leaf index out of range: got index 1, want below size 1"},
		{"size 5 index 5", five, 5, ErrIndexOutOfRange, ""},
		{"size 5 index max", five, math.MaxUint64, ErrIndexOutOfRange, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.tree.InclusionProof(tc.index)
			if !errors.Is(err, tc.wantErr) || p != nil {
				t.Fatalf("InclusionProof(%d) = %v, %v, want nil, %v", tc.index, p, err, tc.wantErr)
			}
			if tc.wantMsg != "" && err.Error() != tc.wantMsg {
				t.Errorf("error = %q, want %q", err, tc.wantMsg)
			}
		})
	}
	t.Run("zero values", func(t *testing.T) {
		for _, tr := range []*Tree{nil, {}} {
			if got, want := tr.Size(), uint64(0); got != want {
				t.Errorf("Size() = %d, want %d", got, want)
			}
			if got, want := tr.Root(), EmptyRoot(); got != want {
				t.Errorf("Root() = %s, want %s", got, want)
			}
		}
	})
	t.Run("size 1", func(t *testing.T) {
		p, err := one.InclusionProof(0)
		if err != nil || len(p) != 0 {
			t.Errorf("InclusionProof(0) = %v, %v, want [], nil", p, err)
		}
		if got, want := one.Root(), LeafHash(testDigests(1)[0]); got != want {
			t.Errorf("Root() = %s, want leaf hash %s", got, want)
		}
	})
}

func toBytes(p []Hash) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

func equalBytesProofs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if string(a[i]) != string(b[i]) {
			return false
		}
	}
	return true
}
