package did

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mr-tron/base58"
)

// sharedFixture returns the path of a file in the project's shared test
// fixtures, which sit beside the repository (../shared/fixtures from its root)
// on developer machines and in CI.
func sharedFixture(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "fixtures", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared fixture: %v (the tests expect shared/ beside the repository)", err)
	}
	return p
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestMultikeyW3CKeyPair decodes the key pair of the W3C vc-di-eddsa test
// vectors: the secret key's seed must derive the published public key.
func TestMultikeyW3CKeyPair(t *testing.T) {
	var kp struct {
		PublicKeyMultibase  string `json:"publicKeyMultibase"`
		PrivateKeyMultibase string `json:"privateKeyMultibase"`
	}
	readJSON(t, sharedFixture(t, "w3c-vc-di-eddsa/TestVectors/keyPair.json"), &kp)
	pub, err := DecodeMultikey(kp.PublicKeyMultibase)
	if err != nil {
		t.Fatalf("DecodeMultikey(public): %v", err)
	}
	priv, err := DecodeMultikeySecretEd25519(kp.PrivateKeyMultibase)
	if err != nil {
		t.Fatalf("DecodeMultikeySecretEd25519: %v", err)
	}
	if got := priv.Public().(ed25519.PublicKey); !got.Equal(pub) {
		t.Errorf("public key derived from the secret key = %x, want %x", got, pub)
	}
	if got := EncodeMultikeyEd25519(pub); got != kp.PublicKeyMultibase {
		t.Errorf("EncodeMultikeyEd25519 = %q, want %q", got, kp.PublicKeyMultibase)
	}
	if got := EncodeMultikeySecretEd25519(priv); got != kp.PrivateKeyMultibase {
		t.Errorf("EncodeMultikeySecretEd25519 = %q, want %q", got, kp.PrivateKeyMultibase)
	}
	if !strings.HasPrefix(kp.PrivateKeyMultibase, "z3u2") || !strings.HasPrefix(kp.PublicKeyMultibase, "z6Mk") {
		t.Errorf("vector prefixes changed: %q %q", kp.PublicKeyMultibase, kp.PrivateKeyMultibase)
	}
	// The secret key is a seed, not a public key: DecodeMultikey must say
	// which codec it met rather than return its bytes.
	if _, err := DecodeMultikey(kp.PrivateKeyMultibase); !errors.Is(err, ErrUnsupportedKey) || !strings.Contains(err.Error(), "ed25519-priv") {
		t.Errorf("DecodeMultikey(secret key) = %v, want ErrUnsupportedKey naming ed25519-priv", err)
	}
}

func TestMultikeyRoundTrip(t *testing.T) {
	for i := range 50 {
		seed := bytes.Repeat([]byte{byte(i)}, ed25519.SeedSize)
		seed[0] = byte(i * 7)
		priv := ed25519.NewKeyFromSeed(seed)
		pub := priv.Public().(ed25519.PublicKey)
		mk := EncodeMultikeyEd25519(pub)
		if !strings.HasPrefix(mk, "z6Mk") {
			t.Fatalf("EncodeMultikeyEd25519 = %q, want a z6Mk prefix", mk)
		}
		got, err := DecodeMultikey(mk)
		if err != nil || !got.Equal(pub) {
			t.Fatalf("DecodeMultikey(%q) = %x, %v; want %x", mk, got, err, pub)
		}
		sk, err := DecodeMultikeySecretEd25519(EncodeMultikeySecretEd25519(priv))
		if err != nil || !sk.Equal(priv) {
			t.Fatalf("secret key round trip: %v", err)
		}
	}
}

func TestDecodeMultikeyErrors(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	enc := func(prefix string, key []byte) string {
		return "z" + base58.Encode(append([]byte(prefix), key...))
	}
	p256, _ := hex.DecodeString("03" + strings.Repeat("11", 32))
	for _, tc := range []struct {
		name  string
		in    string
		want  error
		match string
	}{
		{"empty", "", ErrInvalidKey, "empty"},
		{"base64url header", "u" + strings.Repeat("A", 40), ErrInvalidKey, "multibase header"},
		{"base16 header", "fed01" + hex.EncodeToString(pub), ErrInvalidKey, "multibase header"},
		{"not base58", "z6Mk0OIl", ErrInvalidKey, "not base58btc"},
		{"header only", "z", ErrInvalidKey, ""},
		{"too long", "z" + strings.Repeat("2", 300), ErrInvalidKey, "at most"},
		{"short key", enc("\xed\x01", pub[:31]), ErrInvalidKey, "31 key bytes"},
		{"long key", enc("\xed\x01", append(bytes.Clone(pub), 0)), ErrInvalidKey, "33 key bytes"},
		{"raw key without codec", enc("", pub), ErrInvalidKey, "not a key type"},
		{"padded varint", enc("\xed\x81\x00", pub), ErrInvalidKey, "minimally"},
		{"P-256", enc("\x80\x24", p256), ErrUnsupportedKey, "p256-pub"},
		{"secp256k1", enc("\xe7\x01", p256), ErrUnsupportedKey, "secp256k1-pub"},
		{"X25519", enc("\xec\x01", pub), ErrUnsupportedKey, "x25519-pub"},
		{"truncated varint", enc("\xff", nil), ErrInvalidKey, "no multicodec"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeMultikey(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("DecodeMultikey(%q) = %x, %v; want %v", tc.in, got, err, tc.want)
			}
			if got != nil {
				t.Errorf("returned a key with an error")
			}
			if tc.match != "" && !strings.Contains(err.Error(), tc.match) {
				t.Errorf("error %q does not mention %q", err, tc.match)
			}
		})
	}
}

func TestEncodeWrongSizes(t *testing.T) {
	if got := EncodeMultikeyEd25519(make([]byte, 31)); got != "" {
		t.Errorf("EncodeMultikeyEd25519(31 bytes) = %q, want empty", got)
	}
	if got := EncodeMultikeySecretEd25519(make([]byte, 32)); got != "" {
		t.Errorf("EncodeMultikeySecretEd25519(32 bytes) = %q, want empty", got)
	}
	if got := NewDIDKey(nil); got != "" {
		t.Errorf("NewDIDKey(nil) = %q, want empty", got)
	}
}
