package did

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mr-tron/base58"
)

// TestDIDKeyVectors checks the W3C CCG did:key Ed25519 vectors: the seed
// gives the DID, and the key in the vector's (2018-typed) document is the key
// in ours.
func TestDIDKeyVectors(t *testing.T) {
	var vectors map[string]struct {
		Seed        string          `json:"seed"`
		DIDDocument json.RawMessage `json:"didDocument"`
	}
	readJSON(t, "testdata/w3c-ccg-did-key-spec/ed25519-x25519.json", &vectors)
	if len(vectors) != 5 {
		t.Fatalf("%d vectors, want 5", len(vectors))
	}
	for did, v := range vectors {
		t.Run(did, func(t *testing.T) {
			seed, err := hex.DecodeString(v.Seed)
			if err != nil || len(seed) != ed25519.SeedSize {
				t.Fatalf("seed %q: %v", v.Seed, err)
			}
			pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
			if got := NewDIDKey(pub); got != did {
				t.Errorf("NewDIDKey(seed %s) = %s, want %s", v.Seed, got, did)
			}
			parsed, err := ParseDIDKey(did)
			if err != nil || !parsed.Equal(pub) {
				t.Fatalf("ParseDIDKey = %x, %v; want %x", parsed, err, pub)
			}

			// The spec's document parses, and its signing key is ours. Four
			// vectors use Ed25519VerificationKey2018 (publicKeyBase58, a type
			// this package does not verify with), one JsonWebKey2020.
			vdoc, err := ParseDocument(v.DIDDocument)
			if err != nil {
				t.Fatalf("ParseDocument(vector document): %v", err)
			}
			var vkey struct {
				VerificationMethod []struct {
					PublicKeyBase58 string `json:"publicKeyBase58"`
				} `json:"verificationMethod"`
			}
			if err := json.Unmarshal(v.DIDDocument, &vkey); err != nil {
				t.Fatal(err)
			}
			vvm := vdoc.VerificationMethods[0]
			var vpub ed25519.PublicKey
			switch vvm.Type {
			case "Ed25519VerificationKey2018":
				b, err := base58.Decode(vkey.VerificationMethod[0].PublicKeyBase58)
				if err != nil {
					t.Fatal(err)
				}
				vpub = b
			case TypeJSONWebKey2020:
				m, err := vdoc.VerificationMethod(vvm.ID, AssertionMethod)
				if err != nil {
					t.Fatal(err)
				}
				if vpub, err = m.Ed25519PublicKey(); err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatalf("vector method type %q", vvm.Type)
			}
			if !pub.Equal(vpub) {
				t.Errorf("vector document key = %x, want %x", vpub, pub)
			}

			doc, err := KeyResolver{}.Resolve(context.Background(), did)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if doc.ID != vdoc.ID {
				t.Errorf("doc id %q, want %q", doc.ID, vdoc.ID)
			}
			// Same method id as the spec's document, for every signing
			// relationship; the key agreement method is not derived here.
			for _, rel := range []Relationship{AssertionMethod, Authentication, CapabilityInvocation, CapabilityDelegation} {
				want := vdoc.Relationship(rel)
				if len(want) != 1 || want[0] != vvm.ID {
					t.Fatalf("vector %s = %v, want [%s]", rel, want, vvm.ID)
				}
				vm, err := doc.VerificationMethod(want[0], rel)
				if err != nil {
					t.Fatalf("VerificationMethod(%s, %s): %v", want[0], rel, err)
				}
				got, err := vm.Ed25519PublicKey()
				if err != nil || !got.Equal(pub) {
					t.Errorf("%s key = %x, %v; want %x", rel, got, err, pub)
				}
				if vm.Controller != vvm.Controller {
					t.Errorf("controller %q, want %q", vm.Controller, vvm.Controller)
				}
			}
			if len(doc.KeyAgreement) != 0 {
				t.Errorf("keyAgreement = %v, want none (X25519 derivation is not implemented)", doc.KeyAgreement)
			}
		})
	}
}

// TestKeyDocumentJSON pins the serialisation of a did:key document to the
// shape of the did:key spec's Multikey example.
func TestKeyDocumentJSON(t *testing.T) {
	const did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	const vm = did + "#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	doc, err := NewKeyDocument(did, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],` +
		`"id":"` + did + `","verificationMethod":[{"id":"` + vm + `","type":"Multikey","controller":"` + did + `",` +
		`"publicKeyMultibase":"z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}],` +
		`"authentication":["` + vm + `"],"assertionMethod":["` + vm + `"],` +
		`"capabilityInvocation":["` + vm + `"],"capabilityDelegation":["` + vm + `"]}`
	if string(got) != want {
		t.Errorf("did:key document\n got %s\nwant %s", got, want)
	}
	// The JSON parses back to the same document.
	back, err := ParseDocument(got)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if string(again) != want {
		t.Errorf("round trip changed the document:\n%s", again)
	}
}

// TestKeyDocumentLegacy2020 checks the Ed25519VerificationKey2020 form
// Ed25519Signature2020 proofs are verified against: same ids, same key.
func TestKeyDocumentLegacy2020(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	did := NewDIDKey(pub)
	r := KeyResolver{VerificationMethodType: TypeEd25519VerificationKey2020}
	doc, err := r.Resolve(context.Background(), did)
	if err != nil {
		t.Fatal(err)
	}
	var ctx []string
	if err := json.Unmarshal(doc.Context, &ctx); err != nil || len(ctx) != 2 || ctx[1] != "https://w3id.org/security/suites/ed25519-2020/v1" {
		t.Errorf("@context = %s", doc.Context)
	}
	vm, err := doc.VerificationMethod(did+"#"+did[len("did:key:"):], AssertionMethod)
	if err != nil {
		t.Fatal(err)
	}
	if vm.Type != TypeEd25519VerificationKey2020 {
		t.Errorf("type %q", vm.Type)
	}
	if got, err := vm.Ed25519PublicKey(); err != nil || !got.Equal(pub) {
		t.Errorf("key %x, %v", got, err)
	}
	if _, err := NewKeyDocument(did, "Ed25519VerificationKey2018"); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("NewKeyDocument(2018 type) = %v, want ErrUnsupportedKey", err)
	}
}

func TestParseDIDKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"", ErrInvalidDID},
		{"did:key:", ErrInvalidDID},
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", ErrInvalidDID},
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW", ErrInvalidDID},       // one character short
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWpp", ErrInvalidDID},     // one too many
		{"did:key:6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", ErrInvalidDID},       // no multibase header
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDoo0p", ErrInvalidDID},      // 0 is not base58
		{"did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", ErrUnsupportedKey}, // P-256
		{"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", ErrUnsupportedKey}, // secp256k1
		{"did:web:example.com", ErrUnsupportedMethod},
		{"did:example:123", ErrUnsupportedMethod},
	} {
		t.Run(tc.in, func(t *testing.T) {
			pub, err := ParseDIDKey(tc.in)
			if !errors.Is(err, tc.want) {
				t.Errorf("ParseDIDKey(%q) = %x, %v; want %v", tc.in, pub, err, tc.want)
			}
			if _, err := (KeyResolver{}).Resolve(context.Background(), tc.in); !errors.Is(err, tc.want) {
				t.Errorf("Resolve(%q) = %v; want %v", tc.in, err, tc.want)
			}
		})
	}
}
