package did

import (
	"fmt"
	"strings"
)

// DID is a parsed decentralized identifier, did:<Method>:<ID> (DID Core §3.1).
type DID struct {
	// Method is the method name, lowercase letters and digits ("key", "web").
	Method string
	// ID is the method-specific identifier, still percent-encoded.
	ID string
}

// String returns the DID in its canonical did:method:id form.
func (d DID) String() string { return "did:" + d.Method + ":" + d.ID }

// URL is a parsed DID URL (DID Core §3.2): a DID with an optional path, query
// and fragment. A verification method id is a DID URL whose fragment names
// the method, for example did:key:z6Mk…#z6Mk….
type URL struct {
	DID DID
	// Path is empty or starts with "/".
	Path string
	// Query is the part after "?", without it; empty means none.
	Query string
	// Fragment is the part after "#", without it; empty means none.
	Fragment string
}

// String returns the DID URL as it would be written.
func (u URL) String() string {
	var b strings.Builder
	b.WriteString(u.DID.String())
	b.WriteString(u.Path)
	if u.Query != "" {
		b.WriteByte('?')
		b.WriteString(u.Query)
	}
	if u.Fragment != "" {
		b.WriteByte('#')
		b.WriteString(u.Fragment)
	}
	return b.String()
}

// Parse parses a DID. It accepts exactly the DID Core ABNF
//
//	did                = "did:" method-name ":" method-specific-id
//	method-name        = 1*( %x61-7A / DIGIT )
//	method-specific-id = *( *idchar ":" ) 1*idchar
//	idchar             = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
//
// and so refuses DID URLs (path, query or fragment): use [ParseURL] for those.
// Errors wrap [ErrInvalidDID].
func Parse(s string) (DID, error) {
	rest, ok := strings.CutPrefix(s, "did:")
	if !ok {
		return DID{}, invalidDID(s, `does not start with "did:"`)
	}
	method, id, ok := strings.Cut(rest, ":")
	if !ok {
		return DID{}, invalidDID(s, "has no method-specific id")
	}
	if method == "" {
		return DID{}, invalidDID(s, "has an empty method name")
	}
	for i := 0; i < len(method); i++ {
		if c := method[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return DID{}, invalidDID(s, "method name must be lowercase letters and digits")
		}
	}
	if id == "" || strings.HasSuffix(id, ":") {
		return DID{}, invalidDID(s, "method-specific id is empty or ends with a colon")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case isAlnum(c), c == '.', c == '-', c == '_', c == ':':
		case c == '%':
			if i+2 >= len(id) || !isHex(id[i+1]) || !isHex(id[i+2]) {
				return DID{}, invalidDID(s, "has a malformed percent-encoding")
			}
			i += 2
		default:
			return DID{}, invalidDID(s, fmt.Sprintf("has character %q not allowed in a DID", c))
		}
	}
	return DID{Method: method, ID: id}, nil
}

// ParseURL parses a DID URL: a DID followed by an optional path, "?query" and
// "#fragment" (DID Core §3.2, RFC 3986 characters). An empty query or
// fragment after its delimiter is refused, since it names nothing. Errors wrap
// [ErrInvalidDID].
func ParseURL(s string) (URL, error) {
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	d, err := Parse(s[:end])
	if err != nil {
		return URL{}, err
	}
	u := URL{DID: d}
	rest := s[end:]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		u.Fragment = rest[i+1:]
		if u.Fragment == "" {
			return URL{}, invalidDID(s, "has an empty fragment")
		}
		if err := checkURLChars(u.Fragment, true); err != nil {
			return URL{}, invalidDID(s, "fragment "+err.Error())
		}
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		u.Query = rest[i+1:]
		if u.Query == "" {
			return URL{}, invalidDID(s, "has an empty query")
		}
		if err := checkURLChars(u.Query, true); err != nil {
			return URL{}, invalidDID(s, "query "+err.Error())
		}
		rest = rest[:i]
	}
	if err := checkURLChars(rest, false); err != nil {
		return URL{}, invalidDID(s, "path "+err.Error())
	}
	u.Path = rest
	return u, nil
}

// checkURLChars checks RFC 3986 pchar (plus "/" in paths, "/" and "?" in
// queries and fragments) and percent-encodings.
func checkURLChars(s string, queryOrFragment bool) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case pchar[c]:
		case c == '?' && queryOrFragment:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return fmt.Errorf("has a malformed percent-encoding")
			}
			i += 2
		default:
			return fmt.Errorf("has character %q not allowed in a URL", c)
		}
	}
	return nil
}

// pchar marks RFC 3986 pchar characters, and "/", outside percent-encodings.
var pchar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isAlnum(byte(c)) || strings.IndexByte("-._~!$&'()*+,;=:@/", byte(c)) >= 0
	}
	return t
}()

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// invalidDID builds an ErrInvalidDID error. The input is quoted and cut short
// so that hostile input cannot flood logs.
func invalidDID(s, why string) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidDID, quote(s), why)
}

// quote quotes s for an error message, keeping at most 120 bytes of it.
func quote(s string) string {
	const maxQuoted = 120
	if len(s) > maxQuoted {
		return fmt.Sprintf("%q…", s[:maxQuoted])
	}
	return fmt.Sprintf("%q", s)
}
