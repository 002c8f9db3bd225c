package vcjwt

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// unsigned builds header.payload. with a dummy signature, enough for Parse.
func unsigned(header, payload string) string {
	return b64(header) + "." + b64(payload) + "." + b64("sig")
}

const hdr = `{"alg":"EdDSA","typ":"vc+jwt"}`

func TestParseStrict(t *testing.T) {
	vc := compact(sampleVC)
	ok := unsigned(hdr, vc)
	for _, tc := range []struct {
		name string
		tok  string
		want error
	}{
		{"ok", ok, nil},
		{"empty", "", ErrEncoding},
		{"two segments", b64(hdr) + "." + b64(vc), ErrEncoding},
		{"four segments", ok + ".x", ErrEncoding},
		{"JWE-like five segments", "a.b.c.d.e", ErrEncoding},
		{"padding", b64(hdr) + "=." + b64(vc) + "." + b64("sig"), ErrEncoding},
		{"padded payload", b64(hdr) + "." + strings.TrimRight(b64(vc+" "), "=") + "=." + b64("sig"), ErrEncoding},
		{"std base64 alphabet", b64(hdr) + "." + strings.ReplaceAll(strings.ReplaceAll(b64(vc+"?>"), "-", "+"), "_", "/") + "." + b64("sig"), ErrEncoding},
		{"non-canonical trailing bits", b64(hdr) + "." + b64(vc) + "." + "AB", ErrEncoding},
		{"whitespace", " " + ok, ErrEncoding},
		{"newline inside", strings.Replace(ok, ".", ".\n", 1), ErrEncoding},
		{"empty header", "." + b64(vc) + "." + b64("s"), ErrEncoding},
		{"empty payload", b64(hdr) + ".." + b64("s"), ErrEncoding},
		{"header not JSON", unsigned(`{alg:EdDSA}`, vc), ErrEncoding},
		{"header array", unsigned(`["EdDSA"]`, vc), ErrMalformed},
		{"header duplicate alg", unsigned(`{"alg":"EdDSA","alg":"none"}`, vc), ErrEncoding},
		{"header duplicate escaped", unsigned(`{"alg":"EdDSA","\u0061lg":"none"}`, vc), ErrEncoding},
		{"header trailing data", unsigned(hdr+`{}`, vc), ErrEncoding},
		{"header bad UTF-8", unsigned("{\"alg\":\"EdDSA\",\"x\":\"\xff\"}", vc), ErrEncoding},
		{"no alg", unsigned(`{"typ":"vc+jwt"}`, vc), ErrMalformed},
		{"alg not string", unsigned(`{"alg":1}`, vc), ErrMalformed},
		{"kid not string", unsigned(`{"alg":"EdDSA","kid":{"x":1}}`, vc), ErrMalformed},
		{"crit", unsigned(`{"alg":"EdDSA","crit":["exp"],"exp":1}`, vc), ErrMalformed},
		{"crit not array", unsigned(`{"alg":"EdDSA","crit":"b64"}`, vc), ErrMalformed},
		{"crit empty", unsigned(`{"alg":"EdDSA","crit":[]}`, vc), nil},
		{"b64 false", unsigned(`{"alg":"EdDSA","b64":false}`, vc), ErrMalformed},
		{"unknown typ", unsigned(`{"alg":"EdDSA","typ":"dpop+jwt"}`, vc), ErrMalformed},
		{"typ with application/", unsigned(`{"alg":"EdDSA","typ":"application/VC+JWT"}`, vc), nil},
		{"typ JWT", unsigned(`{"alg":"EdDSA","typ":"JWT"}`, vc), nil},
		{"cty vc", unsigned(`{"alg":"EdDSA","typ":"vc+jwt","cty":"vc"}`, vc), nil},
		{"cty vp on credential", unsigned(`{"alg":"EdDSA","cty":"vp"}`, vc), ErrMalformed},
		{"typ vp on credential", unsigned(`{"alg":"EdDSA","typ":"vp+jwt"}`, vc), ErrMalformed},
		{"typ vc on 1.1 payload", unsigned(hdr, `{"vc":{}}`), ErrMalformed},
		{"payload not JSON", unsigned(hdr, `{"@context":`), ErrEncoding},
		{"payload array", unsigned(hdr, `[1]`), ErrMalformed},
		{"payload string", unsigned(hdr, `"x"`), ErrMalformed},
		{"payload duplicate nested", unsigned(hdr, strings.Replace(vc, `"alumniOf"`, `"id":"did:x","alumniOf"`, 1)), ErrEncoding},
		{"payload too deep", unsigned(hdr, `{"@context":[],"type":"VerifiableCredential","x":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`), ErrEncoding},
		{"payload neither form", unsigned(hdr, `{"iss":"x"}`), ErrMalformed},
		{"payload both vc and vp", unsigned(`{"alg":"EdDSA"}`, `{"vc":{},"vp":{}}`), ErrMalformed},
		{"vc not object", unsigned(`{"alg":"EdDSA"}`, `{"vc":"x"}`), ErrMalformed},
		{"type both", unsigned(hdr, `{"@context":[],"type":["VerifiableCredential","VerifiablePresentation"]}`), ErrMalformed},
		{"type neither, typ says", unsigned(hdr, `{"@context":[],"type":["X"]}`), nil},
		{"type neither, no typ", unsigned(`{"alg":"EdDSA"}`, `{"@context":[],"type":["X"]}`), ErrMalformed},
		{"type number", unsigned(hdr, `{"@context":[],"type":1}`), ErrMalformed},
		{"iss differs from issuer", unsigned(hdr, strings.TrimSuffix(vc, "}")+`,"iss":"did:example:mallory"}`), ErrMalformed},
		{"iss equals issuer", unsigned(hdr, strings.TrimSuffix(vc, "}")+`,"iss":"did:example:issuer"}`), nil},
		{"exp string", unsigned(hdr, strings.TrimSuffix(vc, "}")+`,"exp":"1700000000"}`), ErrMalformed},
		{"exp negative", unsigned(hdr, strings.TrimSuffix(vc, "}")+`,"exp":-1}`), ErrMalformed},
		{"exp huge", unsigned(hdr, strings.TrimSuffix(vc, "}")+`,"exp":1e300}`), ErrMalformed},
		{"nbf null", unsigned(hdr, strings.TrimSuffix(vc, "}")+`,"nbf":null}`), ErrMalformed},
		{"aud number", unsigned(hdr, strings.TrimSuffix(vc, "}")+`,"aud":1}`), ErrMalformed},
		{"nonce number", unsigned(hdr, strings.TrimSuffix(vc, "}")+`,"nonce":1}`), ErrMalformed},
		{"too large", strings.Repeat("a", MaxTokenSize+1), ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.tok)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if err != nil && Code(err) == "" {
				t.Errorf("no code for %v", err)
			}
		})
	}
}

func TestParseUnsecured(t *testing.T) {
	// alg none parses (so a caller can say why it is refused) but never
	// verifies: see TestVerifyAlgorithms.
	tok, err := Parse(b64(`{"alg":"none"}`) + "." + b64(compact(sampleVC)) + ".")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Alg() != "none" {
		t.Errorf("alg = %q", tok.Alg())
	}
}

// TestVCDM11Mapping checks the VCDM 1.1 §6.3.1 decoding rules: each JWT
// claim sets its credential property, overriding what vc says.
func TestVCDM11Mapping(t *testing.T) {
	const h = `{"alg":"ES256","typ":"JWT","kid":"did:example:issuer#ec"}`
	for _, tc := range []struct {
		name    string
		payload string
		want    string // the credential, compared as JSON
		wantErr error
	}{
		{
			"all claims, 1.1 context",
			`{"iss":"did:example:issuer","sub":"did:example:learner","jti":"urn:uuid:1","nbf":1262304000,"exp":1893456000,
			  "vc":{"@context":["https://www.w3.org/2018/credentials/v1"],"type":["VerifiableCredential"],"credentialSubject":{"degree":"BSc"}}}`,
			`{"@context":["https://www.w3.org/2018/credentials/v1"],"type":["VerifiableCredential"],"id":"urn:uuid:1","issuer":"did:example:issuer",
			  "issuanceDate":"2010-01-01T00:00:00Z","expirationDate":"2030-01-01T00:00:00Z","credentialSubject":{"id":"did:example:learner","degree":"BSc"}}`,
			nil,
		},
		{
			"2.0 context maps to validFrom and validUntil",
			`{"nbf":1262304000,"exp":1893456000,"vc":{"@context":"https://www.w3.org/ns/credentials/v2","type":"VerifiableCredential"}}`,
			`{"@context":"https://www.w3.org/ns/credentials/v2","type":"VerifiableCredential","validFrom":"2010-01-01T00:00:00Z","validUntil":"2030-01-01T00:00:00Z"}`,
			nil,
		},
		{
			"fractional nbf",
			`{"nbf":1262304000.25,"vc":{}}`,
			`{"issuanceDate":"2010-01-01T00:00:00.25Z"}`,
			nil,
		},
		{
			"no claims: vc unchanged",
			`{"vc":{"issuer":"did:a","issuanceDate":"2020-01-01T00:00:00Z","credentialSubject":{"id":"did:b"}}}`,
			`{"issuer":"did:a","issuanceDate":"2020-01-01T00:00:00Z","credentialSubject":{"id":"did:b"}}`,
			nil,
		},
		{
			"claims override vc members",
			`{"iss":"did:x","sub":"did:y","jti":"urn:z","nbf":0,"vc":{"id":"urn:old","issuer":"did:old","issuanceDate":"2020-01-01T00:00:00Z","credentialSubject":{"id":"did:old"}}}`,
			`{"id":"urn:z","issuer":"did:x","issuanceDate":"1970-01-01T00:00:00Z","credentialSubject":{"id":"did:y"}}`,
			nil,
		},
		{
			"issuer object keeps its members",
			`{"iss":"did:x","vc":{"issuer":{"id":"did:old","name":"Uni <1>"}}}`,
			`{"issuer":{"id":"did:x","name":"Uni <1>"}}`,
			nil,
		},
		{
			"sub without credentialSubject",
			`{"sub":"did:y","vc":{}}`,
			`{"credentialSubject":{"id":"did:y"}}`,
			nil,
		},
		{
			"sub with one subject in an array",
			`{"sub":"did:y","vc":{"credentialSubject":[{"name":"A"}]}}`,
			`{"credentialSubject":[{"id":"did:y","name":"A"}]}`,
			nil,
		},
		{
			"sub with two subjects",
			`{"sub":"did:y","vc":{"credentialSubject":[{},{}]}}`,
			"",
			ErrMalformed,
		},
		{
			"sub with a string subject",
			`{"sub":"did:y","vc":{"credentialSubject":"did:z"}}`,
			"",
			ErrMalformed,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A claim that cannot be mapped makes the token fail to parse,
			// so Credential never fails on a parsed credential token.
			var got []byte
			tok, err := Parse(unsigned(h, tc.payload))
			if err == nil {
				if tok.Form() != FormVCDM11 || tok.Kind() != KindCredential {
					t.Fatalf("form, kind = %v, %v", tok.Form(), tok.Kind())
				}
				got, err = tok.Credential()
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && !jsonEqual(t, got, []byte(tc.want)) {
				t.Errorf("Credential() =\n%s\nwant\n%s", got, tc.want)
			}
			if strings.Contains(string(got), `\u003c`) {
				t.Errorf("HTML escaped: %s", got)
			}
		})
	}
}

func TestVCDM11Presentation(t *testing.T) {
	p := `{"iss":"did:example:holder","jti":"urn:uuid:vp","aud":["a","b"],"nonce":"n","vp":{"@context":["https://www.w3.org/2018/credentials/v1"],"type":["VerifiablePresentation"],"verifiableCredential":["x.y.z"]}}`
	tok, err := Parse(unsigned(`{"alg":"EdDSA","typ":"JWT"}`, p))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Kind() != KindPresentation || tok.Issuer() != "did:example:holder" {
		t.Fatalf("kind %v issuer %q", tok.Kind(), tok.Issuer())
	}
	c := tok.Claims()
	if c.Nonce != "n" || len(c.Audience) != 2 {
		t.Errorf("claims %+v", c)
	}
	vp, err := tok.Presentation()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"@context":["https://www.w3.org/2018/credentials/v1"],"type":["VerifiablePresentation"],"verifiableCredential":["x.y.z"],"id":"urn:uuid:vp","holder":"did:example:holder"}`
	if !jsonEqual(t, vp, []byte(want)) {
		t.Errorf("Presentation() = %s, want %s", vp, want)
	}
}

func TestIssuer(t *testing.T) {
	for _, tc := range []struct {
		name, header, payload, want string
	}{
		{"2.0 string", hdr, `{"@context":[],"type":"VerifiableCredential","issuer":"did:a"}`, "did:a"},
		{"2.0 object", hdr, `{"@context":[],"type":"VerifiableCredential","issuer":{"id":"did:a"}}`, "did:a"},
		{"2.0 iss only", hdr, `{"@context":[],"type":"VerifiableCredential","iss":"did:b"}`, "did:b"},
		{"2.0 presentation holder", `{"alg":"EdDSA","typ":"vp+jwt"}`, `{"@context":[],"type":"VerifiablePresentation","holder":{"id":"did:h"}}`, "did:h"},
		{"2.0 none", hdr, `{"@context":[],"type":"VerifiableCredential"}`, ""},
		{"1.1 iss", `{"alg":"EdDSA"}`, `{"iss":"did:c","vc":{"issuer":"did:c"}}`, "did:c"},
		{"1.1 vc issuer", `{"alg":"EdDSA"}`, `{"vc":{"issuer":{"id":"did:d"}}}`, "did:d"},
		{"1.1 vp holder", `{"alg":"EdDSA"}`, `{"vp":{"holder":"did:e"}}`, "did:e"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(unsigned(tc.header, tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Issuer(); got != tc.want {
				t.Errorf("Issuer() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTokenAccessorsCopy(t *testing.T) {
	tok, err := Parse(unsigned(hdr, strings.TrimSuffix(compact(sampleVC), "}")+`,"aud":["a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	tok.Payload()[0] = 'X'
	tok.Claims().Audience[0] = "evil"
	if c, _ := tok.Credential(); c[0] != '{' || tok.Claims().Audience[0] != "a" {
		t.Error("accessors share memory with the token")
	}
	if tok.Raw() == "" || tok.Digest() == [32]byte{} {
		t.Error("Raw or Digest empty")
	}
}

// w3cInputs is the W3C VCDM 2.0 test suite's input folder, shared by the
// project's tests (see /work/shared/fixtures/MANIFEST.md).
var w3cInputs = filepath.Join("..", "..", "..", "shared", "fixtures", "w3c-vc-data-model-2.0-test-suite", "tests", "input")

func envelopedIDs(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w3cInputs, name))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("fixture %s not present", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	var vp struct {
		VerifiableCredential []struct {
			ID string `json:"id"`
		} `json:"verifiableCredential"`
	}
	if err := json.Unmarshal(b, &vp); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, vc := range vp.VerifiableCredential {
		ids = append(ids, vc.ID)
	}
	return ids
}

// TestW3CEnvelopedVC reads the VC-JWT the W3C suite wraps in an
// EnvelopedVerifiableCredential: an ES256 JWT in the 1.1 encoding ("vc"
// claim) around a 2.0 credential. Its key is not published, so only its
// structure is checked.
func TestW3CEnvelopedVC(t *testing.T) {
	ids := envelopedIDs(t, "presentation-enveloped-vc-ok.json")
	if len(ids) != 1 {
		t.Fatalf("got %d credentials, want 1", len(ids))
	}
	raw, err := ParseEnvelope(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Alg() != "ES256" || tok.Form() != FormVCDM11 || tok.Kind() != KindCredential || tok.Issuer() != "https://example.edu/issuers/565049" {
		t.Errorf("alg %s form %v kind %v issuer %q", tok.Alg(), tok.Form(), tok.Kind(), tok.Issuer())
	}
	vc, err := tok.Credential()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Context           []string `json:"@context"`
		ID                string   `json:"id"`
		Type              []string `json:"type"`
		Issuer            string   `json:"issuer"`
		ValidFrom         string   `json:"validFrom"`
		IssuanceDate      *string  `json:"issuanceDate"`
		CredentialSubject struct {
			ID string `json:"id"`
		} `json:"credentialSubject"`
	}
	if err := json.Unmarshal(vc, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "http://example.edu/credentials/3732" || got.Issuer != "https://example.edu/issuers/565049" ||
		got.CredentialSubject.ID != "did:example:ebfeb1f712ebc6f1c276e12ec21" || got.ValidFrom != "2010-01-01T00:00:00Z" ||
		got.IssuanceDate != nil || len(got.Type) != 2 || got.Context[0] != contextV2 {
		t.Errorf("credential = %s", vc)
	}
	// Verify with some P-256 key: the structure is fine, the signature not.
	anyP256 := KeyResolverFunc(func(context.Context, string, string) (crypto.PublicKey, error) { return &ecKey.PublicKey, nil })
	if _, err := Verify(t.Context(), raw, anyP256, VerifyOptions{Now: time.Now()}); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify with an unrelated key: err = %v, want ErrSignature", err)
	}
}

// TestW3CEnvelopedVCFail: the suite's "missing type" case also pads its
// payload segment ("...fQo=") and ends the JSON with a newline: the
// envelope is refused before any type check.
func TestW3CEnvelopedVCFail(t *testing.T) {
	ids := envelopedIDs(t, "presentation-enveloped-vc-missing-type-fail.json")
	for _, id := range ids {
		if _, err := ParseEnvelope(id); !errors.Is(err, ErrEnvelope) {
			t.Errorf("ParseEnvelope: err = %v, want ErrEnvelope", err)
		}
		// Even handed over directly, the padded token does not parse.
		_, tok, _ := strings.Cut(id, ",")
		if _, err := Parse(tok); !errors.Is(err, ErrEncoding) {
			t.Errorf("Parse: err = %v, want ErrEncoding", err)
		}
	}
}
