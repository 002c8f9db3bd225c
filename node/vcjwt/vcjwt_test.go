package vcjwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// mapResolver is a KeyResolver over a fixed set of keys by kid; it records
// the last issuer it was asked about.
type mapResolver struct {
	keys       map[string]crypto.PublicKey
	lastIssuer string
}

var errNoKey = errors.New("test: no such key")

func (r *mapResolver) ResolveKey(_ context.Context, kid, issuer string) (crypto.PublicKey, error) {
	r.lastIssuer = issuer
	k, ok := r.keys[kid]
	if !ok {
		return nil, fmt.Errorf("%w: %q", errNoKey, kid)
	}
	return k, nil
}

const (
	issuerDID = "did:example:issuer"
	edKid     = issuerDID + "#ed"
	ecKid     = issuerDID + "#ec"
)

var (
	edKey  = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	ecKey  = mustECKey()
	keySet = map[string]crypto.PublicKey{edKid: edKey.Public(), ecKid: &ecKey.PublicKey}
	// now is the test clock; the sample credential is valid around it.
	now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
)

func mustECKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err) // test setup only
	}
	return k
}

func resolver() *mapResolver { return &mapResolver{keys: keySet} }

const sampleVC = `{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
  "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
  "type": ["VerifiableCredential", "ExampleAlumniCredential"],
  "issuer": "did:example:issuer",
  "validFrom": "2026-01-01T00:00:00Z",
  "validUntil": "2027-01-01T00:00:00Z",
  "credentialSubject": {"id": "did:example:learner", "alumniOf": "Example <University> & Co"}
}`

const sampleVP = `{
  "@context": ["https://www.w3.org/ns/credentials/v2"],
  "type": ["VerifiablePresentation"],
  "holder": "did:example:issuer",
  "verifiableCredential": [{"@context": "https://www.w3.org/ns/credentials/v2", "type": "EnvelopedVerifiableCredential", "id": "data:application/vc+jwt,a.b.c"}]
}`

func opts() VerifyOptions { return VerifyOptions{Now: now} }

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name, kid, alg string
		key            crypto.Signer
	}{
		{"EdDSA", edKid, AlgEdDSA, edKey},
		{"ES256", ecKid, AlgES256, ecKey},
		{"EdDSA crypto.Signer", edKid, AlgEdDSA, opaqueSigner{edKey}},
		{"ES256 crypto.Signer", ecKid, AlgES256, opaqueSigner{ecKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Sign([]byte(sampleVC), tc.key, tc.kid)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			r := resolver()
			got, err := Verify(context.Background(), tok, r, VerifyOptions{Now: now, CheckValidityPeriod: true, Kind: KindCredential})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Alg() != tc.alg || got.Kid() != tc.kid || got.Header().Typ != "vc+jwt" {
				t.Errorf("header = %+v, want alg %s kid %s typ vc+jwt", got.Header(), tc.alg, tc.kid)
			}
			if got.Form() != FormVCDM2 || got.Kind() != KindCredential {
				t.Errorf("form, kind = %v, %v; want VCDM 2.0 credential", got.Form(), got.Kind())
			}
			if got.Issuer() != issuerDID || r.lastIssuer != issuerDID {
				t.Errorf("issuer = %q, resolver saw %q; want %q", got.Issuer(), r.lastIssuer, issuerDID)
			}
			vc, err := got.Credential()
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, vc, []byte(sampleVC)) {
				t.Errorf("Credential() = %s, want the signed credential", vc)
			}
			if strings.Contains(string(vc), `\u003c`) {
				t.Errorf("Credential() escaped HTML: %s", vc)
			}
			if _, err := got.Presentation(); !errors.Is(err, ErrKind) {
				t.Errorf("Presentation() on a credential: err = %v, want ErrKind", err)
			}
		})
	}
}

// opaqueSigner hides the concrete key type, as an HSM would.
type opaqueSigner struct{ crypto.Signer }

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("bad JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func TestPresentationRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name, kid string
		key       crypto.Signer
	}{{"EdDSA", edKid, edKey}, {"ES256", ecKid, ecKey}} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := SignPresentation([]byte(sampleVP), tc.key, tc.kid, "challenge-123", "https://verifier.example")
			if err != nil {
				t.Fatal(err)
			}
			o := opts()
			o.Nonce, o.Audience, o.Kind = "challenge-123", "https://verifier.example", KindPresentation
			got, err := Verify(context.Background(), tok, resolver(), o)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Header().Typ != "vp+jwt" || got.Kind() != KindPresentation {
				t.Errorf("typ %q kind %v, want vp+jwt presentation", got.Header().Typ, got.Kind())
			}
			c := got.Claims()
			if c.Nonce != "challenge-123" || len(c.Audience) != 1 || c.Audience[0] != "https://verifier.example" {
				t.Errorf("claims = %+v", c)
			}
			vp, err := got.Presentation()
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(vp, &m); err != nil || m["holder"] != issuerDID || m["nonce"] != "challenge-123" {
				t.Errorf("Presentation() = %s (%v)", vp, err)
			}
			if _, err := got.Credential(); !errors.Is(err, ErrKind) {
				t.Errorf("Credential() on a presentation: err = %v, want ErrKind", err)
			}

			for _, bad := range []struct {
				name  string
				nonce string
				aud   string
				want  error
				code  string
			}{
				{"wrong nonce", "other", "https://verifier.example", ErrNonce, CodeInvalidChallenge},
				{"wrong audience", "challenge-123", "https://evil.example", ErrAudience, CodeInvalidDomain},
			} {
				o := opts()
				o.Nonce, o.Audience = bad.nonce, bad.aud
				_, err := Verify(context.Background(), tok, resolver(), o)
				if !errors.Is(err, bad.want) || Code(err) != bad.code {
					t.Errorf("%s: err = %v (code %q), want %v (%s)", bad.name, err, Code(err), bad.want, bad.code)
				}
			}
			// A credential token never satisfies a nonce or kind check.
			vcTok, _ := Sign([]byte(sampleVC), tc.key, tc.kid)
			o = opts()
			o.Nonce = "challenge-123"
			if _, err := Verify(context.Background(), vcTok, resolver(), o); !errors.Is(err, ErrNonce) {
				t.Errorf("credential with nonce wanted: err = %v, want ErrNonce", err)
			}
			if _, err := Verify(context.Background(), vcTok, resolver(), VerifyOptions{Now: now, Kind: KindPresentation}); !errors.Is(err, ErrKind) {
				t.Errorf("credential as presentation: err = %v, want ErrKind", err)
			}
		})
	}
}

func TestSignPresentationClaims(t *testing.T) {
	// No nonce or audience: the payload is the presentation unchanged.
	tok, err := SignPresentation([]byte(sampleVP), edKey, edKid, "", "")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Parse(tok)
	if c := p.Claims(); c.HasNonce || c.Audience != nil {
		t.Errorf("claims = %+v, want none", c)
	}
	if vp, _ := p.Presentation(); !jsonEqual(t, vp, []byte(sampleVP)) {
		t.Errorf("payload = %s", vp)
	}
	// A presentation that already says another nonce is refused.
	withNonce := strings.Replace(sampleVP, `"holder"`, `"nonce": "n1", "holder"`, 1)
	if _, err := SignPresentation([]byte(withNonce), edKey, edKid, "n2", ""); !errors.Is(err, ErrMalformed) {
		t.Errorf("conflicting nonce: err = %v, want ErrMalformed", err)
	}
	if _, err := SignPresentation([]byte(withNonce), edKey, edKid, "n1", ""); err != nil {
		t.Errorf("same nonce: %v", err)
	}
	if _, err := SignPresentation([]byte(sampleVC), edKey, edKid, "n", "a"); !errors.Is(err, ErrKind) {
		t.Errorf("credential as presentation: err = %v, want ErrKind", err)
	}
}

func TestSignRefuses(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, tc := range []struct {
		name string
		doc  string
		key  crypto.Signer
		want error
	}{
		{"not JSON", `{"a":`, edKey, ErrEncoding},
		{"array", `[1]`, edKey, ErrMalformed},
		{"duplicate member", `{"@context":[],"type":"VerifiableCredential","type":"X"}`, edKey, ErrEncoding},
		{"no context", `{"type":"VerifiableCredential"}`, edKey, ErrMalformed},
		{"presentation", sampleVP, edKey, ErrKind},
		{"P-384 key", sampleVC, p384, ErrKeyMismatch},
		{"RSA key", sampleVC, rsaKey, ErrKeyMismatch},
		{"nil key", sampleVC, nil, ErrKeyMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Sign([]byte(tc.doc), tc.key, edKid); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// resign builds a token from header and payload JSON signed by key,
// bypassing Sign's checks; a nil key leaves the signature empty.
func resign(t testing.TB, header, payload string, key crypto.Signer) string {
	t.Helper()
	in := b64(header) + "." + b64(payload)
	var sig []byte
	switch k := key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(in))
	case *ecdsa.PrivateKey:
		// JWS wants the fixed-size r||s, not crypto.Signer's ASN.1.
		h := sha256.Sum256([]byte(in))
		r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case nil:
	default:
		t.Fatalf("resign: %T", key)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
