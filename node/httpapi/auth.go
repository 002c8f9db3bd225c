package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// realm names the protection space in WWW-Authenticate (RFC 6750 §3).
const realm = `Bearer realm="credanchor"`

// authorize checks the request's issuer bearer token. It compares SHA-256
// hashes in constant time, against every configured token whatever the
// outcome, so that neither a token's bytes nor its position in the list
// shows in the timing.
func (s *Server) authorize(r *http.Request) error {
	h := r.Header.Get("Authorization")
	if h == "" {
		return &apiError{
			pt:     ptUnauthorized,
			detail: "submitting needs an issuer token: Authorization: Bearer <token>",
			header: map[string]string{"WWW-Authenticate": realm},
		}
	}
	invalid := &apiError{
		pt:     ptUnauthorized,
		detail: "the issuer token is not valid",
		header: map[string]string{"WWW-Authenticate": realm + `, error="invalid_token"`},
	}
	scheme, tok, ok := strings.Cut(h, " ")
	// The scheme is case-insensitive (RFC 9110 §11.1).
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return invalid
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := 0
	for i := range s.tokens {
		match |= subtle.ConstantTimeCompare(sum[:], s.tokens[i][:])
	}
	if match != 1 {
		return invalid
	}
	return nil
}
