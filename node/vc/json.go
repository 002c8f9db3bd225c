package vc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Limits on what ParseCredential and ParsePresentation accept. They bound the
// work a hostile document can cause; real credentials, even Open Badges with
// an embedded image, are far below them.
const (
	// MaxDocumentSize is the largest document accepted, in bytes.
	MaxDocumentSize = 4 << 20
	// MaxDepth is the deepest nesting of objects and arrays accepted.
	MaxDepth = 64
)

// parseObject decodes data as exactly one JSON object. Unlike json.Unmarshal
// it refuses duplicate keys (which JSON-LD and JCS would resolve differently
// from one implementation to the next, so a signature could cover a value a
// verifier never sees), invalid UTF-8 (which json.Unmarshal silently replaces),
// trailing data and nesting beyond MaxDepth. Numbers stay json.Number so no
// precision is lost before canonicalisation.
func parseObject(data []byte) (map[string]any, error) {
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: document is %d bytes, limit %d", ErrParse, len(data), MaxDocumentSize)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: invalid UTF-8", ErrParse)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrParse, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%w: document is not a JSON object", ErrParse)
	}
	obj, err := decodeObject(dec, 1)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrParse, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrParse)
	}
	return obj, nil
}

// decodeObject reads the members of an object whose '{' was consumed.
func decodeObject(dec *json.Decoder, depth int) (map[string]any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("nesting deeper than %d", MaxDepth)
	}
	obj := make(map[string]any)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return obj, nil
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is %T, want string", tok)
		}
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		v, err := decodeValue(dec, depth)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}
}

// decodeArray reads the elements of an array whose '[' was consumed.
func decodeArray(dec *json.Decoder, depth int) ([]any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("nesting deeper than %d", MaxDepth)
	}
	arr := []any{}
	for dec.More() {
		v, err := decodeValue(dec, depth)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != ']' {
		return nil, fmt.Errorf("unexpected %v in array", tok)
	}
	return arr, nil
}

// decodeValue reads one value at the given depth of its container.
func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return decodeObject(dec, depth+1)
		case '[':
			return decodeArray(dec, depth+1)
		}
		return nil, fmt.Errorf("unexpected %q", rune(t))
	default:
		// string, json.Number, bool or nil.
		return t, nil
	}
}
