package credential

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"
)

// transform is the reference: what Canonical did before it had its own
// canonicaliser, encoding/json's grammar and gowebpki/jcs's Transform.
func transform(data []byte) ([]byte, error) {
	if !json.Valid(data) {
		return nil, errors.New("invalid JSON")
	}
	return jcs.Transform(data)
}

// TestCanonicalAnyValue checks every gowebpki/jcs vector, objects or not,
// against the canonicaliser underneath Canonical.
func TestCanonicalAnyValue(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "jcs", "input", "*.json"))
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdata", "jcs", "output", filepath.Base(in)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendCanonical(nil, bytes.TrimSpace(data))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got %s, %v; want %s", in, got, err, want)
		}
	}
}

// canonCases are edge cases of RFC 8785 and of the JSON grammar; each must
// canonicalise as the reference does, or fail as it does.
var canonCases = []string{
	`{"b":1,"a":2,"c":{"z":[],"y":{}}}`,
	`{"\u0061b":1,"aa":2}`,
	`{"a":1,"\u0061":2}`,
	`{"a":1,"a":2}`,
	`{"\ud83d\ude00":1,"\ue000":2,"\uffff":3,"😀x":4,"é":5}`,
	`{"s":"\u00e9\/\"\\\b\f\n\r\t\u0000\u001f\u007f\u2028"}`,
	`{"s":"\ud800"}`,
	`{"s":"\udc00\udc00"}`,
	`{"s":"\ud800\u0041"}`,
	`{"s":"\ud800x"}`,
	`{"s":"\uD83D\uDE00"}`,
	`{"s":"\u00G0"}`,
	`{"s":"a` + "\x01" + `"}`,
	`{"s":"` + "\xff" + `"}`,
	`{"s":"` + "\xed\xa0\x80" + `"}`,
	`{"n":[0,-0,-0.0,1.0,1e21,1e20,0.000001,1e-7,123456789012345,1234567890123456,12345678901234567890,-9007199254740993,1E400,-1e-400,5e-324,0.1,1.5e+3]}`,
	`{"n":01}`, `{"n":-}`, `{"n":1.}`, `{"n":.5}`, `{"n":1e}`, `{"n":+1}`, `{"n":0x10}`, `{"n":1_0}`,
	`{"l":[true,false,null]}`, `{"l":tru}`, `{"l":nul}`, `{"l":True}`,
	"{\"a\" :\t1 ,\r\n\"b\":[ 1 , 2 ] } ", `{"a":1}}`, `{"a":1,}`, `{,}`, `{"a"}`, `{"a":}`, `{1:2}`, `[1,]`, `[,1]`, `[]`, `{}`,
	`{"a":[1 2]}`, `{"a":"x" "b":1}`, "{\"a\":1}\x00", `{"é":1}`, "{\"a\":1}\u00a0",
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	`{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
}

func TestCanonicalMatchesReference(t *testing.T) {
	for _, in := range canonCases {
		checkCanonical(t, []byte(in))
	}
}

func checkCanonical(t *testing.T, data []byte) {
	t.Helper()
	got, err := appendCanonical(nil, data)
	want, werr := transform(data)
	if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
		t.Fatalf("canonical form of %.80q:\n got %q, %v\nwant %q, %v", data, got, err, want, werr)
	}
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v is not ErrMalformed", err)
		}
		return
	}
	// A decoded value canonicalises to the same bytes.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	fromValue, err := AppendCanonicalValue(nil, v)
	if err != nil || !bytes.Equal(fromValue, want) {
		t.Fatalf("canonical form of the decoded %.80q:\n got %q, %v\nwant %q", data, fromValue, err, want)
	}
	// Leaving out a member is canonicalising the object without it.
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, omit := range append(slices.Collect(maps.Keys(obj)), "absent") {
		without := maps.Clone(obj)
		delete(without, omit)
		want, _ := AppendCanonicalValue(nil, without)
		got, err := AppendCanonicalValueWithout(nil, obj, omit)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("canonical form of %.80q without %q:\n got %q, %v\nwant %q", data, omit, got, err, want)
		}
	}
}

func TestAppendCanonicalValueOtherTypes(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{map[string]any{"b": []string{"x"}, "a": 1.5, "c": 7}, `{"a":1.5,"b":["x"],"c":7}`},
		{json.Number("1e2"), `100`},
		{"<&>\u2028", "\"<&>\u2028\""},
	} {
		got, err := AppendCanonicalValue(nil, tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("AppendCanonicalValue(%#v) = %s, %v; want %s", tc.v, got, err, tc.want)
		}
	}
	for _, v := range []any{json.Number("01"), json.Number(""), "\xff", map[string]any{"\xff": 1}, func() {}} {
		if _, err := AppendCanonicalValue(nil, v); !errors.Is(err, ErrMalformed) {
			t.Errorf("AppendCanonicalValue(%#v): got %v, want ErrMalformed", v, err)
		}
	}
}

// FuzzCanonical compares the canonicaliser with the reference on any input.
func FuzzCanonical(f *testing.F) {
	for _, in := range canonCases {
		if len(in) < 1000 {
			f.Add([]byte(in))
		}
	}
	inputs, _ := filepath.Glob(filepath.Join("testdata", "jcs", "input", "*.json"))
	for _, in := range inputs {
		if data, err := os.ReadFile(in); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCanonical(t, data)
	})
}

func BenchmarkDigest(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "vc", "testdata", "dcc", "v2OBv3SpecExample.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Digest(data, FormJSON); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendCanonicalValue(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "vc", "testdata", "dcc", "v2OBv3SpecExample.json"))
	if err != nil {
		b.Fatal(err)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 2*len(data))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendCanonicalValue(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}
