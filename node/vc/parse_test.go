package vc

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseStrict(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth)
	tooDeep := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)
	deepArr := `{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + "}"
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"object", `{"a":1}`, true},
		{"nested at the limit", deep, true},
		{"nested beyond the limit", tooDeep, false},
		{"arrays beyond the limit", deepArr, false},
		{"empty", ``, false},
		{"array", `[{"a":1}]`, false},
		{"string", `"x"`, false},
		{"null", `null`, false},
		{"duplicate key", `{"a":1,"a":2}`, false},
		{"nested duplicate key", `{"a":{"b":1,"b":1}}`, false},
		{"same key in sibling objects", `{"a":{"b":1},"c":{"b":1}}`, true},
		{"trailing object", `{"a":1}{"b":2}`, false},
		{"trailing garbage", `{"a":1} x`, false},
		{"trailing whitespace", "{\"a\":1}\n\t ", true},
		{"trailing comma", `{"a":1,}`, false},
		{"missing comma", `{"a":1 "b":2}`, false},
		{"array missing comma", `{"a":[1 2]}`, false},
		{"unterminated", `{"a":1`, false},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", false},
		{"single quotes", `{'a':1}`, false},
		{"big number kept", `{"a":123456789012345678901234567890}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCredential([]byte(tt.in))
			if tt.ok && err != nil {
				t.Errorf("got %v, want success", err)
			}
			if !tt.ok && !errors.Is(err, ErrParse) {
				t.Errorf("got %v, want ErrParse", err)
			}
			_, perr := ParsePresentation([]byte(tt.in))
			if (err == nil) != (perr == nil) {
				t.Errorf("ParsePresentation disagrees: %v vs %v", perr, err)
			}
		})
	}
}

func TestParseSizeLimit(t *testing.T) {
	big := `{"a":"` + strings.Repeat("x", MaxDocumentSize) + `"}`
	if _, err := ParseCredential([]byte(big)); !errors.Is(err, ErrParse) {
		t.Errorf("got %v, want ErrParse for a %d-byte document", err, len(big))
	}
}

func TestParseKeepsNumbersAndRaw(t *testing.T) {
	in := []byte(`{"n":1.50,"big":123456789012345678901234567890}`)
	c, err := ParseCredential(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Object()["big"].(json.Number); !ok || got.String() != "123456789012345678901234567890" {
		t.Errorf("big = %#v, want the json.Number as written", c.Object()["big"])
	}
	in[0] = 'X' // the credential keeps its own copy
	if string(c.Raw()) != `{"n":1.50,"big":123456789012345678901234567890}` {
		t.Errorf("Raw = %s", c.Raw())
	}
}

func TestProblemError(t *testing.T) {
	p := Problem{Code: CodeMalformedValue, Kind: KindNotURL, Path: "/issuer", Detail: "issuer \"x\" is not a URL"}
	if got, want := p.Error(), `vc: MALFORMED_VALUE_ERROR at /issuer: issuer "x" is not a URL`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := (Problem{Code: CodeParsing, Detail: "d"}).Error(); got != "vc: PARSING_ERROR at /: d" {
		t.Errorf("root path: %q", got)
	}
	if got := pointer("/a", "b/c~d"); got != "/a/b~1c~0d" {
		t.Errorf("pointer escaping = %q", got)
	}
}

const v2Credential = `{
  "@context": ["https://www.w3.org/ns/credentials/v2"],
  "id": "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5",
  "type": ["VerifiableCredential"],
  "issuer": {"id": "did:example:issuer", "name": "Issuer"},
  "validFrom": "2020-01-01T00:00:00Z",
  "validUntil": "2030-01-01T00:00:00Z",
  "credentialSubject": {"id": "did:example:subject", "claim": true}
}`

func TestCheckValidity(t *testing.T) {
	c, err := ParseCredential([]byte(v2Credential))
	if err != nil {
		t.Fatal(err)
	}
	if ps := c.Check(CheckOptions{}); len(ps) != 0 {
		t.Fatalf("Check: %v", ps)
	}
	tests := []struct {
		now  time.Time
		kind string
	}{
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{time.Date(2019, 12, 31, 23, 59, 59, 0, time.UTC), KindNotYetValid},
		{time.Date(2030, 1, 1, 0, 0, 0, 1, time.UTC), KindExpired},
		{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), ""}, // validUntil is inclusive
	}
	for _, tt := range tests {
		ps := c.Check(CheckOptions{Now: tt.now})
		switch {
		case tt.kind == "" && len(ps) != 0:
			t.Errorf("at %v: %v, want none", tt.now, ps)
		case tt.kind != "" && (len(ps) != 1 || ps[0].Kind != tt.kind || ps[0].Code != CodeRange):
			t.Errorf("at %v: %v, want one %s", tt.now, ps, tt.kind)
		}
	}
}

func TestCheckCredentialRules(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		opts     CheckOptions
		kind     string
		path     string
	}{
		{"no issuer", `"issuer": {"id": "did:example:issuer", "name": "Issuer"},`, ``, CheckOptions{}, KindMissing, "/issuer"},
		{"issuer object without id", `{"id": "did:example:issuer", "name": "Issuer"}`, `{"name": "Issuer"}`, CheckOptions{}, KindMissing, "/issuer/id"},
		{"issuer array", `{"id": "did:example:issuer", "name": "Issuer"}`, `["did:example:a"]`, CheckOptions{}, KindWrongShape, "/issuer"},
		{"issuer name number", `"name": "Issuer"`, `"name": 5`, CheckOptions{}, KindLanguageValue, "/issuer/name"},
		{"bad @direction", `"name": "Issuer"`, `"name": {"@value": "x", "@direction": "up"}`, CheckOptions{}, KindLanguageValue, "/issuer/name/@direction"},
		{"bad @language", `"name": "Issuer"`, `"name": {"@value": "x", "@language": "en gb"}`, CheckOptions{}, KindLanguageValue, "/issuer/name/@language"},
		{"validFrom without zone", `"2020-01-01T00:00:00Z"`, `"2020-01-01T00:00:00"`, CheckOptions{}, KindDateTime, "/validFrom"},
		{"validFrom number", `"2020-01-01T00:00:00Z"`, `20200101`, CheckOptions{}, KindDateTime, "/validFrom"},
		{"context number", `["https://www.w3.org/ns/credentials/v2"]`, `["https://www.w3.org/ns/credentials/v2", 3]`, CheckOptions{}, KindContextEntry, "/@context/1"},
		{"context not URL", `["https://www.w3.org/ns/credentials/v2"]`, `["https://www.w3.org/ns/credentials/v2", "examples"]`, CheckOptions{}, KindContextEntry, "/@context/1"},
		{"type with space", `["VerifiableCredential"]`, `["VerifiableCredential", "My Type"]`, CheckOptions{}, KindTypeValue, "/type/1"},
		{"subject string", `{"id": "did:example:subject", "claim": true}`, `"did:example:subject"`, CheckOptions{}, KindWrongShape, "/credentialSubject"},
		{"subject empty array", `{"id": "did:example:subject", "claim": true}`, `[]`, CheckOptions{}, KindMissing, "/credentialSubject"},
		{"status null", `"validFrom"`, `"credentialStatus": null, "validFrom"`, CheckOptions{}, KindWrongShape, "/credentialStatus"},
		{"evidence string", `"validFrom"`, `"evidence": ["x"], "validFrom"`, CheckOptions{}, KindWrongShape, "/evidence/0"},
		{"v1 without issuanceDate", `"https://www.w3.org/ns/credentials/v2"`, `"https://www.w3.org/2018/credentials/v1"`, CheckOptions{}, KindMissing, "/issuanceDate"},
		{"expired via options", `"2030-01-01T00:00:00Z"`, `"2021-01-01T00:00:00Z"`, CheckOptions{Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, KindExpired, "/validUntil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(v2Credential, tt.old) {
				t.Fatalf("probe %q not found", tt.old)
			}
			c, err := ParseCredential([]byte(strings.Replace(v2Credential, tt.old, tt.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if ps := c.Check(tt.opts); !hasKind(ps, tt.kind, tt.path) {
				t.Errorf("got %v, want %s at %s", ps, tt.kind, tt.path)
			}
		})
	}
}

func TestPresentationEnveloped(t *testing.T) {
	const vp = `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiablePresentation",
	  "verifiableCredential": {"@context": "https://www.w3.org/ns/credentials/v2", "type": "EnvelopedVerifiableCredential", "id": "ID"}}`
	tests := []struct {
		id string
		ok bool
	}{
		{"data:application/vc+jwt,eyJhbGciOiJFZERTQSJ9.e30.sig", true},
		{"data:application/vc+sd-jwt,eyJ", true},
		{"data:application/vc-ld+jwt;base64url,eyJ", true},
		{"data:application/vc+cose;base64,2D", true},
		{"data:application/json,{}", false},
		{"data:application/vc+jwt,", false},
		{"https://example.org/vc.jwt", false},
	}
	for _, tt := range tests {
		p, err := ParsePresentation([]byte(strings.Replace(vp, "ID", tt.id, 1)))
		if err != nil {
			t.Fatal(err)
		}
		ps := p.Check(CheckOptions{})
		if tt.ok != (len(ps) == 0) {
			t.Errorf("%s: %v, want ok=%v", tt.id, ps, tt.ok)
		}
		if tt.ok && (len(p.EnvelopedCredentials()) != 1 || len(p.Credentials()) != 0) {
			t.Errorf("%s: enveloped %v, embedded %d", tt.id, p.EnvelopedCredentials(), len(p.Credentials()))
		}
	}
}

func TestPresentationAccessors(t *testing.T) {
	const vp = `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
	  "id": "urn:uuid:1", "holder": {"id": "did:example:holder"},
	  "verifiableCredential": [` + v2Credential + `],
	  "proof": {"type": "DataIntegrityProof", "challenge": "c"}}`
	p, err := ParsePresentation([]byte(vp))
	if err != nil {
		t.Fatal(err)
	}
	if p.Holder() != "did:example:holder" || p.ID() != "urn:uuid:1" || p.Version() != Version2 ||
		len(p.Types()) != 1 || len(p.Contexts()) != 1 || len(p.Proof()) != 1 || len(p.Credentials()) != 1 {
		t.Errorf("accessors: holder %q id %q version %v types %v", p.Holder(), p.ID(), p.Version(), p.Types())
	}
	// The embedded credential has no proof and its issuer is not the holder.
	if ps := p.Check(CheckOptions{}); !hasKind(ps, KindHolderClaims, "/verifiableCredential/0/issuer") {
		t.Errorf("got %v, want a holder-claims problem", ps)
	}
	if ps := p.Check(CheckOptions{Template: true}); len(ps) != 0 {
		t.Errorf("as a template: %v", ps)
	}
	// Embedded credential problems carry the embedded path; Now reaches them.
	ps := p.Check(CheckOptions{Template: true, Now: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)})
	if !hasKind(ps, KindExpired, "/verifiableCredential/0/validUntil") {
		t.Errorf("got %v, want expired embedded credential", ps)
	}
}

// TestPresentationV1JWTStrings: a VC 1.1 presentation may carry VC-JWTs as
// strings; a 2.0 one may not.
func TestPresentationV1JWTStrings(t *testing.T) {
	const vp = `{"@context": ["CTX"], "type": "VerifiablePresentation", "verifiableCredential": ["eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2ln"]}`
	for ctx, ok := range map[string]bool{ContextV1: true, ContextV2: false} {
		p, err := ParsePresentation([]byte(strings.Replace(vp, "CTX", ctx, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if ps := p.Check(CheckOptions{}); ok != (len(ps) == 0) {
			t.Errorf("%s: %v, want ok=%v", ctx, ps, ok)
		}
	}
}
