package did

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"
)

// TestCachesHandOutCopies: a caller that changes the key it got back does
// not change what the next caller gets.
func TestCachesHandOutCopies(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey)
	mk := EncodeMultikeyEd25519(pub)
	for range 2 {
		k, err := DecodeMultikey(mk)
		if err != nil || !bytes.Equal(k, pub) {
			t.Fatalf("DecodeMultikey = %x, %v; want %x", k, err, pub)
		}
		k[0] ^= 0xff
	}
	if _, err := DecodeMultikey("z6Mk"); err == nil {
		t.Error("a malformed key decoded")
	}
}

// TestCacheBounded: the cache forgets rather than grow past its size.
func TestCacheBounded(t *testing.T) {
	var c boundedCache[int]
	for i := range 3 * cacheSize {
		c.put(string(rune(i)), i)
		if len(c.m) > cacheSize {
			t.Fatalf("%d entries, bound %d", len(c.m), cacheSize)
		}
	}
	if v, ok := c.get(string(rune(3*cacheSize - 1))); !ok || v != 3*cacheSize-1 {
		t.Errorf("the newest entry is gone: %d, %v", v, ok)
	}
}

// BenchmarkResolveDIDKey resolves a did:key verification method to its
// key, as a verifier does for every proof.
func BenchmarkResolveDIDKey(b *testing.B) {
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	d := NewDIDKey(pub)
	vm := d + "#" + EncodeMultikeyEd25519(pub)
	r := NewMultiResolver(map[string]Resolver{"key": KeyResolver{}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m, err := ResolveVerificationMethod(ctx, r, vm, AssertionMethod)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Ed25519PublicKey(); err != nil {
			b.Fatal(err)
		}
	}
}
