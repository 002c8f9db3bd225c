package merkle

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// FuzzVerifyInclusion checks that arbitrary input never panics the
// verifier, and that a proof from a small tree built from the input always
// verifies, with this package and with transparency-dev.
func FuzzVerifyInclusion(f *testing.F) {
	tr, _ := New(testDigests(7))
	p, _ := tr.InclusionProof(5)
	root := tr.Root()
	good := append(append([]byte{}, testDigests(7)[5][:]...), root[:]...)
	for _, h := range p {
		good = append(good, h[:]...)
	}
	f.Add(uint64(5), uint64(7), good)
	f.Add(uint64(0), uint64(0), []byte{})
	f.Add(uint64(0), uint64(1), make([]byte, 64))
	f.Add(uint64(1<<63), uint64(1<<64-1), make([]byte, 64+64*32))
	f.Add(uint64(3), uint64(2), []byte("short"))

	hasher := rfc6962.DefaultHasher
	f.Fuzz(func(t *testing.T, index, size uint64, data []byte) {
		// Random input: digest, root, then the path in 32-byte pieces.
		var digest, root Hash
		rest := data[copy(digest[:], data):]
		rest = rest[copy(root[:], rest):]
		var path []Hash
		for len(rest) > 0 {
			var h Hash
			rest = rest[copy(h[:], rest):]
			path = append(path, h)
		}
		got, err := RootFromInclusionProof(index, size, digest, path)
		verr := VerifyInclusion(index, size, digest, path, root)
		switch {
		case err != nil:
			if !errors.Is(err, ErrEmptyTree) && !errors.Is(err, ErrIndexOutOfRange) && !errors.Is(err, ErrProofLength) {
				t.Fatalf("RootFromInclusionProof: unexpected error %v", err)
			}
			if verr == nil || verr.Error() != err.Error() {
				t.Fatalf("VerifyInclusion = %v, want %v", verr, err)
			}
		case got == root:
			if verr != nil {
				t.Fatalf("VerifyInclusion = %v, want nil", verr)
			}
		default:
			var rm RootMismatchError
			if !errors.As(verr, &rm) || rm.Got != got || rm.Want != root {
				t.Fatalf("VerifyInclusion = %v, want RootMismatchError{%s, %s}", verr, got, root)
			}
		}

		// A small tree whose digests derive from the input: every proof
		// in it must verify.
		n := int(size%97) + 1
		digests := make([]Hash, n)
		var ctr [8]byte
		for i := range digests {
			binary.BigEndian.PutUint64(ctr[:], uint64(i))
			digests[i] = sha256.Sum256(append(ctr[:], data...))
		}
		tr, err := New(digests)
		if err != nil {
			t.Fatalf("New(%d digests): %v", n, err)
		}
		i := index % uint64(n)
		p, err := tr.InclusionProof(i)
		if err != nil {
			t.Fatalf("InclusionProof(%d): %v", i, err)
		}
		r := tr.Root()
		if err := VerifyInclusion(i, uint64(n), digests[i], p, r); err != nil {
			t.Fatalf("VerifyInclusion(%d, %d): %v", i, n, err)
		}
		if err := proof.VerifyInclusion(hasher, i, uint64(n), hasher.HashLeaf(digests[i][:]), toBytes(p), r[:]); err != nil {
			t.Fatalf("proof.VerifyInclusion(%d, %d): %v", i, n, err)
		}
	})
}

// FuzzParseHash checks that decoding never panics, accepts exactly 64 hex
// digits with an optional 0x or 0X prefix, and round-trips.
func FuzzParseHash(f *testing.F) {
	for _, s := range []string{"", "0x", "0X" + upperHex, "0x" + lowerHex, lowerHex, lowerHex[1:], "0x" + lowerHex + "00", "0xzz", "0x0x" + lowerHex[4:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHash(s)
		body := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
		wantOK := len(body) == 64 && strings.Trim(body, "0123456789abcdefABCDEF") == "" && len(s)-len(body) <= 2
		if got := err == nil; got != wantOK {
			t.Fatalf("ParseHash(%q) error = %v, want ok = %v", s, err, wantOK)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("ParseHash(%q) = %v, want ErrInvalidHash", s, err)
			}
			return
		}
		if got, want := h.String(), "0x"+strings.ToLower(body); got != want {
			t.Fatalf("String() = %q, want %q", got, want)
		}
		back, err := ParseHash(h.String())
		if err != nil || back != h {
			t.Fatalf("ParseHash(String()) = %s, %v, want %s, nil", back, err, h)
		}
		// A receipt path is a list of such strings.
		if _, err := ParseProof(strings.Split(s, ",")); err != nil && !errors.Is(err, ErrInvalidHash) && !errors.Is(err, ErrProofLength) {
			t.Fatalf("ParseProof: unexpected error %v", err)
		}
	})
}
