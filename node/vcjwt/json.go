package vcjwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// maxDepth bounds the nesting of arrays and objects. Credentials nest a few
// levels (an Open Badges achievement sits at depth 4); anything near this is
// an attack, not a credential.
const maxDepth = 64

// checkJSON reports whether b is exactly one UTF-8 JSON value with no
// duplicate member names at any depth and no deeper nesting than maxDepth.
// encoding/json silently keeps the last of duplicate names and replaces bad
// UTF-8; a signer and a verifier that read such a payload differently could
// disagree about what was signed, so it is refused (RFC 7515 §5.2, I-JSON).
func checkJSON(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: invalid UTF-8", ErrEncoding)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	// Each open container: nil for an array, its member names for an object.
	var stack []map[string]struct{}
	expectKey := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) != 0 {
				return fmt.Errorf("%w: truncated JSON", ErrEncoding)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrEncoding, err)
		}
		if expectKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
				if len(stack) == 0 {
					if err := checkEOF(dec); err != nil {
						return err
					}
					return nil
				}
				continue
			}
			k, ok := tok.(string)
			if !ok {
				return fmt.Errorf("%w: bad object member name", ErrEncoding)
			}
			names := stack[len(stack)-1]
			if _, dup := names[k]; dup {
				return fmt.Errorf("%w: duplicate member %q", ErrEncoding, k)
			}
			names[k] = struct{}{}
			expectKey = false
			continue
		}
		// A value.
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if len(stack) >= maxDepth {
					return fmt.Errorf("%w: nested deeper than %d", ErrEncoding, maxDepth)
				}
				if d == '{' {
					stack = append(stack, map[string]struct{}{})
					expectKey = true
				} else {
					stack = append(stack, nil)
				}
				continue
			case ']':
				stack = stack[:len(stack)-1]
			}
		}
		// A value ended: the parent decides what comes next.
		if len(stack) == 0 {
			return checkEOF(dec)
		}
		expectKey = stack[len(stack)-1] != nil
	}
}

// checkEOF refuses anything after the top-level value.
func checkEOF(dec *json.Decoder) error {
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the JSON value", ErrEncoding)
	}
	return nil
}

// decodeObject decodes a checked JSON object into its members.
func decodeObject(b []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return m, nil
}

// stringMember returns m[name] as a string; present reports whether it was
// there at all. A member of another type is an error.
func stringMember(m map[string]json.RawMessage, name string) (s string, present bool, err error) {
	raw, ok := m[name]
	if !ok {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil || !isJSONString(raw) {
		return "", true, fmt.Errorf("%w: %s is not a string", ErrMalformed, name)
	}
	return s, true, nil
}

func isJSONString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

// idOf returns a string value, or the "id" of an object value (issuer,
// holder and credentialSubject may be either).
func idOf(raw json.RawMessage) (string, bool) {
	var s string
	if isJSONString(raw) && json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var obj struct {
		ID *string `json:"id"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) && json.Unmarshal(raw, &obj) == nil && obj.ID != nil {
		return *obj.ID, true
	}
	return "", false
}

// stringsOf returns a string or an array of strings (type, aud).
func stringsOf(raw json.RawMessage) ([]string, bool) {
	var s string
	if isJSONString(raw) && json.Unmarshal(raw, &s) == nil {
		return []string{s}, true
	}
	var ss []string
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) && json.Unmarshal(raw, &ss) == nil {
		return ss, true
	}
	return nil, false
}
