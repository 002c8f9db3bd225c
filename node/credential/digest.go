// Package credential holds what the node knows of a credential's bytes: its
// form (JSON-LD or VC-JWT) and its digest, SHA-256 of the RFC 8785 (JCS)
// form for JSON and of the compact serialisation for a VC-JWT.
package credential

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
)

// Form is how a credential is serialised.
type Form int

const (
	// FormJSON is a JSON(-LD) credential secured by embedded proofs.
	FormJSON Form = iota + 1
	// FormJWT is a VC-JWT in JWS compact serialisation.
	FormJWT
)

func (f Form) String() string {
	switch f {
	case FormJSON:
		return "json"
	case FormJWT:
		return "vc+jwt"
	}
	return fmt.Sprintf("Form(%d)", int(f))
}

// MaxSize bounds a credential's bytes.
const MaxSize = 1 << 20

// ErrMalformed is returned for bytes that are not a credential in the form
// claimed.
var ErrMalformed = errors.New("credential: malformed")

// compactJWS is three base64url segments; the signature may be empty only
// for unsecured JWTs, which are not credentials.
var compactJWS = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)

// Digest returns the credential digest of DESIGN.md: for JSON, SHA-256 of
// its JCS form (so whitespace and member order do not matter, every other
// byte does); for a VC-JWT, SHA-256 of the compact serialisation, with
// surrounding whitespace removed.
func Digest(data []byte, form Form) ([32]byte, error) {
	if len(data) > MaxSize {
		return [32]byte{}, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(data), MaxSize)
	}
	switch form {
	case FormJSON:
		// The canonical form is hashed and dropped: its buffer is reused.
		buf := canonBufs.Get().(*[]byte)
		defer canonBufs.Put(buf)
		canon, err := appendCanonicalObject((*buf)[:0], data)
		if err != nil {
			return [32]byte{}, err
		}
		*buf = canon
		return sha256.Sum256(canon), nil
	case FormJWT:
		tok := bytes.TrimSpace(data)
		if !compactJWS.Match(tok) {
			return [32]byte{}, fmt.Errorf("%w: not a JWS compact serialisation", ErrMalformed)
		}
		return sha256.Sum256(tok), nil
	}
	return [32]byte{}, fmt.Errorf("%w: unknown form %v", ErrMalformed, form)
}

func appendCanonicalObject(dst, data []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: a credential is a JSON object", ErrMalformed)
	}
	return appendCanonical(dst, trimmed)
}

var canonBufs = sync.Pool{New: func() any { return new([]byte) }}

// Canonical returns the JCS (RFC 8785) form of a JSON credential, which must
// be one JSON object.
func Canonical(data []byte) ([]byte, error) {
	return appendCanonicalObject(make([]byte, 0, len(data)), data)
}

// Issuer returns the issuer id of a JSON credential (`issuer` as a string,
// or `issuer.id`), or "" when it has none.
func Issuer(data []byte) string {
	var v struct {
		Issuer json.RawMessage `json:"issuer"`
	}
	if json.Unmarshal(data, &v) != nil || len(v.Issuer) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v.Issuer, &s) == nil {
		return s
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(v.Issuer, &obj) == nil {
		return obj.ID
	}
	return ""
}
