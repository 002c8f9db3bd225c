package vcjwt

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// envelopeTypes are the media types ParseEnvelope accepts: VC-JOSE-COSE's,
// the "+ld" forms of its drafts, and the "vc-ld+jwt" the W3C VCDM 2.0 test
// suite uses.
var envelopeTypes = map[string]bool{
	"application/vc+jwt":    true,
	"application/vp+jwt":    true,
	"application/vc+ld+jwt": true,
	"application/vp+ld+jwt": true,
	"application/vc-ld+jwt": true,
	"application/vp-ld+jwt": true,
}

// ParseEnvelope returns the compact JWS inside the id of an
// EnvelopedVerifiableCredential (or EnvelopedVerifiablePresentation): a data:
// URL (RFC 2397) of media type application/vc+jwt (or vp+jwt, or the +ld and
// -ld variants) whose data is the token. Two parameters are understood:
// ";base64url", which the W3C test suite adds to say the data is the token's
// own base64url text and so changes nothing, and ";base64", under which the
// data is standard base64 of the token. Anything else, and any byte that
// cannot be in a compact JWS, is [ErrEnvelope]. The token is not parsed:
// pass it to [Parse] or [Verify].
func ParseEnvelope(id string) (string, error) {
	// A token of MaxTokenSize under ;base64 takes a third more, plus the
	// media type.
	if len(id) > MaxTokenSize/3*4+256 {
		return "", fmt.Errorf("%w: %d bytes", ErrTooLarge, len(id))
	}
	const scheme = "data:"
	if len(id) < len(scheme) || !strings.EqualFold(id[:len(scheme)], scheme) {
		return "", fmt.Errorf("%w: not a data: URL", ErrEnvelope)
	}
	meta, data, ok := strings.Cut(id[len(scheme):], ",")
	if !ok {
		return "", fmt.Errorf("%w: data: URL without a comma", ErrEnvelope)
	}
	params := strings.Split(meta, ";")
	if mt := strings.ToLower(params[0]); !envelopeTypes[mt] {
		return "", fmt.Errorf("%w: media type %q is not a VC-JWT", ErrEnvelope, params[0])
	}
	base64Data := false
	for _, p := range params[1:] {
		switch strings.ToLower(p) {
		case "base64url":
		case "base64":
			base64Data = true
		default:
			return "", fmt.Errorf("%w: unknown parameter %q", ErrEnvelope, p)
		}
	}
	if base64Data {
		b, err := base64.StdEncoding.Strict().DecodeString(data)
		if err != nil {
			return "", fmt.Errorf("%w: base64 data: %v", ErrEnvelope, err)
		}
		data = string(b)
	}
	if len(data) > MaxTokenSize {
		return "", fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxTokenSize)
	}
	if strings.Count(data, ".") != 2 {
		return "", fmt.Errorf("%w: data is not a compact JWS", ErrEnvelope)
	}
	for i := 0; i < len(data); i++ {
		// The compact serialisation is base64url and dots, so it never needs
		// the percent-encoding RFC 2397 would otherwise allow.
		if c := data[i]; !isB64URL(c) && c != '.' {
			return "", fmt.Errorf("%w: byte %q at %d cannot be in a compact JWS", ErrEnvelope, c, i)
		}
	}
	return data, nil
}
