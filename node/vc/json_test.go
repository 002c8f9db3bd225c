package vc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync"
	"testing"
	"unicode/utf8"
)

// FuzzParseObject: the parser accepts what the reference accepts and
// decodes it to the same value.
func FuzzParseObject(f *testing.F) {
	addSeeds(f)
	for _, s := range []string{`{"a":"\ud800\ud800x\udc00\ud83d\ude00\u00e9\/"}`, `{"a":1,"a":2}`, `{"a":[1,2,]}`, `{"a":01}`, ` {"a":-0.5e+3} `, `{"a":tru}`, `[1]`, `"x"`, ``, `{"a":1}x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseObject(data)
		want, werr := refParseObject(data)
		if (err == nil) != (werr == nil) {
			t.Fatalf("ParseObject(%q): error %v, reference %v", data, err, werr)
		}
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v is not ErrParse", err)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ParseObject(%q) = %#v, reference %#v", data, got, want)
		}
	})
}

// refParseObject is the parser ParseCredential had before its own, on
// encoding/json's Decoder.Token: the reference FuzzParseObject compares
// it with. Unlike json.Unmarshal
// it refuses duplicate keys (which JSON-LD and JCS would resolve differently
// from one implementation to the next, so a signature could cover a value a
// verifier never sees), invalid UTF-8 (which json.Unmarshal silently replaces),
// trailing data and nesting beyond MaxDepth. Numbers stay json.Number so no
// precision is lost before canonicalisation.
func refParseObject(data []byte) (map[string]any, error) {
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
	obj, err := refDecodeObject(dec, 1)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrParse, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrParse)
	}
	return obj, nil
}

// refDecodeObject reads the members of an object whose '{' was consumed.
func refDecodeObject(dec *json.Decoder, depth int) (map[string]any, error) {
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
		v, err := refDecodeValue(dec, depth)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}
}

// refDecodeArray reads the elements of an array whose '[' was consumed.
func refDecodeArray(dec *json.Decoder, depth int) ([]any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("nesting deeper than %d", MaxDepth)
	}
	arr := []any{}
	for dec.More() {
		v, err := refDecodeValue(dec, depth)
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

// refDecodeValue reads one value at the given depth of its container.
func refDecodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return refDecodeObject(dec, depth+1)
		case '[':
			return refDecodeArray(dec, depth+1)
		}
		return nil, fmt.Errorf("unexpected %q", rune(t))
	default:
		// string, json.Number, bool or nil.
		return t, nil
	}
}

func BenchmarkParseObject(b *testing.B) {
	data, err := os.ReadFile("testdata/dcc/v2OBv3SpecExample.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseText(string(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseShared: a document parsed again is not decoded again, and one
// whose bytes changed since is.
func TestParseShared(t *testing.T) {
	data := []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"urn:x:shared-test"}`)
	a, err := ParseCredential(data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseCredential(data)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(a.Object()).Pointer() != reflect.ValueOf(b.Object()).Pointer() {
		t.Error("the same bytes were decoded twice")
	}
	copy(data[bytes.Index(data, []byte("test")):], "tost")
	c, err := ParseCredential(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID() != "urn:x:shared-tost" || a.ID() != "urn:x:shared-test" || string(a.Raw()) == string(c.Raw()) {
		t.Errorf("after a change: ids %q, %q", a.ID(), c.ID())
	}
}

// TestParseSharedConcurrent parses many documents from many goroutines;
// run with -race.
func TestParseSharedConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				id := fmt.Sprintf("urn:x:%d", (g*7+i)%40)
				c, err := ParseCredential([]byte(`{"id":"` + id + `"}`))
				if err != nil || c.ID() != id {
					t.Errorf("ParseCredential: %v, id %q want %q", err, c.ID(), id)
					return
				}
			}
		}()
	}
	wg.Wait()
}
