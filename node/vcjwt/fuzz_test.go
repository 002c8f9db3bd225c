package vcjwt

import (
	"context"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(mustSign(f, sampleVC, edKey, edKid))
	f.Add(mustSign(f, sampleVC, ecKey, ecKid))
	f.Add(mustSign(f, sampleVP, edKey, edKid))
	f.Add(unsigned(`{"alg":"ES256","typ":"JWT"}`, `{"iss":"did:x","sub":"did:y","jti":"u","nbf":1,"exp":2.5,"vc":{"@context":"https://www.w3.org/ns/credentials/v2","issuer":{"id":"did:z"},"credentialSubject":[{}]}}`))
	f.Add(unsigned(`{"alg":"EdDSA"}`, `{"iss":"did:h","aud":["a"],"nonce":"n","vp":{"holder":{}}}`))
	f.Add(unsigned(`{"alg":"none","crit":[]}`, `{"@context":[],"type":"X"}`))
	f.Add("a.b.c")
	f.Add("..")
	if b, err := os.ReadFile(filepath.Join(w3cInputs, "presentation-enveloped-vc-ok.json")); err == nil {
		if _, tok, ok := strings.Cut(string(b), "base64url,"); ok {
			tok, _, _ = strings.Cut(tok, `"`)
			f.Add(tok)
		}
	}
	keys := KeyResolverFunc(func(context.Context, string, string) (crypto.PublicKey, error) { return edKey.Public(), nil })
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			if tok != nil {
				t.Fatal("token with error")
			}
			if Code(err) == "" {
				t.Fatalf("error without code: %v", err)
			}
			return
		}
		if len(s) > MaxTokenSize {
			t.Fatalf("parsed %d bytes", len(s))
		}
		// Every accessor works on whatever parsed, without panicking.
		_ = tok.Issuer()
		_ = tok.Claims()
		_ = tok.Digest()
		c, cerr := tok.Credential()
		p, perr := tok.Presentation()
		// A parsed token yields exactly its own kind.
		if tok.Kind() == KindCredential && (cerr != nil || !errors.Is(perr, ErrKind)) ||
			tok.Kind() == KindPresentation && (perr != nil || !errors.Is(cerr, ErrKind)) {
			t.Fatalf("%v token: Credential err %v, Presentation err %v", tok.Kind(), cerr, perr)
		}
		for _, out := range [][]byte{c, p} {
			if out != nil {
				if err := checkJSON(out); err != nil {
					t.Fatalf("mapped JSON invalid: %v: %s", err, out)
				}
			}
		}
		if _, err := Verify(context.Background(), s, keys, VerifyOptions{CheckValidityPeriod: true}); err == nil && tok.Alg() != AlgEdDSA {
			t.Fatalf("verified a %q token", tok.Alg())
		} else if err != nil && Code(err) == "" {
			t.Fatalf("Verify error without code: %v", err)
		}
	})
}

func FuzzParseEnvelope(f *testing.F) {
	tok := mustSign(f, sampleVC, edKey, edKid)
	f.Add("data:application/vc+jwt," + tok)
	f.Add("data:application/vc-ld+jwt;base64url," + tok)
	f.Add("data:application/vp+jwt;base64,YS5iLmM=")
	f.Add("data:,")
	f.Add("data:application/vc+jwt;;,a.b.c")
	f.Fuzz(func(t *testing.T, id string) {
		got, err := ParseEnvelope(id)
		if err != nil {
			if !errors.Is(err, ErrEnvelope) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(got) > MaxTokenSize || strings.Count(got, ".") != 2 {
			t.Fatalf("bad token %q", got)
		}
		for i := 0; i < len(got); i++ {
			if !isB64URL(got[i]) && got[i] != '.' {
				t.Fatalf("byte %q in token", got[i])
			}
		}
	})
}
