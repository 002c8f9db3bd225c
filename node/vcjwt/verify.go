package vcjwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Algorithms the package signs and verifies with.
const (
	AlgEdDSA = "EdDSA" // Ed25519 (RFC 8037)
	AlgES256 = "ES256" // ECDSA P-256 with SHA-256 (RFC 7518)
)

// DefaultSkew is the clock skew [VerifyOptions.Skew] allows by default.
const DefaultSkew = time.Minute

// KeyResolver finds the public key that must have signed a token. kid is the
// header's kid: normally the DID URL of a verification method, which the
// resolver must find under the issuer DID document's assertionMethod (for a
// credential) or authentication (for a presentation): [KindFromContext] on
// ctx tells which the token is. A kid that is a bare
// fragment ("#key-1") reaches the resolver already joined to a DID issuer.
// issuer is [Token.Issuer], possibly "". The key must be an
// ed25519.PublicKey or a P-256 *ecdsa.PublicKey; a key that cannot be found
// is an error, never nil.
type KeyResolver interface {
	ResolveKey(ctx context.Context, kid, issuer string) (crypto.PublicKey, error)
}

type kindKey struct{}

// KindFromContext returns the kind of token [Verify] is resolving a key
// for, so a [KeyResolver] can pick the verification relationship
// (assertionMethod for a credential, authentication for a presentation).
// ok is false outside Verify.
func KindFromContext(ctx context.Context) (kind Kind, ok bool) {
	kind, ok = ctx.Value(kindKey{}).(Kind)
	return kind, ok
}

// KeyResolverFunc adapts a function to [KeyResolver].
type KeyResolverFunc func(ctx context.Context, kid, issuer string) (crypto.PublicKey, error)

// ResolveKey calls f.
func (f KeyResolverFunc) ResolveKey(ctx context.Context, kid, issuer string) (crypto.PublicKey, error) {
	return f(ctx, kid, issuer)
}

// VerifyOptions tune [Verify]. The zero value checks the signature and the
// exp and nbf claims against the current time with [DefaultSkew].
type VerifyOptions struct {
	// Now is the time to check against; zero means time.Now().
	Now time.Time
	// Skew is the clock skew allowed on each time check; zero means
	// DefaultSkew, a negative value none.
	Skew time.Duration
	// CheckValidityPeriod also checks the credential's own validFrom and
	// validUntil (issuanceDate and expirationDate for VCDM 1.1) with the
	// same errors as nbf and exp. Off by default: VCDM 2.0 counts that as
	// validation, which the caller's policy may treat as a warning.
	CheckValidityPeriod bool
	// Nonce, when set, must equal the token's nonce claim (a verifier's
	// challenge to a presentation); otherwise [ErrNonce].
	Nonce string
	// Audience, when set, must be among the token's aud values; otherwise
	// [ErrAudience].
	Audience string
	// Kind, when set, is the kind of token required; otherwise [ErrKind].
	Kind Kind
}

// Verify parses token and checks it: the algorithm is EdDSA or ES256
// ([ErrAlgorithm]); a kid that is a DID URL belongs to the issuer when the
// issuer is a DID ([ErrKeyBinding]); keys resolves a key
// ([ErrKeyResolution]) of the type alg needs ([ErrKeyMismatch]); the
// signature verifies with go-jose ([ErrSignature]); exp and nbf hold at
// opts.Now within opts.Skew ([ErrExpired], [ErrNotYetValid]); and
// opts.Nonce, opts.Audience and opts.Kind match when set. It returns the
// token only when every check passed.
func Verify(ctx context.Context, token string, keys KeyResolver, opts VerifyOptions) (*Token, error) {
	t, err := Parse(token)
	if err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, fmt.Errorf("%w: no key resolver", ErrKeyResolution)
	}
	if opts.Kind != 0 && t.kind != opts.Kind {
		return nil, fmt.Errorf("%w: got a %v, want a %v", ErrKind, t.kind, opts.Kind)
	}
	var jalg jose.SignatureAlgorithm
	switch t.header.Alg {
	case AlgEdDSA:
		jalg = jose.EdDSA
	case AlgES256:
		jalg = jose.ES256
	default:
		return nil, fmt.Errorf("%w: %q (allowed: %s, %s)", ErrAlgorithm, t.header.Alg, AlgEdDSA, AlgES256)
	}
	issuer := t.Issuer()
	kid, err := bindKid(t.header.Kid, issuer)
	if err != nil {
		return nil, err
	}
	key, err := keys.ResolveKey(context.WithValue(ctx, kindKey{}, t.kind), kid, issuer)
	if err != nil {
		if ctx.Err() != nil {
			// Not the token's fault: leave it out of Code's mapping so the
			// caller reports an outage, not a forgery.
			return nil, fmt.Errorf("vcjwt: resolving kid %q: %w", kid, err)
		}
		return nil, fmt.Errorf("%w: kid %q, issuer %q: %w", ErrKeyResolution, kid, issuer, err)
	}
	if key == nil {
		return nil, fmt.Errorf("%w: kid %q, issuer %q: resolver returned no key", ErrKeyResolution, kid, issuer)
	}
	if err := checkKey(t.header.Alg, key); err != nil {
		return nil, err
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jalg})
	if err != nil {
		// Parse accepted the token, so this is go-jose being stricter.
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if !bytes.Equal(payload, t.payload) {
		// Both decoders read the same segment; a difference would mean the
		// claims checked below are not the ones signed.
		return nil, fmt.Errorf("%w: payload decoded differently by go-jose", ErrSignature)
	}
	if err := t.checkTime(opts); err != nil {
		return nil, err
	}
	if opts.Nonce != "" && (!t.claims.HasNonce || t.claims.Nonce != opts.Nonce) {
		return nil, fmt.Errorf("%w: got %q, want %q", ErrNonce, t.claims.Nonce, opts.Nonce)
	}
	if opts.Audience != "" && !slices.Contains(t.claims.Audience, opts.Audience) {
		return nil, fmt.Errorf("%w: got %q, want %q", ErrAudience, t.claims.Audience, opts.Audience)
	}
	return t, nil
}

// didOf returns the DID of a DID URL (everything before its path, query or
// fragment), or "" if s is not a DID URL.
func didOf(s string) string {
	if !strings.HasPrefix(s, "did:") {
		return ""
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		return s[:i]
	}
	return s
}

// bindKid makes a fragment-only kid absolute against a DID issuer, and
// refuses a DID URL kid of another DID than a DID issuer. Without this a
// resolver that looks only at kid would accept a credential naming a
// university as issuer but signed with anybody's did:key.
func bindKid(kid, issuer string) (string, error) {
	issuerDID := didOf(issuer)
	if strings.HasPrefix(kid, "#") && issuerDID != "" {
		kid = issuerDID + kid
	}
	if kidDID := didOf(kid); kidDID != "" && issuerDID != "" && kidDID != issuerDID {
		return "", fmt.Errorf("%w: kid %q is not a key of issuer %q", ErrKeyBinding, kid, issuer)
	}
	return kid, nil
}

// checkKey refuses a key whose type does not match alg, before go-jose sees
// it: an algorithm-confusion attack relies on a verifier using a key with an
// algorithm it was not made for.
func checkKey(alg string, key crypto.PublicKey) error {
	switch alg {
	case AlgEdDSA:
		if k, ok := key.(ed25519.PublicKey); ok && len(k) == ed25519.PublicKeySize {
			return nil
		}
	case AlgES256:
		if k, ok := key.(*ecdsa.PublicKey); ok && k != nil && k.Curve == elliptic.P256() {
			return nil
		}
	}
	return fmt.Errorf("%w: %s with a %T key", ErrKeyMismatch, alg, key)
}

func (t *Token) checkTime(opts VerifyOptions) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	skew := opts.Skew
	if skew == 0 {
		skew = DefaultSkew
	} else if skew < 0 {
		skew = 0
	}
	// RFC 7519 §4.1.4: the token must not be accepted on or after exp.
	if exp := t.claims.Expiry; !exp.IsZero() && !now.Before(exp.Add(skew)) {
		return fmt.Errorf("%w: exp %s, now %s", ErrExpired, xsdDateTime(exp), xsdDateTime(now))
	}
	if nbf := t.claims.NotBefore; !nbf.IsZero() && now.Add(skew).Before(nbf) {
		return fmt.Errorf("%w: nbf %s, now %s", ErrNotYetValid, xsdDateTime(nbf), xsdDateTime(now))
	}
	if !opts.CheckValidityPeriod || t.kind != KindCredential {
		return nil
	}
	vc, err := t.Credential()
	if err != nil {
		return err
	}
	var period struct {
		ValidFrom, ValidUntil, IssuanceDate, ExpirationDate *string
	}
	if err := json.Unmarshal(vc, &period); err != nil {
		return fmt.Errorf("%w: validity period: %v", ErrMalformed, err)
	}
	for _, c := range []struct {
		name  string
		value *string
		until bool
	}{
		{"validFrom", period.ValidFrom, false},
		{"issuanceDate", period.IssuanceDate, false},
		{"validUntil", period.ValidUntil, true},
		{"expirationDate", period.ExpirationDate, true},
	} {
		if c.value == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, *c.value)
		if err != nil {
			return fmt.Errorf("%w: %s %q is not a date-time with a time zone", ErrMalformed, c.name, *c.value)
		}
		if c.until && !now.Before(at.Add(skew)) {
			return fmt.Errorf("%w: %s %s, now %s", ErrExpired, c.name, *c.value, xsdDateTime(now))
		}
		if !c.until && now.Add(skew).Before(at) {
			return fmt.Errorf("%w: %s %s, now %s", ErrNotYetValid, c.name, *c.value, xsdDateTime(now))
		}
	}
	return nil
}
