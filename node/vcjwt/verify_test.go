package vcjwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// flip changes one character of a segment so the token still decodes.
func flip(tok string, seg, at int) string {
	parts := strings.Split(tok, ".")
	b := []byte(parts[seg])
	if at < 0 {
		at += len(b)
	}
	if b[at] == 'A' {
		b[at] = 'B'
	} else {
		b[at] = 'A'
	}
	parts[seg] = string(b)
	return strings.Join(parts, ".")
}

func TestVerifyTampered(t *testing.T) {
	for _, key := range []struct {
		name string
		kid  string
		key  crypto.Signer
	}{{"EdDSA", edKid, edKey}, {"ES256", ecKid, ecKey}} {
		tok, err := Sign([]byte(sampleVC), key.key, key.kid)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(tok, ".")
		// Re-encode a changed payload and header so they still parse: only
		// the signature can catch them.
		otherPayload := b64(strings.Replace(sampleVC, "learner", "mallory", 1))
		otherHeader := b64(fmt.Sprintf(`{"alg":%q,"kid":%q,"typ":"vc+jwt","x":1}`, map[string]string{edKid: "EdDSA", ecKid: "ES256"}[key.kid], key.kid))
		for _, tc := range []struct {
			name string
			tok  string
		}{
			{"payload replaced", parts[0] + "." + otherPayload + "." + parts[2]},
			{"header replaced", otherHeader + "." + parts[1] + "." + parts[2]},
			{"signature first byte", flip(tok, 2, 0)},
			{"signature middle byte", flip(tok, 2, len(parts[2])/2)},
			{"signature truncated", parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-6]},
			{"signature empty", parts[0] + "." + parts[1] + "."},
			{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(mustSign(t, sampleVP, key.key, key.kid), ".")[2]},
		} {
			t.Run(key.name+"/"+tc.name, func(t *testing.T) {
				_, err := Verify(context.Background(), tc.tok, resolver(), opts())
				if !errors.Is(err, ErrSignature) || Code(err) != CodeCryptographic {
					t.Errorf("err = %v (code %q), want ErrSignature (%s)", err, Code(err), CodeCryptographic)
				}
			})
		}
	}
}

func mustSign(t testing.TB, doc string, key crypto.Signer, kid string) string {
	t.Helper()
	var tok string
	var err error
	if strings.Contains(doc, "VerifiablePresentation") {
		tok, err = SignPresentation([]byte(doc), key, kid, "", "")
	} else {
		tok, err = Sign([]byte(doc), key, kid)
	}
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerifyAlgorithms(t *testing.T) {
	payload := compact(sampleVC)
	hsKey := make([]byte, 32)
	hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: hsKey}, (&jose.SignerOptions{}).WithType("vc+jwt").WithHeader("kid", edKid))
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rsaKey}, (&jose.SignerOptions{}).WithType("vc+jwt").WithHeader("kid", "did:example:issuer#rsa"))
	if err != nil {
		t.Fatal(err)
	}
	ser := func(s jose.Signer) string {
		jws, err := s.Sign([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		out, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	keys := &mapResolver{keys: map[string]crypto.PublicKey{
		edKid:                    edKey.Public(),
		"did:example:issuer#rsa": &rsaKey.PublicKey,
	}}
	for _, tc := range []struct {
		name string
		tok  string
	}{
		{"none", resign(t, `{"alg":"none","typ":"vc+jwt"}`, payload, nil)},
		{"none with kid", resign(t, `{"alg":"none","kid":"`+edKid+`"}`, payload, nil)},
		{"NONE", resign(t, `{"alg":"NONE"}`, payload, nil)},
		{"eddsa lowercase", resign(t, `{"alg":"eddsa","kid":"`+edKid+`"}`, payload, edKey)},
		{"Ed25519 (fully specified)", resign(t, `{"alg":"Ed25519","kid":"`+edKid+`"}`, payload, edKey)},
		{"ES384", resign(t, `{"alg":"ES384","kid":"`+ecKid+`"}`, payload, ecKey)},
		{"HS256", ser(hs)},
		{"RS256", ser(rs)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(context.Background(), tc.tok, keys, opts())
			if !errors.Is(err, ErrAlgorithm) || Code(err) != CodeCryptographic {
				t.Errorf("err = %v (code %q), want ErrAlgorithm", err, Code(err))
			}
		})
	}
}

func compact(doc string) string {
	p, err := checkPayload([]byte(doc), KindCredential)
	if err != nil {
		p, err = checkPayload([]byte(doc), KindPresentation)
	}
	if err != nil {
		panic(err) // test constant
	}
	return string(p)
}

func TestVerifyKeyMismatch(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	edTok := mustSign(t, sampleVC, edKey, edKid)
	ecTok := mustSign(t, sampleVC, ecKey, ecKid)
	for _, tc := range []struct {
		name string
		tok  string
		key  crypto.PublicKey
	}{
		{"EdDSA with P-256 key", edTok, &ecKey.PublicKey},
		{"EdDSA with RSA key", edTok, &rsaKey.PublicKey},
		{"EdDSA with HMAC secret", edTok, []byte(edKey.Public().(ed25519.PublicKey))},
		{"EdDSA with short key", edTok, ed25519.PublicKey(make([]byte, 31))},
		{"EdDSA with private key", edTok, edKey},
		{"ES256 with Ed25519 key", ecTok, edKey.Public()},
		{"ES256 with P-384 key", ecTok, &p384.PublicKey},
		{"ES256 with nil ECDSA key", ecTok, (*ecdsa.PublicKey)(nil)},
		{"ES256 with private key", ecTok, ecKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := KeyResolverFunc(func(context.Context, string, string) (crypto.PublicKey, error) { return tc.key, nil })
			_, err := Verify(context.Background(), tc.tok, r, opts())
			if !errors.Is(err, ErrKeyMismatch) || Code(err) != CodeCryptographic {
				t.Errorf("err = %v (code %q), want ErrKeyMismatch", err, Code(err))
			}
		})
	}
	// The right type but another key: the signature fails.
	otherKey, _, _ := ed25519.GenerateKey(rand.Reader)
	r := KeyResolverFunc(func(context.Context, string, string) (crypto.PublicKey, error) { return otherKey, nil })
	if _, err := Verify(context.Background(), edTok, r, opts()); !errors.Is(err, ErrSignature) {
		t.Errorf("another Ed25519 key: err = %v, want ErrSignature", err)
	}
}

func TestVerifyKeyResolution(t *testing.T) {
	tok := mustSign(t, sampleVC, edKey, edKid)
	if _, err := Verify(context.Background(), tok, &mapResolver{}, opts()); !errors.Is(err, ErrKeyResolution) || !errors.Is(err, errNoKey) || Code(err) != CodeCryptographic {
		t.Errorf("unknown kid: err = %v, want ErrKeyResolution wrapping the resolver's error", err)
	}
	if _, err := Verify(context.Background(), tok, nil, opts()); !errors.Is(err, ErrKeyResolution) {
		t.Errorf("nil resolver: err = %v, want ErrKeyResolution", err)
	}
	nilKey := KeyResolverFunc(func(context.Context, string, string) (crypto.PublicKey, error) { return nil, nil })
	if _, err := Verify(context.Background(), tok, nilKey, opts()); !errors.Is(err, ErrKeyResolution) {
		t.Errorf("nil key: err = %v, want ErrKeyResolution", err)
	}
	// A cancelled lookup is an outage, not a bad token.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ctxAware := KeyResolverFunc(func(ctx context.Context, _, _ string) (crypto.PublicKey, error) { return nil, ctx.Err() })
	_, err := Verify(ctx, tok, ctxAware, opts())
	if !errors.Is(err, context.Canceled) || Code(err) != "" {
		t.Errorf("cancelled: err = %v (code %q), want context.Canceled with no code", err, Code(err))
	}
}

func TestVerifyKeyBinding(t *testing.T) {
	for _, tc := range []struct {
		name, issuer, kid, wantKid string
		wantErr                    error
	}{
		{"same DID", "did:example:issuer", "did:example:issuer#ed", "did:example:issuer#ed", nil},
		{"issuer object", `{"id":"did:example:issuer","name":"U"}`, "did:example:issuer#ed", "did:example:issuer#ed", nil},
		{"relative kid", "did:example:issuer", "#ed", "did:example:issuer#ed", nil},
		{"kid of another DID", "did:example:issuer", "did:example:mallory#ed", "", ErrKeyBinding},
		{"kid of a DID prefix", "did:example:issuer", "did:example:issuer2#ed", "", ErrKeyBinding},
		{"kid with path", "did:example:issuer", "did:example:issuer/path#ed", "did:example:issuer/path#ed", nil},
		{"https issuer", "https://u.example", "did:example:mallory#ed", "did:example:mallory#ed", nil},
		{"no kid", "did:example:issuer", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issuer := tc.issuer
			if !strings.HasPrefix(issuer, "{") {
				issuer = fmt.Sprintf("%q", issuer)
			}
			doc := strings.Replace(sampleVC, `"did:example:issuer"`, issuer, 1)
			tok, err := Sign([]byte(doc), edKey, tc.kid)
			if err != nil {
				t.Fatal(err)
			}
			var gotKid string
			r := KeyResolverFunc(func(_ context.Context, kid, _ string) (crypto.PublicKey, error) {
				gotKid = kid
				return edKey.Public(), nil
			})
			_, err = Verify(context.Background(), tok, r, opts())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				if Code(err) != CodeCryptographic {
					t.Errorf("code %q", Code(err))
				}
				return
			}
			if gotKid != tc.wantKid {
				t.Errorf("resolver got kid %q, want %q", gotKid, tc.wantKid)
			}
		})
	}
}

func TestVerifyTime(t *testing.T) {
	exp := now.Add(time.Hour).Unix()
	nbf := now.Add(-time.Hour).Unix()
	withClaims := func(claims string) string {
		p := strings.TrimSuffix(compact(sampleVC), "}") + "," + claims + "}"
		return resign(t, `{"alg":"EdDSA","kid":"`+edKid+`","typ":"vc+jwt"}`, p, edKey)
	}
	for _, tc := range []struct {
		name string
		tok  string
		o    VerifyOptions
		want error
	}{
		{"within", withClaims(fmt.Sprintf(`"exp":%d,"nbf":%d`, exp, nbf)), opts(), nil},
		{"expired", withClaims(fmt.Sprintf(`"exp":%d`, exp)), VerifyOptions{Now: now.Add(2 * time.Hour)}, ErrExpired},
		{"at exp with no skew", withClaims(fmt.Sprintf(`"exp":%d`, exp)), VerifyOptions{Now: time.Unix(exp, 0), Skew: -1}, ErrExpired},
		{"just past exp within skew", withClaims(fmt.Sprintf(`"exp":%d`, exp)), VerifyOptions{Now: time.Unix(exp+30, 0)}, nil},
		{"past exp beyond skew", withClaims(fmt.Sprintf(`"exp":%d`, exp)), VerifyOptions{Now: time.Unix(exp+61, 0)}, ErrExpired},
		{"larger skew", withClaims(fmt.Sprintf(`"exp":%d`, exp)), VerifyOptions{Now: time.Unix(exp+61, 0), Skew: 2 * time.Minute}, nil},
		{"fractional exp", withClaims(fmt.Sprintf(`"exp":%d.5`, exp)), VerifyOptions{Now: time.Unix(exp, 400e6), Skew: -1}, nil},
		{"not yet valid", withClaims(fmt.Sprintf(`"nbf":%d`, now.Add(time.Hour).Unix())), opts(), ErrNotYetValid},
		{"nbf within skew", withClaims(fmt.Sprintf(`"nbf":%d`, now.Add(30*time.Second).Unix())), opts(), nil},
		{"validUntil passed, not asked", mustSign(t, sampleVC, edKey, edKid), VerifyOptions{Now: now.AddDate(2, 0, 0)}, nil},
		{"validUntil passed", mustSign(t, sampleVC, edKey, edKid), VerifyOptions{Now: now.AddDate(2, 0, 0), CheckValidityPeriod: true}, ErrExpired},
		{"validFrom ahead", mustSign(t, sampleVC, edKey, edKid), VerifyOptions{Now: now.AddDate(-2, 0, 0), CheckValidityPeriod: true}, ErrNotYetValid},
		{"bad validFrom", mustSign(t, strings.Replace(sampleVC, "2026-01-01T00:00:00Z", "2026-01-01", 1), edKey, edKid), VerifyOptions{Now: now, CheckValidityPeriod: true}, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(context.Background(), tc.tok, resolver(), tc.o)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == ErrExpired || tc.want == ErrNotYetValid {
				if Code(err) != CodeRange {
					t.Errorf("code %q, want %s", Code(err), CodeRange)
				}
			}
		})
	}
}

func TestVerifyZeroNowUsesClock(t *testing.T) {
	past := time.Now().Add(-time.Hour).Unix()
	p := strings.TrimSuffix(compact(sampleVC), "}") + fmt.Sprintf(`,"exp":%d}`, past)
	tok := resign(t, `{"alg":"EdDSA","kid":"`+edKid+`"}`, p, edKey)
	if _, err := Verify(context.Background(), tok, resolver(), VerifyOptions{}); !errors.Is(err, ErrExpired) {
		t.Errorf("err = %v, want ErrExpired", err)
	}
}

func TestCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("other"), ""},
		{fmt.Errorf("x: %w", ErrSignature), CodeCryptographic},
		{ErrAlgorithm, CodeCryptographic},
		{ErrEncoding, CodeParsing},
		{ErrTooLarge, CodeParsing},
		{ErrMalformed, CodeMalformed},
		{ErrEnvelope, CodeMalformed},
		{ErrKind, CodeMalformed},
		{ErrExpired, CodeRange},
		{ErrNonce, CodeInvalidChallenge},
		{ErrAudience, CodeInvalidDomain},
		// The more specific sentinel wins when an error wraps two.
		{fmt.Errorf("%w: %w", ErrMalformed, ErrSignature), CodeCryptographic},
	} {
		if got := Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestKindFromContext(t *testing.T) {
	if _, ok := KindFromContext(context.Background()); ok {
		t.Error("kind outside Verify")
	}
	for _, doc := range []string{sampleVC, sampleVP} {
		tok := mustSign(t, doc, edKey, edKid)
		var got Kind
		r := KeyResolverFunc(func(ctx context.Context, _, _ string) (crypto.PublicKey, error) {
			got, _ = KindFromContext(ctx)
			return edKey.Public(), nil
		})
		v, err := Verify(context.Background(), tok, r, opts())
		if err != nil {
			t.Fatal(err)
		}
		if got != v.Kind() || got == 0 {
			t.Errorf("resolver saw kind %v, token is %v", got, v.Kind())
		}
	}
}
