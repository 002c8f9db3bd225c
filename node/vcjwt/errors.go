package vcjwt

import (
	"errors"
)

// Error codes returned by [Code]. The first four are those of VC Data Model
// 2.0 §7.1 (Verification, problem details); the challenge and domain codes
// are those Data Integrity 1.0 uses for a presentation's challenge and domain,
// whose JWT equivalents are nonce and aud.
const (
	CodeParsing          = "PARSING_ERROR"
	CodeCryptographic    = "CRYPTOGRAPHIC_SECURITY_ERROR"
	CodeMalformed        = "MALFORMED_VALUE_ERROR"
	CodeRange            = "RANGE_ERROR"
	CodeInvalidChallenge = "INVALID_CHALLENGE_ERROR"
	CodeInvalidDomain    = "INVALID_DOMAIN_ERROR"
)

var (
	// ErrTooLarge: the token (or envelope) is longer than [MaxTokenSize].
	ErrTooLarge = errors.New("vcjwt: token too large")
	// ErrEncoding: the token is not three base64url segments holding UTF-8
	// JSON (padding, non-canonical base64, invalid JSON, duplicate member
	// names).
	ErrEncoding = errors.New("vcjwt: token encoding")
	// ErrMalformed: the token decodes but its header or claims do not have
	// the shape VC-JOSE-COSE or the VCDM 1.1 JWT encoding require.
	ErrMalformed = errors.New("vcjwt: malformed token")
	// ErrKind: a credential was asked of a presentation token or the reverse.
	ErrKind = errors.New("vcjwt: wrong kind of token")
	// ErrEnvelope: an enveloped credential id is not a data: URL holding a
	// VC-JWT.
	ErrEnvelope = errors.New("vcjwt: bad envelope")

	// ErrAlgorithm: alg is not EdDSA or ES256 (so "none", HMAC and RSA are
	// refused).
	ErrAlgorithm = errors.New("vcjwt: algorithm not allowed")
	// ErrKeyResolution: the [KeyResolver] found no key.
	ErrKeyResolution = errors.New("vcjwt: key resolution failed")
	// ErrKeyMismatch: the resolved key is not of the type alg needs.
	ErrKeyMismatch = errors.New("vcjwt: key does not match algorithm")
	// ErrKeyBinding: kid names a key of another DID than the token's issuer.
	ErrKeyBinding = errors.New("vcjwt: key not controlled by issuer")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("vcjwt: invalid signature")

	// ErrExpired: exp (or, when asked, validUntil) has passed.
	ErrExpired = errors.New("vcjwt: token expired")
	// ErrNotYetValid: nbf (or, when asked, validFrom) is still ahead.
	ErrNotYetValid = errors.New("vcjwt: token not yet valid")
	// ErrNonce: the nonce claim is missing or not the one expected.
	ErrNonce = errors.New("vcjwt: nonce mismatch")
	// ErrAudience: the aud claim is missing or does not hold the expected
	// audience.
	ErrAudience = errors.New("vcjwt: audience mismatch")
)

// codes is searched in order, so a more specific sentinel comes first.
var codes = []struct {
	err  error
	code string
}{
	{ErrAlgorithm, CodeCryptographic},
	{ErrKeyResolution, CodeCryptographic},
	{ErrKeyMismatch, CodeCryptographic},
	{ErrKeyBinding, CodeCryptographic},
	{ErrSignature, CodeCryptographic},
	{ErrNonce, CodeInvalidChallenge},
	{ErrAudience, CodeInvalidDomain},
	{ErrExpired, CodeRange},
	{ErrNotYetValid, CodeRange},
	{ErrTooLarge, CodeParsing},
	{ErrEncoding, CodeParsing},
	{ErrMalformed, CodeMalformed},
	{ErrKind, CodeMalformed},
	{ErrEnvelope, CodeMalformed},
}

// Code returns the VC error code for an error returned by this package:
// [CodeCryptographic] for anything about keys, algorithms and signatures,
// [CodeParsing] for bytes that are not a JWS of JSON, [CodeMalformed] for a
// JWS whose header or claims have the wrong shape, [CodeRange] for a token
// outside its validity period, and [CodeInvalidChallenge] /
// [CodeInvalidDomain] for a presentation's nonce / aud. It returns "" for nil
// and for errors that are not the package's (a cancelled context).
func Code(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}
