package jsonld_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/credanchor/credanchor/node/jsonld"
	"github.com/credanchor/credanchor/node/rdfc"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestW3CCanonicalDocument reproduces the eddsa-rdfc-2022 vector's
// canonical document byte for byte.
func TestW3CCanonicalDocument(t *testing.T) {
	got, err := jsonld.Canonicalize(read(t, "w3c/unsigned.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := read(t, "w3c/canonDocDataInt.txt"); !bytes.Equal(got, want) {
		t.Fatalf("canonical document\n%s\nwant\n%s", got, want)
	}
	// The proof configuration is a JSON-LD document too.
	got, err = jsonld.Canonicalize(read(t, "w3c/proofConfigDataInt.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := read(t, "w3c/proofCanonDataInt.txt"); !bytes.Equal(got, want) {
		t.Fatalf("canonical proof configuration\n%s\nwant\n%s", got, want)
	}
}

func TestOB3Credential(t *testing.T) {
	quads, err := jsonld.ToRDF(read(t, "dcc/v2OBv3SpecExample.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(quads) < 20 {
		t.Fatalf("%d quads", len(quads))
	}
	for _, q := range quads {
		if err := q.Validate(); err != nil {
			t.Fatalf("%v: %v", q, err)
		}
	}
}

const v1 = `"@context":["https://www.w3.org/2018/credentials/v1"],"id":"urn:uuid:1","issuer":"did:example:1","issuanceDate":"2023-01-01T00:00:00Z"`

func TestSafeMode(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want error
	}{
		{"dcc safeModeBreaker", string(read(t, "dcc/safeModeBreaker.json")), jsonld.ErrSafeMode},
		{"undefined property", `{` + v1 + `,"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:2","alumniOf":"x"}}`, jsonld.ErrSafeMode},
		{"undefined top-level property", `{` + v1 + `,"type":["VerifiableCredential"],"secret":"x"}`, jsonld.ErrSafeMode},
		{"undefined type", `{` + v1 + `,"type":["VerifiableCredential","StatusList2021Entry"]}`, jsonld.ErrSafeMode},
		{"undefined nested type", `{` + v1 + `,"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:2","type":"Alumnus"}}`, jsonld.ErrSafeMode},
		{"relative id", `{` + strings.Replace(v1, `"urn:uuid:1"`, `"credential-1"`, 1) + `,"type":["VerifiableCredential"]}`, jsonld.ErrSafeMode},
		// json-gold refuses a relative datatype itself (invalid typed value).
		{"relative datatype", `{"@context":{"p":"https://e.example/p"},"@id":"urn:x","p":{"@value":"x","@type":"rel"}}`, jsonld.ErrInvalid},
		{"blank node property", `{"@context":{"p":"_:p"},"@id":"urn:x","p":"x"}`, jsonld.ErrSafeMode},
		{"bad language tag", `{"@context":{"p":"https://e.example/p"},"@id":"urn:x","p":{"@value":"x","@language":"en us"}}`, jsonld.ErrSafeMode},
		{"direction", `{"@context":{"p":"https://e.example/p"},"@id":"urn:x","p":{"@value":"x","@direction":"rtl"}}`, jsonld.ErrSafeMode},
		{"no context", `{"name":"x"}`, jsonld.ErrSafeMode},
		{"not JSON", `{"@context":`, jsonld.ErrInvalid},
		{"a string", `"x"`, jsonld.ErrInvalid},
		{"trailing data", `{} {}`, jsonld.ErrInvalid},
		{"invalid JSON-LD", `{"@context":{"p":"https://e.example/p"},"@id":5}`, jsonld.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := jsonld.ToRDF([]byte(tc.doc))
			if !errors.Is(err, tc.want) {
				t.Fatalf("ToRDF: got %v (%d quads), want %v", err, len(q), tc.want)
			}
		})
	}
	// The same documents with the terms defined are fine.
	for _, doc := range []string{
		`{` + v1 + `,"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:2"}}`,
		`{"@context":{"p":"https://e.example/p"},"@id":"urn:x","p":{"@value":"x","@language":"en-US"}}`,
		`{"@context":{"@vocab":"https://e.example/"},"@id":"urn:x","p":{"@value":{"b":1,"a":[true,null]},"@type":"@json"},"n":[1,2.5,1e21,-0,true],"l":{"@list":[]}}`,
	} {
		if _, err := jsonld.ToRDF([]byte(doc)); err != nil {
			t.Errorf("ToRDF(%s): %v", doc, err)
		}
	}
}

// TestUnknownContextNoNetwork: a context URL outside the pinned set fails
// with ErrUnknownContext, and nothing is fetched.
func TestUnknownContextNoNetwork(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/ld+json")
		w.Write([]byte(`{"@context":{"@vocab":"https://evil.example/"}}`))
	}))
	defer srv.Close()
	for _, doc := range []string{
		`{"@context":["https://www.w3.org/ns/credentials/v2","` + srv.URL + `/ctx.jsonld"],"id":"urn:x","type":"VerifiableCredential","name":"x"}`,
		`{"@context":{"@import":"` + srv.URL + `/ctx.jsonld"},"@id":"urn:x"}`,
		`{"@context":"https://www.w3.org/2018/credentials/v99","@id":"urn:x"}`,
	} {
		_, err := jsonld.ToRDF([]byte(doc))
		if !errors.Is(err, jsonld.ErrUnknownContext) {
			t.Errorf("ToRDF(%s): got %v, want ErrUnknownContext", doc, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the context server was hit %d times", n)
	}
}

// TestControlCharacterEscaped: control characters in a string value come
// out as RDFC-1.0 escapes.
func TestControlCharacterEscaped(t *testing.T) {
	doc := `{"@context":"https://www.w3.org/ns/credentials/v2","id":"urn:x","type":"VerifiableCredential","name":"a\u0001b\u007f\n\"\\"}`
	got, err := jsonld.Canonicalize([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := `<urn:x> <https://schema.org/name> "a\u0001b\u007F\n\"\\" .` + "\n"
	if !strings.Contains(string(got), want) {
		t.Fatalf("canonical\n%s\nwant a line\n%s", got, want)
	}
	// It round-trips through the strict N-Quads parser.
	if _, err := rdfc.ParseNQuads(got); err != nil {
		t.Fatal(err)
	}
}

// TestDecodedInput: a decoded map gives the same dataset as the bytes.
func TestDecodedInput(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal(read(t, "w3c/unsigned.json"), &m); err != nil {
		t.Fatal(err)
	}
	got, err := jsonld.Canonicalize(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := read(t, "w3c/canonDocDataInt.txt"); !bytes.Equal(got, want) {
		t.Fatalf("canonical document from map\n%s", got)
	}
	if m["@context"] == nil || m["credentialSubject"] == nil {
		t.Fatal("input map modified")
	}
}

func FuzzToRDF(f *testing.F) {
	f.Add(read(f, "w3c/unsigned.json"))
	f.Add(read(f, "dcc/v2OBv3SpecExample.json"))
	f.Add(read(f, "dcc/safeModeBreaker.json"))
	f.Add([]byte(`{"@context":{"@vocab":"https://e.example/"},"@id":"urn:x","p":{"@list":[{"@list":[1]},{"@value":{"a":1},"@type":"@json"}]},"q":{"@id":"_:b"},"@graph":[{"@id":"_:b","r":2.5}]}`))
	f.Add([]byte(`{"@context":{"p":{"@id":"https://e.example/p","@reverse":true}},"@id":"urn:x","p":{"@id":"urn:y"}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		quads, err := jsonld.ToRDF(doc)
		if err != nil {
			return
		}
		// What ToRDF returns canonicalizes or fails with an error.
		rdfc.Canonicalize(quads, rdfc.Options{})
	})
}

// TestConcurrent canonicalizes documents sharing cached contexts from many
// goroutines (run with -race): the results are those of one goroutine.
func TestConcurrent(t *testing.T) {
	docs := [][]byte{read(t, "w3c/unsigned.json"), read(t, "dcc/v2OBv3SpecExample.json"), read(t, "w3c/proofConfigDataInt.json")}
	want := make([][]byte, len(docs))
	for i, d := range docs {
		var err error
		if want[i], err = jsonld.Canonicalize(d); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for n := range 20 {
				i := (g + n) % len(docs)
				got, err := jsonld.Canonicalize(docs[i])
				if err == nil && !bytes.Equal(got, want[i]) {
					err = errors.New("different canonical form")
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestImportLeavesPinnedContext: json-gold merges a context that @imports
// a pinned one into the imported context; that must not reach the pinned
// context that later documents get.
func TestImportLeavesPinnedContext(t *testing.T) {
	doc := []byte(`{"@context":"https://www.w3.org/ns/credentials/v2","id":"urn:x","type":"VerifiableCredential","name":"x"}`)
	want, err := jsonld.Canonicalize(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, evil := range []string{
		`{"@context":{"@import":"https://www.w3.org/ns/credentials/v2","name":{"@id":"https://evil.example/name"}},"id":"urn:x"}`,
		`{"@context":{"@import":"https://www.w3.org/ns/credentials/v2","secret":"https://evil.example/secret"},"id":"urn:x","secret":"x"}`,
	} {
		jsonld.Canonicalize([]byte(evil))
	}
	// Not the cached active context: the same context, processed again.
	for _, d := range [][]byte{doc, []byte(`{"@context":["https://www.w3.org/ns/credentials/v2",{}],"id":"urn:x","type":"VerifiableCredential","name":"x"}`)} {
		got, err := jsonld.Canonicalize(d)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("after @import: %s, %v; want %s", got, err, want)
		}
	}
	secret := []byte(`{"@context":["https://www.w3.org/ns/credentials/v2",{}],"id":"urn:x","type":"VerifiableCredential","secret":"x"}`)
	if _, err := jsonld.ToRDF(secret); !errors.Is(err, jsonld.ErrSafeMode) {
		t.Fatalf("a term an @import defined leaked into the pinned context: %v", err)
	}
}
