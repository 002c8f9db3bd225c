package did

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

const (
	webDID  = "did:web:example.com:issuers:1"
	testKey = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2" // W3C vc-di-eddsa keyPair.json
)

// webDocument is a did:web document with one method per kind of key and
// relationship entries in both forms (references and embedded methods).
func webDocument(t *testing.T) (string, *ecdsa.PublicKey, ed25519.PublicKey) {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	okp, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	point, err := ec.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	doc := fmt.Sprintf(`{
  "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
  "id": %[1]q,
  "controller": %[1]q,
  "verificationMethod": [
    {"id": "#multikey", "type": "Multikey", "controller": %[1]q, "publicKeyMultibase": %[2]q},
    {"id": %[1]q, "type": "Ignored", "controller": %[1]q},
    {"id": "%[1]s#legacy", "type": "Ed25519VerificationKey2020", "controller": %[1]q, "publicKeyMultibase": %[2]q},
    {"id": "#p256", "type": "JsonWebKey2020", "controller": %[1]q, "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": %[3]q, "y": %[4]q}},
    {"id": "#okp", "type": "JsonWebKey", "controller": %[1]q, "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": %[5]q}},
    {"id": "#other-controller", "type": "Multikey", "controller": "did:web:elsewhere.example", "publicKeyMultibase": %[2]q},
    {"id": "#x25519", "type": "Multikey", "controller": %[1]q, "publicKeyMultibase": "z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"}
  ],
  "assertionMethod": ["#multikey", "%[1]s#legacy", "#p256", "#okp", "#other-controller", "did:web:elsewhere.example#key-1"],
  "authentication": [
    "#multikey",
    {"id": "#auth-only", "type": "Multikey", "controller": %[1]q, "publicKeyMultibase": %[2]q}
  ],
  "keyAgreement": ["#x25519"],
  "service": [{"id": "#svc", "type": "LinkedDomains", "serviceEndpoint": "https://example.com"}]
}`, webDID, testKey, b64(point[1:33]), b64(point[33:]), b64(okp))
	return doc, &ec.PublicKey, okp
}

func TestDocumentVerificationMethod(t *testing.T) {
	raw, ecPub, okpPub := webDocument(t)
	doc, err := ParseDocument([]byte(raw))
	if err != nil {
		t.Fatalf("ParseDocument: %v", err)
	}
	w3cKey, _ := DecodeMultikey(testKey)
	for _, tc := range []struct {
		name    string
		id      string
		rel     Relationship
		wantErr error
		wantKey any
	}{
		{"multikey relative id", "#multikey", AssertionMethod, nil, w3cKey},
		{"multikey absolute id", webDID + "#multikey", AssertionMethod, nil, w3cKey},
		{"multikey authentication", webDID + "#multikey", Authentication, nil, w3cKey},
		{"legacy 2020", webDID + "#legacy", AssertionMethod, nil, w3cKey},
		{"JsonWebKey2020 P-256", webDID + "#p256", AssertionMethod, nil, ecPub},
		{"JsonWebKey OKP", webDID + "#okp", AssertionMethod, nil, okpPub},
		{"embedded in authentication", webDID + "#auth-only", Authentication, nil, w3cKey},
		{"embedded method is only for its relationship", webDID + "#auth-only", AssertionMethod, ErrRelationship, nil},
		{"legacy not listed for authentication", webDID + "#legacy", Authentication, ErrRelationship, nil},
		{"not listed at all", webDID + "#x25519", CapabilityInvocation, ErrRelationship, nil},
		{"unknown relationship", webDID + "#multikey", "issuing", ErrRelationship, nil},
		{"missing method", webDID + "#nope", AssertionMethod, ErrNotFound, nil},
		{"method of another DID", "did:web:elsewhere.example#key-1", AssertionMethod, ErrNotFound, nil},
		{"bare DID", webDID, AssertionMethod, ErrNotFound, nil},
		{"path in id", webDID + "/x#multikey", AssertionMethod, ErrNotFound, nil},
		{"query in id", webDID + "?v=1#multikey", AssertionMethod, ErrNotFound, nil},
		{"malformed id", "did:web:exa mple#k", AssertionMethod, ErrInvalidDID, nil},
		{"controlled by another DID", webDID + "#other-controller", AssertionMethod, ErrInvalidDocument, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm, err := doc.VerificationMethod(tc.id, tc.rel)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("VerificationMethod(%q, %s) = %+v, %v; want %v", tc.id, tc.rel, vm, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("VerificationMethod(%q, %s): %v", tc.id, tc.rel, err)
			}
			if !strings.HasPrefix(vm.ID, webDID+"#") {
				t.Errorf("id %q is not absolute", vm.ID)
			}
			key, err := vm.PublicKey()
			if err != nil {
				t.Fatalf("PublicKey: %v", err)
			}
			if !key.(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.wantKey) {
				t.Errorf("key = %v, want %v", key, tc.wantKey)
			}
		})
	}

	// The returned method is a copy.
	vm, _ := doc.VerificationMethod("#p256", AssertionMethod)
	vm.PublicKeyJWK.X = "tampered"
	vm.Controller = "did:web:attacker"
	again, _ := doc.VerificationMethod("#p256", AssertionMethod)
	if again.PublicKeyJWK.X == "tampered" || again.Controller != webDID {
		t.Error("VerificationMethod returned a method that aliases the document")
	}

	// Unsupported key types are refused when used, not when parsed.
	x, err := doc.VerificationMethod("#x25519", KeyAgreement)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.PublicKey(); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("X25519 PublicKey = %v, want ErrUnsupportedKey", err)
	}
	p, _ := doc.VerificationMethod("#p256", AssertionMethod)
	if _, err := p.Ed25519PublicKey(); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("P-256 Ed25519PublicKey = %v, want ErrUnsupportedKey", err)
	}
	if len(doc.Controller) != 1 || doc.Controller[0] != webDID {
		t.Errorf("controller = %v", doc.Controller)
	}
}

func TestParseDocumentErrors(t *testing.T) {
	const vm = `{"id": "#k", "type": "Multikey", "controller": "did:web:example.com", "publicKeyMultibase": "` + testKey + `"}`
	for _, tc := range []struct {
		name, doc string
	}{
		{"not JSON", `{`},
		{"not an object", `["did:web:example.com"]`},
		{"null", `null`},
		{"no id", `{"verificationMethod": []}`},
		{"id in other case", `{"ID": "did:web:example.com"}`},
		{"id not a string", `{"id": 7}`},
		{"id not a DID", `{"id": "https://example.com"}`},
		{"id is a DID URL", `{"id": "did:web:example.com#k"}`},
		{"bad controller", `{"id": "did:web:example.com", "controller": "example.com"}`},
		{"controller not string or array", `{"id": "did:web:example.com", "controller": {}}`},
		{"alsoKnownAs not array", `{"id": "did:web:example.com", "alsoKnownAs": "x"}`},
		{"verificationMethod not array", `{"id": "did:web:example.com", "verificationMethod": {}}`},
		{"method not object", `{"id": "did:web:example.com", "verificationMethod": ["#k"]}`},
		{"method without type", `{"id": "did:web:example.com", "verificationMethod": [{"id": "#k", "controller": "did:web:example.com"}]}`},
		{"method without controller", `{"id": "did:web:example.com", "verificationMethod": [{"id": "#k", "type": "Multikey"}]}`},
		{"method without id", `{"id": "did:web:example.com", "verificationMethod": [{"type": "Multikey", "controller": "did:web:example.com"}]}`},
		{"method id relative without #", `{"id": "did:web:example.com", "verificationMethod": [{"id": "k", "type": "Multikey", "controller": "did:web:example.com"}]}`},
		{"method controller not a DID", `{"id": "did:web:example.com", "verificationMethod": [{"id": "#k", "type": "Multikey", "controller": "https://example.com"}]}`},
		{"duplicate method", `{"id": "did:web:example.com", "verificationMethod": [` + vm + `,` + vm + `]}`},
		{"embedded method redefines one", `{"id": "did:web:example.com", "verificationMethod": [` + vm + `], "authentication": [{"id": "#k", "type": "Multikey", "controller": "did:web:example.com", "publicKeyMultibase": "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}]}`},
		{"both key materials", `{"id": "did:web:example.com", "verificationMethod": [{"id": "#k", "type": "JsonWebKey2020", "controller": "did:web:example.com", "publicKeyMultibase": "` + testKey + `", "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA"}}]}`},
		{"private JWK", `{"id": "did:web:example.com", "verificationMethod": [{"id": "#k", "type": "JsonWebKey2020", "controller": "did:web:example.com", "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}}]}`},
		{"JWK without kty", `{"id": "did:web:example.com", "verificationMethod": [{"id": "#k", "type": "JsonWebKey2020", "controller": "did:web:example.com", "publicKeyJwk": {"crv": "Ed25519", "x": "AA"}}]}`},
		{"relationship not array", `{"id": "did:web:example.com", "assertionMethod": "#k"}`},
		{"relationship entry a number", `{"id": "did:web:example.com", "assertionMethod": [1]}`},
		{"relationship entry malformed", `{"id": "did:web:example.com", "assertionMethod": ["did:web:exa mple#k"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := ParseDocument([]byte(tc.doc))
			if !errors.Is(err, ErrInvalidDocument) {
				t.Errorf("ParseDocument = %+v, %v; want ErrInvalidDocument", doc, err)
			}
		})
	}
	// The same method referenced and embedded with identical content is fine.
	same := `{"id": "did:web:example.com", "verificationMethod": [` + vm + `], "authentication": ["#k", ` + vm + `]}`
	if _, err := ParseDocument([]byte(same)); err != nil {
		t.Errorf("identical embedded method: %v", err)
	}
}

func TestPublicKeyErrors(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	point, _ := ec.PublicKey.Bytes()
	b64 := base64.RawURLEncoding.EncodeToString
	for _, tc := range []struct {
		name string
		vm   VerificationMethod
		want error
	}{
		{"multikey without key", VerificationMethod{ID: "#k", Type: TypeMultikey}, ErrInvalidKey},
		{"multikey with JWK", VerificationMethod{ID: "#k", Type: TypeMultikey, PublicKeyMultibase: testKey, PublicKeyJWK: &JWK{Kty: "OKP"}}, ErrInvalidKey},
		{"multikey bad", VerificationMethod{ID: "#k", Type: TypeMultikey, PublicKeyMultibase: "z6Mk"}, ErrInvalidKey},
		{"JWK without JWK", VerificationMethod{ID: "#k", Type: TypeJSONWebKey2020, PublicKeyMultibase: testKey}, ErrInvalidKey},
		{"2018 type", VerificationMethod{ID: "#k", Type: "Ed25519VerificationKey2018", PublicKeyMultibase: testKey}, ErrUnsupportedKey},
		{"JWK RSA", VerificationMethod{ID: "#k", Type: TypeJSONWebKey2020, PublicKeyJWK: &JWK{Kty: "RSA"}}, ErrUnsupportedKey},
		{"JWK P-384", VerificationMethod{ID: "#k", Type: TypeJSONWebKey2020, PublicKeyJWK: &JWK{Kty: "EC", Crv: "P-384"}}, ErrUnsupportedKey},
		{"JWK secp256k1", VerificationMethod{ID: "#k", Type: TypeJSONWebKey, PublicKeyJWK: &JWK{Kty: "EC", Crv: "secp256k1"}}, ErrUnsupportedKey},
		{"OKP short", VerificationMethod{ID: "#k", Type: TypeJSONWebKey, PublicKeyJWK: &JWK{Kty: "OKP", Crv: "Ed25519", X: b64(make([]byte, 31))}}, ErrInvalidKey},
		{"OKP padded", VerificationMethod{ID: "#k", Type: TypeJSONWebKey, PublicKeyJWK: &JWK{Kty: "OKP", Crv: "Ed25519", X: base64.URLEncoding.EncodeToString(make([]byte, 32))}}, ErrInvalidKey},
		{"OKP std alphabet", VerificationMethod{ID: "#k", Type: TypeJSONWebKey, PublicKeyJWK: &JWK{Kty: "OKP", Crv: "Ed25519", X: strings.Repeat("+", 43)}}, ErrInvalidKey},
		{"OKP with y", VerificationMethod{ID: "#k", Type: TypeJSONWebKey, PublicKeyJWK: &JWK{Kty: "OKP", Crv: "Ed25519", X: b64(make([]byte, 32)), Y: "AA"}}, ErrInvalidKey},
		{"X25519 OKP", VerificationMethod{ID: "#k", Type: TypeJSONWebKey, PublicKeyJWK: &JWK{Kty: "OKP", Crv: "X25519", X: b64(make([]byte, 32))}}, ErrUnsupportedKey},
		{"P-256 off curve", VerificationMethod{ID: "#k", Type: TypeJSONWebKey2020, PublicKeyJWK: &JWK{Kty: "EC", Crv: "P-256", X: b64(point[1:33]), Y: b64(make([]byte, 32))}}, ErrInvalidKey},
		{"P-256 missing y", VerificationMethod{ID: "#k", Type: TypeJSONWebKey2020, PublicKeyJWK: &JWK{Kty: "EC", Crv: "P-256", X: b64(point[1:33])}}, ErrInvalidKey},
		{"P-256 short x", VerificationMethod{ID: "#k", Type: TypeJSONWebKey2020, PublicKeyJWK: &JWK{Kty: "EC", Crv: "P-256", X: b64(point[1:32]), Y: b64(point[33:])}}, ErrInvalidKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if key, err := tc.vm.PublicKey(); !errors.Is(err, tc.want) {
				t.Errorf("PublicKey = %v, %v; want %v", key, err, tc.want)
			}
		})
	}
}
