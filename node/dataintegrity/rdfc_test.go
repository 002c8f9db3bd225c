package dataintegrity_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/credanchor/credanchor/node/jsonld"
)

func vector(t testing.TB, name string) string {
	return strings.TrimSpace(string(read(t, name)))
}

// TestW3CRDFCVectorReproduces checks every step of the eddsa-rdfc-2022
// vector: canonical document and proof configuration, their hashes, and the
// signature SignRDFC makes with the W3C key.
func TestW3CRDFCVectorReproduces(t *testing.T) {
	var unsigned map[string]any
	if err := json.Unmarshal(read(t, "unsigned.json"), &unsigned); err != nil {
		t.Fatal(err)
	}
	canonDoc, err := jsonld.Canonicalize(read(t, "unsigned.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := read(t, "eddsa-rdfc-2022/canonDocDataInt.txt"); !bytes.Equal(canonDoc, want) {
		t.Fatalf("canonical document\n%s\nwant\n%s", canonDoc, want)
	}
	canonProof, err := jsonld.Canonicalize(read(t, "eddsa-rdfc-2022/proofConfigDataInt.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := read(t, "eddsa-rdfc-2022/proofCanonDataInt.txt"); !bytes.Equal(canonProof, want) {
		t.Fatalf("canonical proof configuration\n%s\nwant\n%s", canonProof, want)
	}
	docHash, proofHash := sha256.Sum256(canonDoc), sha256.Sum256(canonProof)
	for _, c := range []struct{ name, got string }{
		{"eddsa-rdfc-2022/docHashDataInt.txt", hex.EncodeToString(docHash[:])},
		{"eddsa-rdfc-2022/proofHashDataInt.txt", hex.EncodeToString(proofHash[:])},
		{"eddsa-rdfc-2022/combinedHashDataInt.txt", hex.EncodeToString(append(proofHash[:], docHash[:]...))},
	} {
		if want := vector(t, c.name); c.got != want {
			t.Errorf("%s: got %s, want %s", c.name, c.got, want)
		}
	}

	priv, vm := vectorKey(t)
	created, _ := time.Parse(time.RFC3339, "2023-02-24T23:36:38Z")
	signed, err := dataintegrity.SignRDFC(read(t, "unsigned.json"), priv, dataintegrity.Options{VerificationMethod: vm, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	var got, want struct {
		Proof map[string]any `json:"proof"`
	}
	json.Unmarshal(signed, &got)
	json.Unmarshal(read(t, "eddsa-rdfc-2022/signedDataInt.json"), &want)
	if pv, w := got.Proof["proofValue"], vector(t, "eddsa-rdfc-2022/sigBTC58DataInt.txt"); pv != w {
		t.Fatalf("proofValue %v, want %s", pv, w)
	}
	sig, _ := hex.DecodeString(vector(t, "eddsa-rdfc-2022/sigHexDataInt.txt"))
	if !ed25519.Verify(priv.Public().(ed25519.PublicKey), append(proofHash[:], docHash[:]...), sig) {
		t.Fatal("sigHexDataInt does not verify over the combined hash")
	}
	if len(got.Proof) != len(want.Proof) {
		t.Errorf("proof %v, want %v", got.Proof, want.Proof)
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

// TestW3CEd25519Signature2020Vector checks the legacy vector's canonical
// forms and verifies its signed credential.
func TestW3CEd25519Signature2020Vector(t *testing.T) {
	signed := read(t, "Ed25519Signature2020/signedEdSig.json")
	var m map[string]any
	json.Unmarshal(signed, &m)
	delete(m, "proof")
	canonDoc, err := jsonld.Canonicalize(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := read(t, "Ed25519Signature2020/canonDocEdSig.txt"); !bytes.Equal(canonDoc, want) {
		t.Fatalf("canonical document\n%s\nwant\n%s", canonDoc, want)
	}
	canonProof, err := jsonld.Canonicalize(read(t, "Ed25519Signature2020/proofConfigEdSig.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := read(t, "Ed25519Signature2020/proofCanonEdSig.txt"); !bytes.Equal(canonProof, want) {
		t.Fatalf("canonical proof options\n%s\nwant\n%s", canonProof, want)
	}
	docHash, proofHash := sha256.Sum256(canonDoc), sha256.Sum256(canonProof)
	if got, want := hex.EncodeToString(docHash[:]), vector(t, "Ed25519Signature2020/docHashEdSig.txt"); got != want {
		t.Errorf("docHash %s, want %s", got, want)
	}
	if got, want := hex.EncodeToString(proofHash[:]), vector(t, "Ed25519Signature2020/proofHashEdSig.txt"); got != want {
		t.Errorf("proofHash %s, want %s", got, want)
	}
	got, err := dataintegrity.Verify(context.Background(), signed, didKeys{}, dataintegrity.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Purpose != "assertionMethod" || got[0].Type != dataintegrity.ProofTypeEd25519Signature2020 || got[0].Cryptosuite != "" {
		t.Fatalf("verified %+v", got)
	}
}

func TestVerifyRDFCRefuses(t *testing.T) {
	for _, name := range []string{"eddsa-rdfc-2022/signedDataInt.json", "Ed25519Signature2020/signedEdSig.json"} {
		signed := read(t, name)
		edit := func(f func(m, proof map[string]any)) []byte {
			var m map[string]any
			if err := json.Unmarshal(signed, &m); err != nil {
				t.Fatal(err)
			}
			f(m, m["proof"].(map[string]any))
			b, _ := json.Marshal(m)
			return b
		}
		for _, tc := range []struct {
			name string
			doc  []byte
			want error
		}{
			{"changed claim", edit(func(m, _ map[string]any) { m["name"] = "Alumnus Credential" }), dataintegrity.ErrSignature},
			{"changed nested claim", edit(func(m, _ map[string]any) {
				m["credentialSubject"].(map[string]any)["alumniOf"] = "Another School"
			}), dataintegrity.ErrSignature},
			{"changed proof option", edit(func(_, p map[string]any) { p["created"] = "2023-02-24T23:36:39Z" }), dataintegrity.ErrSignature},
			// VC 2.0's @vocab makes any term an issuer-dependent IRI: an added
			// one is signed data like any other (VC 1.1 refuses it: below).
			{"added vocab property", edit(func(m, _ map[string]any) { m["undefinedTerm"] = "x" }), dataintegrity.ErrSignature},
			{"added vocab type", edit(func(m, _ map[string]any) { m["type"] = []any{"VerifiableCredential", "AlumniCredential", "Undefined"} }), dataintegrity.ErrSignature},
			{"unknown context", edit(func(m, _ map[string]any) {
				m["@context"] = append(m["@context"].([]any), "https://evil.example/context")
			}), jsonld.ErrUnknownContext},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				_, err := dataintegrity.Verify(context.Background(), tc.doc, didKeys{}, dataintegrity.VerifyOptions{})
				if !errors.Is(err, tc.want) {
					t.Fatalf("Verify: got %v, want %v", err, tc.want)
				}
			})
		}
	}
	// Ed25519Signature2020 needs its context.
	var m map[string]any
	json.Unmarshal(read(t, "Ed25519Signature2020/signedEdSig.json"), &m)
	m["@context"] = m["@context"].([]any)[:2]
	b, _ := json.Marshal(m)
	if _, err := dataintegrity.Verify(context.Background(), b, didKeys{}, dataintegrity.VerifyOptions{}); !errors.Is(err, dataintegrity.ErrMalformed) {
		t.Fatalf("Ed25519Signature2020 without its context: got %v, want ErrMalformed", err)
	}
}

// TestRDFCProofSet signs with both JCS and RDFC and verifies the set.
func TestRDFCProofSet(t *testing.T) {
	priv, vm := vectorKey(t)
	doc, err := dataintegrity.SignRDFC(read(t, "unsigned.json"), priv, dataintegrity.Options{VerificationMethod: vm})
	if err != nil {
		t.Fatal(err)
	}
	doc, err = dataintegrity.SignJCS(doc, priv, dataintegrity.Options{VerificationMethod: vm})
	if err != nil {
		t.Fatal(err)
	}
	got, err := dataintegrity.Verify(context.Background(), doc, didKeys{}, dataintegrity.VerifyOptions{})
	if err != nil || len(got) != 2 {
		t.Fatalf("Verify: %v, %d proofs", err, len(got))
	}
	if got[0].Cryptosuite != dataintegrity.CryptosuiteRDFC || got[1].Cryptosuite != dataintegrity.CryptosuiteJCS {
		t.Fatalf("verified %+v", got)
	}
	// SignRDFC refuses what it cannot sign completely.
	if _, err := dataintegrity.SignRDFC([]byte(`{"@context":["https://www.w3.org/2018/credentials/v1"],"type":["VerifiableCredential"],"secret":"x"}`), priv, dataintegrity.Options{VerificationMethod: vm}); !errors.Is(err, jsonld.ErrSafeMode) || !errors.Is(err, dataintegrity.ErrMalformed) {
		t.Fatalf("SignRDFC with an undefined term: got %v", err)
	}
}

const dccDir = "testdata/dcc-verifier-core"

// fixtureKeys resolves did:key methods with node/did, and did:web methods of
// the DCC fixtures from the key in their fragment: the fixtures' did:web
// documents are on github.io, which tests do not reach. This checks the
// signatures; TestDCCDidWeb resolves the did:web methods over loopback TLS.
type fixtureKeys struct{}

func (fixtureKeys) ResolveKey(ctx context.Context, vm, purpose string) (ed25519.PublicKey, error) {
	if strings.HasPrefix(vm, "did:web:") {
		_, frag, ok := strings.Cut(vm, "#")
		if !ok {
			return nil, fmt.Errorf("no fragment in %s", vm)
		}
		return did.DecodeMultikey(frag)
	}
	return didKeys{}.ResolveKey(ctx, vm, purpose)
}

// TestDCCFixtures verifies every signed credential of the DCC verifier-core
// fixtures: all proofs of each, proof sets included, except safeModeBreaker,
// which must fail safe mode, and testVC, whose document was changed after
// both its proofs were made: jsonld.js (digitalbazaar jsonld 8, rdf-canonize)
// gives the same canonical N-Quads and also finds both signatures invalid.
func TestDCCFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(dccDir, "*.json"))
	if err != nil || len(files) < 20 {
		t.Fatalf("%d fixtures: %v", len(files), err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var m struct{ Proof json.RawMessage }
			json.Unmarshal(doc, &m)
			wantProofs := 1
			if bytes.HasPrefix(bytes.TrimSpace(m.Proof), []byte("[")) {
				var ps []any
				json.Unmarshal(m.Proof, &ps)
				wantProofs = len(ps)
			}
			got, err := dataintegrity.Verify(context.Background(), doc, fixtureKeys{}, dataintegrity.VerifyOptions{})
			switch name {
			case "safeModeBreaker.json":
				if !errors.Is(err, jsonld.ErrSafeMode) {
					t.Fatalf("Verify: got %v, want ErrSafeMode", err)
				}
				return
			case "testVC.json":
				if !errors.Is(err, dataintegrity.ErrSignature) {
					t.Fatalf("Verify: got %v, want ErrSignature", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != wantProofs {
				t.Fatalf("%d proofs verified, want %d", len(got), wantProofs)
			}
			if strings.HasPrefix(name, "v2DoubleSig") && wantProofs != 2 {
				t.Fatalf("%s has %d proofs, want a set of 2", name, wantProofs)
			}
		})
	}
}

// TestDCCUndefinedTerm: a term added to a VC 1.1 credential, whose contexts
// have no @vocab, is refused rather than dropped from what is verified.
func TestDCCUndefinedTerm(t *testing.T) {
	for _, f := range []string{"v1NoStatus.json", "v1OBv3SpecExample.json"} {
		doc, err := os.ReadFile(filepath.Join(dccDir, f))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(doc, &m)
		m["credentialSubject"].(map[string]any)["grade"] = "A+"
		b, _ := json.Marshal(m)
		if _, err := dataintegrity.Verify(context.Background(), b, fixtureKeys{}, dataintegrity.VerifyOptions{}); !errors.Is(err, jsonld.ErrSafeMode) {
			t.Errorf("%s with an undefined property: got %v, want ErrSafeMode", f, err)
		}
		m["credentialSubject"].(map[string]any)["type"] = []any{"AchievementSubject", "Undefined"}
		delete(m["credentialSubject"].(map[string]any), "grade")
		b, _ = json.Marshal(m)
		if _, err := dataintegrity.Verify(context.Background(), b, fixtureKeys{}, dataintegrity.VerifyOptions{}); !errors.Is(err, jsonld.ErrSafeMode) {
			t.Errorf("%s with an undefined type: got %v, want ErrSafeMode", f, err)
		}
	}
}

func BenchmarkVerifyRDFC(b *testing.B) {
	for _, bc := range []struct{ name, file string }{
		{"W3C", filepath.Join(vectors, "eddsa-rdfc-2022/signedDataInt.json")},
		{"OB3", filepath.Join(dccDir, "v2OBv3SpecExample.json")},
		{"Ed25519Signature2020", filepath.Join(dccDir, "v2NoStatus.json")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			doc, err := os.ReadFile(bc.file)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for b.Loop() {
				if _, err := dataintegrity.Verify(ctx, doc, didKeys{}, dataintegrity.VerifyOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
		})
	}
}

// TestProofChain: a proof whose previousProof names another signs the
// document with that proof, for both cryptosuites.
func TestProofChain(t *testing.T) {
	priv, vm := vectorKey(t)
	seed := sha256.Sum256([]byte("credanchor chain endorser"))
	second := ed25519.NewKeyFromSeed(seed[:])
	secondVM := did.NewDIDKey(second.Public().(ed25519.PublicKey))
	secondVM += "#" + strings.TrimPrefix(secondVM, "did:key:")
	for _, sign := range []struct {
		name string
		f    func([]byte, ed25519.PrivateKey, dataintegrity.Options) ([]byte, error)
	}{{"rdfc", dataintegrity.SignRDFC}, {"jcs", dataintegrity.SignJCS}} {
		t.Run(sign.name, func(t *testing.T) {
			doc, err := sign.f(read(t, "unsigned.json"), priv, dataintegrity.Options{VerificationMethod: vm, ID: "urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544"})
			if err != nil {
				t.Fatal(err)
			}
			doc, err = sign.f(doc, second, dataintegrity.Options{VerificationMethod: secondVM, ID: "urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54", PreviousProof: []string{"urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544"}})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := dataintegrity.Verify(context.Background(), doc, didKeys{}, dataintegrity.VerifyOptions{}); err != nil || len(got) != 2 {
				t.Fatalf("Verify chain: %v (%d proofs)", err, len(got))
			}
			var m map[string]any
			json.Unmarshal(doc, &m)
			proofs := m["proof"].([]any)
			edit := func(f func(first, second map[string]any) []any) []byte {
				var c map[string]any
				json.Unmarshal(doc, &c)
				ps := c["proof"].([]any)
				c["proof"] = f(ps[0].(map[string]any), ps[1].(map[string]any))
				b, _ := json.Marshal(c)
				return b
			}
			for _, tc := range []struct {
				name string
				doc  []byte
				want error
			}{
				{"previous proof dropped", edit(func(_, s map[string]any) []any { return []any{s} }), dataintegrity.ErrMalformed},
				{"dangling reference", edit(func(f, s map[string]any) []any { s["previousProof"] = "urn:uuid:other"; return []any{f, s} }), dataintegrity.ErrMalformed},
				// Re-pointing the first proof at another id breaks the
				// reference; changing what the chain signed breaks the
				// second signature.
				{"previous proof changed", edit(func(f, s map[string]any) []any { f["created"] = "2020-01-01T00:00:00Z"; return []any{s, f} }), dataintegrity.ErrSignature},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if _, err := dataintegrity.Verify(context.Background(), tc.doc, didKeys{}, dataintegrity.VerifyOptions{}); !errors.Is(err, tc.want) {
						t.Fatalf("Verify: got %v, want %v", err, tc.want)
					}
				})
			}
			// Without the chain, the second proof alone does not verify.
			delete(proofs[1].(map[string]any), "previousProof")
			m["proof"] = proofs[1]
			b, _ := json.Marshal(m)
			if _, err := dataintegrity.Verify(context.Background(), b, didKeys{}, dataintegrity.VerifyOptions{}); !errors.Is(err, dataintegrity.ErrSignature) {
				t.Fatalf("chained proof without its chain: got %v, want ErrSignature", err)
			}
			if _, err := sign.f(doc, second, dataintegrity.Options{VerificationMethod: secondVM, PreviousProof: []string{"urn:uuid:missing"}}); !errors.Is(err, dataintegrity.ErrMalformed) {
				t.Fatalf("sign with a dangling previousProof: got %v", err)
			}
		})
	}
}
