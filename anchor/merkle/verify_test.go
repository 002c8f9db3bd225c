package merkle

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// probe is one altered input to VerifyInclusion that must be rejected.
type probe struct {
	desc        string
	index, size uint64
	digest      Hash
	proof       []Hash
	root        Hash
	wantErr     error // nil: any error will do
	// mayPass marks a probe that an RFC 9162 verifier accepts when the
	// change keeps the path's shape (see TestProofDoesNotBindSize); then
	// only agreement with transparency-dev is required.
	mayPass bool
}

// corruptions returns the probes for a valid (index, size, digest, proof,
// root): every one changes exactly one input.
func corruptions(index, size uint64, digest Hash, p []Hash, root Hash) []probe {
	other := Hash{0xab, 0xac, 0xab, 0xa0}
	flipped := digest
	flipped[7] ^= 0x10
	ps := []probe{
		{"changed leaf", index, size, flipped, p, root, nil, false},
		{"leaf hash as digest", index, size, LeafHash(digest), p, root, nil, false},
		{"index-1", index - 1, size, digest, p, root, nil, false},
		{"index+1", index + 1, size, digest, p, root, nil, false},
		{"index^2", index ^ 2, size, digest, p, root, nil, false},
		{"size+1", index, size + 1, digest, p, root, nil, true},
		{"size-1", index, size - 1, digest, p, root, nil, true},
		{"size*2", index, size * 2, digest, p, root, nil, false},
		{"size/2", index, size / 2, digest, p, root, nil, false},
		{"size 0", index, 0, digest, p, root, ErrEmptyTree, false},
		{"empty root", index, size, digest, p, EmptyRoot(), nil, false},
		{"other root", index, size, digest, p, other, nil, false},
		{"trailing hash", index, size, digest, append(slices.Clone(p), other), root, ErrProofLength, false},
		{"trailing root", index, size, digest, append(slices.Clone(p), root), root, ErrProofLength, false},
		{"leading root", index, size, digest, append([]Hash{root}, p...), root, ErrProofLength, false},
	}
	if len(p) > 0 {
		ps = append(ps,
			probe{"missing last", index, size, digest, p[:len(p)-1], root, ErrProofLength, false},
			probe{"missing first", index, size, digest, p[1:], root, ErrProofLength, false},
		)
	}
	if len(p) > 1 {
		swapped := slices.Clone(p)
		swapped[0], swapped[1] = swapped[1], swapped[0]
		ps = append(ps, probe{"swapped 0 and 1", index, size, digest, swapped, root, nil, false})
		inserted := append([]Hash{p[0], other}, p[1:]...)
		ps = append(ps, probe{"inserted hash", index, size, digest, inserted, root, ErrProofLength, false})
	}
	for i := range p {
		for _, bit := range []uint{0, 3, 7, 255} {
			q := slices.Clone(p)
			q[i][bit/8] ^= 1 << (bit % 8)
			ps = append(ps, probe{fmt.Sprintf("path[%d] bit %d", i, bit), index, size, digest, q, root, nil, false})
		}
	}
	return ps
}

func TestVerifyInclusionCorruption(t *testing.T) {
	hasher := rfc6962.DefaultHasher
	sizes := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 1025}
	for _, size := range sizes {
		digests := testDigests(int(size))
		tr, err := New(digests)
		if err != nil {
			t.Fatal(err)
		}
		root := tr.Root()
		for _, index := range sampleIndexes(size) {
			p, err := tr.InclusionProof(index)
			if err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("index:%d:size:%d", index, size), func(t *testing.T) {
				if err := VerifyInclusion(index, size, digests[index], p, root); err != nil {
					t.Fatalf("VerifyInclusion of a good proof: %v", err)
				}
				for _, pr := range corruptions(index, size, digests[index], p, root) {
					err := VerifyInclusion(pr.index, pr.size, pr.digest, pr.proof, pr.root)
					// transparency-dev must decide every probe the same
					// way, so that neither verifier is laxer.
					lh := hasher.HashLeaf(pr.digest[:])
					refErr := proof.VerifyInclusion(hasher, pr.index, pr.size, lh, toBytes(pr.proof), pr.root[:])
					if got, want := err == nil, refErr == nil; got != want {
						t.Errorf("%s: VerifyInclusion = %v, proof.VerifyInclusion = %v", pr.desc, err, refErr)
					}
					if err == nil {
						if !pr.mayPass {
							t.Errorf("%s: VerifyInclusion succeeded, want error", pr.desc)
						}
						continue
					}
					if pr.wantErr != nil && !errors.Is(err, pr.wantErr) {
						t.Errorf("%s: VerifyInclusion = %v, want %v", pr.desc, err, pr.wantErr)
					}
				}
			})
		}
	}
}

func TestVerifyInclusionErrors(t *testing.T) {
	digests := testDigests(5)
	tr, err := New(digests)
	if err != nil {
		t.Fatal(err)
	}
	root := tr.Root()
	p2, _ := tr.InclusionProof(2)
	some := Hash{1}

	for _, tc := range []struct {
		name        string
		index, size uint64
		proof       []Hash
		root        Hash
		wantErr     error
		wantMsg     string
	}{
		{"size 0", 0, 0, nil, EmptyRoot(), ErrEmptyTree, "merkle: empty tree: got size 0, want at least 1"},
		{"index = size", 5, 5, p2, root, ErrIndexOutOfRange, "merkle: leaf index out of range: got index 5, want below size 5"},
		{"index > size", 9, 5, p2, root, ErrIndexOutOfRange, ""},
		{"max index and size", math.MaxUint64, math.MaxUint64, nil, root, ErrIndexOutOfRange, ""},
		{"short proof", 2, 5, p2[:1], root, ErrProofLength, "merkle: wrong proof length: got 1, want 3"},
		{"nil proof", 2, 5, nil, root, ErrProofLength, "merkle: wrong proof length: got 0, want 3"},
		{"huge size", 0, math.MaxUint64, nil, root, ErrProofLength, "merkle: wrong proof length: got 0, want 64"},
		{"size 1 with proof", 0, 1, []Hash{some}, root, ErrProofLength, "merkle: wrong proof length: got 1, want 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyInclusion(tc.index, tc.size, digests[2], tc.proof, tc.root)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("VerifyInclusion = %v, want %v", err, tc.wantErr)
			}
			if tc.wantMsg != "" && err.Error() != tc.wantMsg {
				t.Errorf("error = %q, want %q", err, tc.wantMsg)
			}
			got, err := RootFromInclusionProof(tc.index, tc.size, digests[2], tc.proof)
			if !errors.Is(err, tc.wantErr) || got != (Hash{}) {
				t.Errorf("RootFromInclusionProof = %s, %v, want zero hash, %v", got, err, tc.wantErr)
			}
		})
	}
}

func TestRootMismatchError(t *testing.T) {
	digests := testDigests(3)
	tr, err := New(digests)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := tr.InclusionProof(1)
	want := Hash{0xff}
	err = VerifyInclusion(1, 3, digests[1], p, want)
	var rm RootMismatchError
	if !errors.As(err, &rm) {
		t.Fatalf("VerifyInclusion = %v, want a RootMismatchError", err)
	}
	if rm.Got != tr.Root() || rm.Want != want {
		t.Errorf("RootMismatchError = {Got: %s, Want: %s}, want {Got: %s, Want: %s}", rm.Got, rm.Want, tr.Root(), want)
	}
	wantMsg := "merkle: root mismatch: got " + tr.Root().String() + ", want 0xff" + fmt.Sprintf("%062x", 0)
	if err.Error() != wantMsg {
		t.Errorf("error = %q, want %q", err, wantMsg)
	}
}

func TestProofLen(t *testing.T) {
	// Tree proofs are checked against transparency-dev and the RFC
	// definition elsewhere, so their lengths are the reference here.
	for size := uint64(1); size <= 300; size++ {
		tr, err := New(testDigests(int(size)))
		if err != nil {
			t.Fatal(err)
		}
		for index, p := range tr.AllInclusionProofs() {
			if got, want := proofLen(index, size), len(p); got != want {
				t.Fatalf("proofLen(%d, %d) = %d, want %d", index, size, got, want)
			}
		}
	}
}

// TestProofDoesNotBindSize pins down an RFC 9162 property that receipt
// verification depends on: a proof fixes the leaf index only for a given
// tree size, and a proof for one size can verify for another size (and
// then another index) against the same root. So a verifier must take the
// size from the anchor, never from the receipt alone.
func TestProofDoesNotBindSize(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		size, index, size2, index2 uint64
	}{
		{"left subtree leaf, any larger size", 1025, 0, 2048, 0},
		{"right child, other index and size", 2, 1, 3, 2},
		{"middle leaf", 100, 37, 127, 37},
	} {
		t.Run(tc.name, func(t *testing.T) {
			digests := testDigests(int(tc.size))
			tr, err := New(digests)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := tr.InclusionProof(tc.index)
			if err := VerifyInclusion(tc.index, tc.size, digests[tc.index], p, tr.Root()); err != nil {
				t.Fatalf("VerifyInclusion(%d, %d): %v", tc.index, tc.size, err)
			}
			if err := VerifyInclusion(tc.index2, tc.size2, digests[tc.index], p, tr.Root()); err != nil {
				t.Errorf("VerifyInclusion(%d, %d) = %v, want nil", tc.index2, tc.size2, err)
			}
			// With the size fixed, every other index is refused.
			for i := range tc.size {
				if i != tc.index && VerifyInclusion(i, tc.size, digests[tc.index], p, tr.Root()) == nil {
					t.Errorf("VerifyInclusion(%d, %d) succeeded for the proof of index %d", i, tc.size, tc.index)
				}
			}
		})
	}
}
