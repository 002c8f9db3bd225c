package vcjwt

// A did:key issuer flow without the DID package: the test decodes did:key
// Ed25519 identifiers itself (base58btc multibase, multicodec 0xed 0x01).

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func base58Encode(b []byte) string {
	n := new(big.Int).SetBytes(b)
	var out []byte
	mod, radix := new(big.Int), big.NewInt(58)
	for n.Sign() > 0 {
		n.DivMod(n, radix, mod)
		out = append(out, base58Alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func base58Decode(s string) ([]byte, error) {
	n, radix := new(big.Int), big.NewInt(58)
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	for _, c := range []byte(s) {
		i := strings.IndexByte(base58Alphabet, c)
		if i < 0 {
			return nil, fmt.Errorf("bad base58 character %q", c)
		}
		n.Mul(n, radix).Add(n, big.NewInt(int64(i)))
	}
	return append(make([]byte, zeros), n.Bytes()...), nil
}

func didKeyFor(pub ed25519.PublicKey) string {
	return "did:key:z" + base58Encode(append([]byte{0xed, 0x01}, pub...))
}

func decodeDIDKey(did string) (ed25519.PublicKey, error) {
	mb, ok := strings.CutPrefix(did, "did:key:z")
	if !ok {
		return nil, fmt.Errorf("not a base58btc did:key: %q", did)
	}
	raw, err := base58Decode(mb)
	if err != nil {
		return nil, err
	}
	if len(raw) != 2+ed25519.PublicKeySize || raw[0] != 0xed || raw[1] != 0x01 {
		return nil, fmt.Errorf("not an Ed25519 did:key: %q", did)
	}
	return ed25519.PublicKey(raw[2:]), nil
}

// didKeyResolver does what the DID package's resolver does for did:key: the
// only verification method is did:key:z...#z..., under every relationship.
type didKeyResolver struct{}

func (didKeyResolver) ResolveKey(_ context.Context, kid, _ string) (crypto.PublicKey, error) {
	did, frag, ok := strings.Cut(kid, "#")
	if !ok || "did:key:"+frag != did {
		return nil, fmt.Errorf("%q is not a did:key verification method", kid)
	}
	return decodeDIDKey(did)
}

func TestDIDKeyVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "fixtures", "w3c-ccg-did-key-spec", "ed25519-x25519.json"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("did:key vectors not present")
	}
	if err != nil {
		t.Fatal(err)
	}
	var vectors map[string]struct {
		Seed string `json:"seed"`
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	for did, v := range vectors {
		seed, err := hex.DecodeString(v.Seed)
		if err != nil {
			t.Fatal(err)
		}
		pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		if got := didKeyFor(pub); got != did {
			t.Errorf("seed %s: did:key %s, want %s", v.Seed, got, did)
		}
		if got, err := decodeDIDKey(did); err != nil || !got.Equal(pub) {
			t.Errorf("decode %s = %x, %v", did, got, err)
		}
	}
}

func TestDIDKeyIssuerFlow(t *testing.T) {
	issuerKey := ed25519.NewKeyFromSeed([]byte("credanchor did:key issuer seed!!"))
	did := didKeyFor(issuerKey.Public().(ed25519.PublicKey))
	kid := did + "#" + strings.TrimPrefix(did, "did:key:")
	doc := strings.Replace(sampleVC, `"did:example:issuer"`, `"`+did+`"`, 1)
	tok, err := Sign([]byte(doc), issuerKey, kid)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(context.Background(), tok, didKeyResolver{}, opts())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Issuer() != did {
		t.Errorf("issuer %q, want %q", got.Issuer(), did)
	}

	// Mallory signs the same credential with her own did:key: the kid is a
	// real key, but not the issuer's.
	mallory := ed25519.NewKeyFromSeed([]byte("mallory's seed, 32 bytes long!!!"))
	mDID := didKeyFor(mallory.Public().(ed25519.PublicKey))
	forged, err := Sign([]byte(doc), mallory, mDID+"#"+strings.TrimPrefix(mDID, "did:key:"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(context.Background(), forged, didKeyResolver{}, opts()); !errors.Is(err, ErrKeyBinding) {
		t.Errorf("forged: err = %v, want ErrKeyBinding", err)
	}
	// And with the issuer's kid but her key: the signature fails.
	forged2, err := Sign([]byte(doc), mallory, kid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(context.Background(), forged2, didKeyResolver{}, opts()); !errors.Is(err, ErrSignature) {
		t.Errorf("forged with issuer kid: err = %v, want ErrSignature", err)
	}
}
