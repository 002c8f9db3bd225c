package credential

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCanonicalMatchesRFC8785Vectors checks the JCS form against the
// gowebpki/jcs test vectors (RFC 8785 inputs and expected outputs).
func TestCanonicalMatchesRFC8785Vectors(t *testing.T) {
	dir := filepath.Join("testdata", "jcs")
	inputs, err := filepath.Glob(filepath.Join(dir, "input", "*.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no JCS vectors in %s: %v", dir, err)
	}
	for _, in := range inputs {
		name := filepath.Base(in)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(dir, "output", name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
				if _, err := Canonical(data); !errors.Is(err, ErrMalformed) {
					t.Fatalf("Canonical of a non-object: got %v, want ErrMalformed", err)
				}
				return
			}
			got, err := Canonical(data)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("JCS form:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	a := []byte(`{"b": 1, "a": [1, 2.0, "x"]}`)
	b := []byte("{\n  \"a\": [1,2,\"x\"],\n  \"b\": 1\n}")
	da, err := Digest(a, FormJSON)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Digest(b, FormJSON)
	if err != nil {
		t.Fatal(err)
	}
	if da != db {
		t.Error("whitespace or member order changed the digest")
	}
	if want := sha256.Sum256([]byte(`{"a":[1,2,"x"],"b":1}`)); da != want {
		t.Errorf("digest %x, want SHA-256 of the JCS form %x", da, want)
	}
	if dc, _ := Digest([]byte(`{"a":[1,2,"y"],"b":1}`), FormJSON); dc == da {
		t.Error("a changed value kept the digest")
	}
	jwt := "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2lnbmF0dXJl"
	dj, err := Digest([]byte(" "+jwt+"\n"), FormJWT)
	if err != nil || dj != sha256.Sum256([]byte(jwt)) {
		t.Errorf("VC-JWT digest = %x, %v; want SHA-256 of the compact form", dj, err)
	}
	for _, tc := range []struct {
		name string
		data string
		form Form
	}{
		{"empty", "", FormJSON},
		{"array", "[1]", FormJSON},
		{"string", `"x"`, FormJSON},
		{"truncated", `{"a":`, FormJSON},
		{"trailing", `{"a":1} x`, FormJSON},
		{"jwt as json", jwt, FormJSON},
		{"json as jwt", `{"a":1}`, FormJWT},
		{"two segments", "abc.def", FormJWT},
		{"bad characters", "ab+c.def.ghi", FormJWT},
		{"unknown form", `{}`, Form(9)},
		{"oversized", `{"a":"` + strings.Repeat("x", MaxSize) + `"}`, FormJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Digest([]byte(tc.data), tc.form); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Digest: got %v, want ErrMalformed", err)
			}
		})
	}
}

func TestIssuer(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{`{"issuer":"did:web:a.example"}`, "did:web:a.example"},
		{`{"issuer":{"id":"did:key:z6Mk","name":"A"}}`, "did:key:z6Mk"},
		{`{"issuer":7}`, ""},
		{`{}`, ""},
		{`not json`, ""},
	} {
		if got := Issuer([]byte(tc.data)); got != tc.want {
			t.Errorf("Issuer(%s) = %q, want %q", tc.data, got, tc.want)
		}
	}
}

func FuzzDigest(f *testing.F) {
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"]}`), true)
	f.Add([]byte(`{"a":1e400}`), true)
	f.Add([]byte("eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2ln"), false)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		form := FormJWT
		if asJSON {
			form = FormJSON
		}
		d1, err := Digest(data, form)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if !asJSON {
			return
		}
		// The digest is of the canonical form, so canonicalising again
		// changes nothing.
		canon, err := Canonical(data)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Digest(canon, FormJSON)
		if err != nil || d1 != d2 {
			t.Fatalf("digest of the canonical form differs: %x vs %x (%v)", d1, d2, err)
		}
	})
}
