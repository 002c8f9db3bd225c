package registry_test

import (
	"crypto/sha256"
	"fmt"
	"math/bits"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/credanchor/credanchor/contracts/registry"
)

// A small RFC 9162 tree (section 2.1.1) and audit path (section 2.1.3.1),
// written from the RFC's recursive definitions, independent of the contract's
// iterative walk and cross-checked against transparency-dev/merkle.

func leafHash(digest common.Hash) common.Hash {
	return sha256.Sum256(append([]byte{0x00}, digest[:]...))
}

func nodeHash(left, right common.Hash) common.Hash {
	return sha256.Sum256(append(append([]byte{0x01}, left[:]...), right[:]...))
}

// split is k of RFC 9162: the largest power of two smaller than n (n > 1).
func split(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}

// treeHash is MTH(D[n]) for n >= 1.
func treeHash(d []common.Hash) common.Hash {
	if len(d) == 1 {
		return leafHash(d[0])
	}
	k := split(len(d))
	return nodeHash(treeHash(d[:k]), treeHash(d[k:]))
}

// auditPath is PATH(m, D[n]).
func auditPath(m int, d []common.Hash) [][32]byte {
	if len(d) == 1 {
		return nil
	}
	k := split(len(d))
	if m < k {
		return append(auditPath(m, d[:k]), treeHash(d[k:]))
	}
	return append(auditPath(m-k, d[k:]), treeHash(d[:k]))
}

func digests(label string, n int) []common.Hash {
	d := make([]common.Hash, n)
	for i := range d {
		d[i] = sha256.Sum256(fmt.Appendf(nil, "%s credential %d", label, i))
	}
	return d
}

// verifier anchors trees with one member's key and checks proofs on chain.
type verifier struct {
	*chain
	member institution
	key    account
}

func newVerifier(t *testing.T) *verifier {
	m, k := newInstitution(t, "a"), newAccount(t, "ka")
	ch := newRegistry(t, nil, []institution{m}, 1, k)
	ch.send(m.account, ch.reg.PackAuthorizeKey(k.addr))
	return &verifier{chain: ch, member: m, key: k}
}

// anchor anchors root with size and returns the block it landed in.
func (v *verifier) anchor(root common.Hash, size uint64) uint64 {
	v.tb.Helper()
	return v.send(v.key, v.reg.PackAnchor(root, size)).BlockNumber.Uint64()
}

func (v *verifier) verify(digest common.Hash, index, size uint64, path [][32]byte) registry.VerifyInclusionOutput {
	v.tb.Helper()
	return call(v.chain, v.reg.PackVerifyInclusion(digest, index, size, path), v.reg.UnpackVerifyInclusion)
}

func (v *verifier) verifyErr(digest common.Hash, index, size uint64, path [][32]byte) any {
	v.tb.Helper()
	return callErr(v.chain, v.reg.PackVerifyInclusion(digest, index, size, path), v.reg.UnpackVerifyInclusion)
}

func TestVerifyInclusion(t *testing.T) {
	v := newVerifier(t)
	for _, size := range []int{1, 2, 3, 5, 7, 8, 300} {
		t.Run(fmt.Sprintf("size %d", size), func(t *testing.T) {
			d := digests(fmt.Sprint(size), size)
			root := treeHash(d)
			block := v.anchor(root, uint64(size))
			want := registry.VerifyInclusionOutput{Root: root, Member: v.member.addr, BlockNumber: block}
			for i := range d {
				path := auditPath(i, d)
				// The helper's proofs must hold for transparency-dev/merkle too.
				p := make([][]byte, len(path))
				for j := range path {
					p[j] = path[j][:]
				}
				if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(size), rfc6962.DefaultHasher.HashLeaf(d[i][:]), p, root[:]); err != nil {
					t.Fatalf("leaf %d: test helper's proof fails transparency-dev/merkle: %v", i, err)
				}
				if got := v.verify(d[i], uint64(i), uint64(size), path); got != want {
					t.Errorf("leaf %d: got %+v, want %+v", i, got, want)
				}
			}
		})
	}

	// A proof in a tree of 2^20 leaves (20 path elements): the siblings can
	// be any hashes, transparency-dev/merkle computes the root they lead to.
	t.Run("size 2^20", func(t *testing.T) {
		const size, index = 1 << 20, 654_321
		digest, path, root := deepProof(t, size, index)
		block := v.anchor(root, size)
		want := registry.VerifyInclusionOutput{Root: root, Member: v.member.addr, BlockNumber: block}
		if got := v.verify(digest, index, size, path); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

// deepProof returns a digest, an audit path of made-up siblings and the root
// they lead to for leaf index of a tree of size leaves.
func deepProof(tb testing.TB, size, index uint64) (common.Hash, [][32]byte, common.Hash) {
	tb.Helper()
	digest := hash32(fmt.Sprintf("deep digest %d/%d", index, size))
	n := bits.Len64(index^(size-1)) + bits.OnesCount64(index>>bits.Len64(index^(size-1)))
	path := make([][32]byte, n)
	p := make([][]byte, n)
	for i := range path {
		path[i] = hash32(fmt.Sprintf("deep sibling %d", i))
		p[i] = path[i][:]
	}
	root, err := proof.RootFromInclusionProof(rfc6962.DefaultHasher, index, size, rfc6962.DefaultHasher.HashLeaf(digest[:]), p)
	if err != nil {
		tb.Fatal(err)
	}
	return digest, path, common.Hash(root)
}

// TestVerifyInclusionRejects checks corrupted proofs: a proof that is
// malformed for its index and size reverts; a well-formed one that does not
// lead to a root anchored with that size returns member zero.
func TestVerifyInclusionRejects(t *testing.T) {
	v := newVerifier(t)
	d8, d7 := digests("eight", 8), digests("seven", 7)
	root8, root7 := treeHash(d8), treeHash(d7)
	v.anchor(root8, 8)
	v.anchor(root7, 7)
	d5 := digests("five, never anchored", 5)

	flip := func(path [][32]byte, i int) [][32]byte {
		out := append([][32]byte(nil), path...)
		out[i][7] ^= 0x10
		return out
	}
	p8 := auditPath(2, d8) // 3 elements
	p7 := auditPath(0, d7) // 3 elements
	p1 := auditPath(0, d8[:1])

	notAnchored := func(root common.Hash) *registry.VerifyInclusionOutput {
		return &registry.VerifyInclusionOutput{Root: root}
	}
	for _, tc := range []struct {
		name        string
		digest      common.Hash
		index, size uint64
		path        [][32]byte
		want        any // *VerifyInclusionOutput, or the custom error
	}{
		{"wrong digest", d8[3], 2, 8, p8, nil},
		{"wrong index, same path shape", d8[2], 3, 8, p8, nil},
		{"wrong index, other path length", d7[0], 6, 7, p7, &registry.RegistryInvalidProofLength{Got: 3, Want: 2}},
		{"wrong size, same path shape", d8[2], 2, 7, p8, notAnchored(root8)},
		{"wrong size, other path length", d8[2], 2, 9, p8, &registry.RegistryInvalidProofLength{Got: 3, Want: 4}},
		{"altered first element", d8[2], 2, 8, flip(p8, 0), nil},
		{"altered last element", d8[2], 2, 8, flip(p8, 2), nil},
		{"extra element", d8[2], 2, 8, append(p8, p8[0]), &registry.RegistryInvalidProofLength{Got: 4, Want: 3}},
		{"missing element", d8[2], 2, 8, p8[:2], &registry.RegistryInvalidProofLength{Got: 2, Want: 3}},
		{"empty path", d8[2], 2, 8, nil, &registry.RegistryInvalidProofLength{Got: 0, Want: 3}},
		{"size 1 with a path", d8[0], 0, 1, [][32]byte{root8}, &registry.RegistryInvalidProofLength{Got: 1, Want: 0}},
		{"index equal to size", d8[2], 8, 8, p8, &registry.RegistryIndexOutOfRange{LeafIndex: 8, TreeSize: 8}},
		{"index above size", d8[2], 100, 8, p8, &registry.RegistryIndexOutOfRange{LeafIndex: 100, TreeSize: 8}},
		{"size 0", d8[0], 0, 0, p1, &registry.RegistryIndexOutOfRange{LeafIndex: 0, TreeSize: 0}},
		{"unanchored tree", d5[4], 4, 5, auditPath(4, d5), notAnchored(treeHash(d5))},
		{"unanchored single leaf", d5[0], 0, 1, p1, notAnchored(leafHash(d5[0]))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			switch want := tc.want.(type) {
			case nil: // any root but an anchored one, no member
				got := v.verify(tc.digest, tc.index, tc.size, tc.path)
				if got.Member != (common.Address{}) || got.BlockNumber != 0 || got.Root == root8 || got.Root == root7 {
					t.Errorf("got %+v, want an unanchored root and no member", got)
				}
			case *registry.VerifyInclusionOutput:
				if got := v.verify(tc.digest, tc.index, tc.size, tc.path); got != *want {
					t.Errorf("got %+v, want %+v", got, *want)
				}
			default:
				if got := v.verifyErr(tc.digest, tc.index, tc.size, tc.path); !reflect.DeepEqual(got, want) {
					t.Errorf("got %T%+v, want %T%+v", got, got, want, want)
				}
			}
		})
	}
}
