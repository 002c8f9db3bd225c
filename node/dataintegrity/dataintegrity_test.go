package dataintegrity_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/did"
)

const vectors = "testdata/vc-di-eddsa"

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectors, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vectorKey is the W3C vectors' key pair and its did:key method.
func vectorKey(t testing.TB) (ed25519.PrivateKey, string) {
	t.Helper()
	var kp struct{ PublicKeyMultibase, PrivateKeyMultibase string }
	if err := json.Unmarshal(read(t, "keyPair.json"), &kp); err != nil {
		t.Fatal(err)
	}
	priv, err := did.DecodeMultikeySecretEd25519(kp.PrivateKeyMultibase)
	if err != nil {
		t.Fatal(err)
	}
	return priv, "did:key:" + kp.PublicKeyMultibase + "#" + kp.PublicKeyMultibase
}

// didKeys resolves did:key verification methods, as the node does.
type didKeys struct{}

func (didKeys) ResolveKey(ctx context.Context, vm, purpose string) (ed25519.PublicKey, error) {
	m, err := did.ResolveVerificationMethod(ctx, did.KeyResolver{}, vm, did.Relationship(purpose))
	if err != nil {
		return nil, err
	}
	return m.Ed25519PublicKey()
}

// TestW3CVectorReproduces signs the W3C unsigned credential with the W3C key
// and proof options, and gets the W3C signed credential byte for byte in its
// proofValue.
func TestW3CVectorReproduces(t *testing.T) {
	priv, vm := vectorKey(t)
	created, _ := time.Parse(time.RFC3339, "2023-02-24T23:36:38Z")
	signed, err := dataintegrity.SignJCS(read(t, "unsigned.json"), priv, dataintegrity.Options{VerificationMethod: vm, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	var got, want struct {
		Proof map[string]any `json:"proof"`
	}
	json.Unmarshal(signed, &got)
	json.Unmarshal(read(t, "eddsa-jcs-2022/signedJCS.json"), &want)
	if got.Proof["proofValue"] != want.Proof["proofValue"] {
		t.Fatalf("proofValue %v, want %v", got.Proof["proofValue"], want.Proof["proofValue"])
	}
	wantSig := strings.TrimSpace(string(read(t, "eddsa-jcs-2022/sigBTC58JCS.txt")))
	if got.Proof["proofValue"] != wantSig {
		t.Fatalf("proofValue %v, want sigBTC58JCS %s", got.Proof["proofValue"], wantSig)
	}
	for k, v := range want.Proof {
		if fmt.Sprint(got.Proof[k]) != fmt.Sprint(v) {
			t.Errorf("proof.%s = %v, want %v", k, got.Proof[k], v)
		}
	}
	if _, err := dataintegrity.Verify(context.Background(), signed, didKeys{}, dataintegrity.VerifyOptions{}); err != nil {
		t.Fatalf("Verify(own output): %v", err)
	}
}

func TestVerifyW3CSigned(t *testing.T) {
	got, err := dataintegrity.Verify(context.Background(), read(t, "eddsa-jcs-2022/signedJCS.json"), didKeys{}, dataintegrity.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Purpose != "assertionMethod" || got[0].Created.IsZero() {
		t.Fatalf("verified = %+v", got)
	}
}

func TestVerifyRefuses(t *testing.T) {
	signed := read(t, "eddsa-jcs-2022/signedJCS.json")
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(signed, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	proof := func(m map[string]any) map[string]any { return m["proof"].(map[string]any) }
	other := ed25519.NewKeyFromSeed(make([]byte, 32))
	otherVM := did.NewDIDKey(other.Public().(ed25519.PublicKey))
	otherVM += "#" + strings.TrimPrefix(otherVM, "did:key:")
	for _, tc := range []struct {
		name string
		doc  []byte
		opts dataintegrity.VerifyOptions
		want error
	}{
		{"changed claim", edit(func(m map[string]any) { m["name"] = "Alumnus Credential" }), dataintegrity.VerifyOptions{}, dataintegrity.ErrSignature},
		{"changed proof option", edit(func(m map[string]any) { proof(m)["created"] = "2023-02-24T23:36:39Z" }), dataintegrity.VerifyOptions{}, dataintegrity.ErrSignature},
		{"another key's method", edit(func(m map[string]any) { proof(m)["verificationMethod"] = otherVM }), dataintegrity.VerifyOptions{}, dataintegrity.ErrSignature},
		{"no proof", edit(func(m map[string]any) { delete(m, "proof") }), dataintegrity.VerifyOptions{}, dataintegrity.ErrMalformed},
		{"bad proofValue", edit(func(m map[string]any) { proof(m)["proofValue"] = "uAAAA" }), dataintegrity.VerifyOptions{}, dataintegrity.ErrMalformed},
		{"short signature", edit(func(m map[string]any) { proof(m)["proofValue"] = "z3yMR7" }), dataintegrity.VerifyOptions{}, dataintegrity.ErrMalformed},
		{"other cryptosuite", edit(func(m map[string]any) { proof(m)["cryptosuite"] = "eddsa-rdfc-2099" }), dataintegrity.VerifyOptions{}, dataintegrity.ErrUnsupported},
		{"wrong purpose", signed, dataintegrity.VerifyOptions{Purpose: "authentication"}, dataintegrity.ErrPurpose},
		{"challenge expected", signed, dataintegrity.VerifyOptions{Challenge: "abc"}, dataintegrity.ErrChallenge},
		{"domain expected", signed, dataintegrity.VerifyOptions{Domain: "example.org"}, dataintegrity.ErrDomain},
		{"proof context not a prefix", edit(func(m map[string]any) {
			proof(m)["@context"] = []any{"https://www.w3.org/ns/credentials/examples/v2"}
		}), dataintegrity.VerifyOptions{}, dataintegrity.ErrMalformed},
		{"not an object", []byte(`[1,2]`), dataintegrity.VerifyOptions{}, dataintegrity.ErrMalformed},
		{"duplicate key", []byte(`{"proof":{},"proof":{}}`), dataintegrity.VerifyOptions{}, dataintegrity.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := dataintegrity.Verify(context.Background(), tc.doc, didKeys{}, tc.opts); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestProofSetAndBinding(t *testing.T) {
	priv, vm := vectorKey(t)
	seed := sha256.Sum256([]byte("credanchor second test signer"))
	second := ed25519.NewKeyFromSeed(seed[:])
	secondVM := did.NewDIDKey(second.Public().(ed25519.PublicKey))
	secondVM += "#" + strings.TrimPrefix(secondVM, "did:key:")
	now := time.Now()
	doc, err := dataintegrity.SignJCS(read(t, "unsigned.json"), priv, dataintegrity.Options{VerificationMethod: vm})
	if err != nil {
		t.Fatal(err)
	}
	doc, err = dataintegrity.SignJCS(doc, second, dataintegrity.Options{
		VerificationMethod: secondVM, Purpose: "authentication", Challenge: "c-1", Domain: "verifier.example", Expires: now.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each proof of the set verifies with its own purpose: the first is an
	// assertion, so asking every proof for authentication fails.
	if _, err := dataintegrity.Verify(context.Background(), doc, didKeys{}, dataintegrity.VerifyOptions{Purpose: "authentication", Challenge: "c-1"}); !errors.Is(err, dataintegrity.ErrPurpose) {
		t.Fatalf("proof set with mixed purposes: got %v, want ErrPurpose", err)
	}
	var m map[string]any
	json.Unmarshal(doc, &m)
	proofs := m["proof"].([]any)
	if len(proofs) != 2 {
		t.Fatalf("proof set of %d, want 2", len(proofs))
	}
	m["proof"] = proofs[1]
	bound, _ := json.Marshal(m)
	for _, tc := range []struct {
		name string
		opts dataintegrity.VerifyOptions
		want error
	}{
		{"bound", dataintegrity.VerifyOptions{Purpose: "authentication", Challenge: "c-1", Domain: "verifier.example"}, nil},
		{"replayed elsewhere", dataintegrity.VerifyOptions{Purpose: "authentication", Challenge: "c-2"}, dataintegrity.ErrChallenge},
		{"expired", dataintegrity.VerifyOptions{Purpose: "authentication", Now: now.Add(2 * time.Hour)}, dataintegrity.ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dataintegrity.Verify(context.Background(), bound, didKeys{}, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify: got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestProofContextShape: a proof's @context is hashed in its own shape, so a
// string where the signer's proof had an array of that one entry does not
// verify.
func TestProofContextShape(t *testing.T) {
	priv, vm := vectorKey(t)
	var unsigned map[string]any
	if err := json.Unmarshal(read(t, "unsigned.json"), &unsigned); err != nil {
		t.Fatal(err)
	}
	unsigned["@context"] = []any{"https://www.w3.org/ns/credentials/v2"}
	doc, _ := json.Marshal(unsigned)
	signed, err := dataintegrity.SignJCS(doc, priv, dataintegrity.Options{VerificationMethod: vm})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dataintegrity.Verify(context.Background(), signed, didKeys{}, dataintegrity.VerifyOptions{}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	var m map[string]any
	json.Unmarshal(signed, &m)
	m["proof"].(map[string]any)["@context"] = "https://www.w3.org/ns/credentials/v2"
	edited, _ := json.Marshal(m)
	if _, err := dataintegrity.Verify(context.Background(), edited, didKeys{}, dataintegrity.VerifyOptions{}); !errors.Is(err, dataintegrity.ErrSignature) {
		t.Fatalf("Verify with the proof's @context a string: got %v, want ErrSignature", err)
	}
}

// TestVerifyDecodedText: a proof covers the decoded document, so
// reformatting keeps it, and an escaped lone surrogate hashes as the
// U+FFFD it decodes to, as when it was signed.
func TestVerifyDecodedText(t *testing.T) {
	priv, vm := vectorKey(t)
	for _, doc := range []string{
		`{"@context":["https://www.w3.org/ns/credentials/v2"],"name":"lone \ud800 surrogate","n":1.0}`,
		`{"@context":["https://www.w3.org/ns/credentials/v2"],"b":[1e3,"\u00e9"],"a":{"y":true,"x":null}}`,
	} {
		signed, err := dataintegrity.SignJCS([]byte(doc), priv, dataintegrity.Options{VerificationMethod: vm})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(signed, &m)
		indented, _ := json.MarshalIndent(m, "", "  ")
		// The signer encoded the U+FFFD it decoded; escape it back.
		escaped := bytes.ReplaceAll(signed, []byte("\uFFFD"), []byte(`\ud800`))
		if strings.Contains(doc, `\ud800`) && !bytes.Contains(escaped, []byte(`\ud800`)) {
			t.Fatalf("no lone surrogate left in %s", escaped)
		}
		for _, d := range [][]byte{signed, indented, escaped} {
			if _, err := dataintegrity.Verify(context.Background(), d, didKeys{}, dataintegrity.VerifyOptions{}); err != nil {
				t.Errorf("Verify(%s): %v", d, err)
			}
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(read(f, "eddsa-jcs-2022/signedJCS.json"))
	f.Add(read(f, "eddsa-rdfc-2022/signedDataInt.json"))
	f.Add(read(f, "Ed25519Signature2020/signedEdSig.json"))
	f.Add([]byte(`{"@context":["https://www.w3.org/2018/credentials/v1"],"proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-rdfc-2022","proofPurpose":"assertionMethod","verificationMethod":"did:key:z","proofValue":"z11"}}`))
	f.Add([]byte(`{"proof":[{"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod","verificationMethod":"did:key:z","proofValue":"z11"}]}`))
	f.Add([]byte(`{"proof":{}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		// Never a panic; an error is fine.
		dataintegrity.Verify(context.Background(), doc, didKeys{}, dataintegrity.VerifyOptions{})
	})
}

// FuzzSignJCS: signing any document either fails as malformed or gives
// one whose proof verifies.
func FuzzSignJCS(f *testing.F) {
	f.Add(read(f, "unsigned.json"))
	f.Add(read(f, "eddsa-jcs-2022/signedJCS.json"))
	f.Add([]byte(`{"a":"\ud800","n":[1e400]}`))
	f.Add([]byte(`{"@context":"x","proof":[{"id":"p"}],"b":-0.0}`))
	priv, vm := vectorKey(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		signed, err := dataintegrity.SignJCS(doc, priv, dataintegrity.Options{VerificationMethod: vm})
		if err != nil {
			if !errors.Is(err, dataintegrity.ErrMalformed) {
				t.Fatalf("SignJCS: %v is not ErrMalformed", err)
			}
			return
		}
		if _, err := dataintegrity.Verify(context.Background(), signed, didKeys{}, dataintegrity.VerifyOptions{}); err != nil {
			// A proof already there may be of another kind; the new one
			// is not the problem then.
			var m map[string]any
			json.Unmarshal(doc, &m)
			if _, had := m["proof"]; !had {
				t.Fatalf("Verify(SignJCS(%q)): %v", doc, err)
			}
		}
	})
}

func BenchmarkVerifyJCS(b *testing.B) {
	doc := read(b, "eddsa-jcs-2022/signedJCS.json")
	ctx := context.Background()
	for b.Loop() {
		if _, err := dataintegrity.Verify(ctx, doc, didKeys{}, dataintegrity.VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}
