package jsonld

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credanchor/credanchor/node/jsonld/contexts"
	"github.com/credanchor/credanchor/node/rdfc"
)

// corpusRoots are the folders whose JSON-LD documents the fast path is
// compared with json-gold on: this repository's test data and the shared
// fixtures.
var corpusRoots = []string{"../..", "/work/shared/fixtures"}

// corpus returns every JSON document with an @context under corpusRoots,
// with, for a document with a proof, the document without it and each proof
// as a proof configuration (with the document's @context): what verifying
// it canonicalises.
func corpus(t testing.TB) map[string]any {
	docs := map[string]any{}
	for _, root := range corpusRoots {
		if _, err := os.Stat(root); err != nil {
			t.Logf("skipping %s: %v", root, err)
			continue
		}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if n := d.Name(); n == "contexts" || n == ".git" || n == "node_modules" || n == "fuzz" {
					return filepath.SkipDir
				}
				return nil
			}
			if ext := filepath.Ext(path); ext != ".json" && ext != ".jsonld" {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil || !strings.Contains(string(b), `"@context"`) {
				return err
			}
			doc, err := decode(b)
			if err != nil {
				return nil
			}
			docs[path] = doc
			m, ok := doc.(map[string]any)
			if !ok || m["proof"] == nil {
				return nil
			}
			unsigned := copyMap(m)
			delete(unsigned, "proof")
			docs[path+"#unsigned"] = unsigned
			for i, p := range asList(m["proof"]) {
				if pm, ok := p.(map[string]any); ok {
					config := copyMap(pm)
					delete(config, "proofValue")
					if config["@context"] == nil {
						config["@context"] = m["@context"]
					}
					docs[fmt.Sprintf("%s#proof%d", path, i)] = config
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return docs
}

// reference is json-gold's expansion, with its panics as errors.
func reference(doc any) (out []any, err error) {
	defer recoverInvalid(&err)
	return expandReference(doc)
}

// nquads is what ToRDF and Canonicalize make of an expansion.
func nquads(expanded []any) (_ string, err error) {
	defer recoverInvalid(&err)
	if err := checkExpanded(expanded); err != nil {
		return "", err
	}
	quads, err := toRDF(expanded)
	if err != nil {
		return "", err
	}
	res, err := rdfc.Canonicalize(quads, rdfc.Options{})
	if err != nil {
		return "", err
	}
	return string(res.NQuads), nil
}

// compareWithReference fails if the fast path expands doc where json-gold
// does not, or into a dataset with other canonical N-Quads. It reports
// whether the fast path took the document.
func compareWithReference(t *testing.T, doc any) bool {
	t.Helper()
	fast, err := expandFast(doc)
	if err != nil {
		if !errors.Is(err, errFallback) {
			t.Fatalf("fast path error not errFallback: %v", err)
		}
		return false
	}
	ref, refErr := reference(doc)
	if refErr != nil {
		t.Fatalf("fast path expanded a document json-gold refuses (%v):\n%s", refErr, dump(fast))
	}
	got, gotErr := nquads(fast)
	want, wantErr := nquads(ref)
	if (gotErr == nil) != (wantErr == nil) || got != want {
		t.Fatalf("fast path N-Quads (error %v)\n%s\njson-gold's (error %v)\n%s", gotErr, got, wantErr, want)
	}
	return true
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

// TestFastPathMatchesReference compares the fast path with json-gold on
// every JSON-LD document of the test data and shared fixtures.
func TestFastPathMatchesReference(t *testing.T) {
	docs := corpus(t)
	if len(docs) < 100 {
		t.Fatalf("only %d documents found", len(docs))
	}
	fast := 0
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			if compareWithReference(t, doc) {
				fast++
			}
		})
	}
	t.Logf("%d of %d documents on the fast path", fast, len(docs))
}

// TestFastPathTakesCredentials: the credentials verified in production,
// and their proof configurations, do not fall back to json-gold.
func TestFastPathTakesCredentials(t *testing.T) {
	for _, name := range []string{"w3c/unsigned.json", "w3c/proofConfigDataInt.json", "dcc/v2OBv3SpecExample.json"} {
		doc, err := decode(mustRead(t, filepath.Join("testdata", name)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := expandFast(doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestFastPathSafeMode: what json-gold refuses in safe mode, the fast path
// leaves to it.
func TestFastPathSafeMode(t *testing.T) {
	const v2 = `"@context":"https://www.w3.org/ns/credentials/v2","id":"urn:x","type":"VerifiableCredential"`
	for _, doc := range []string{
		`{` + v2 + `,"credentialSubject":{"alumniOf":"x"}}`,
		`{` + v2 + `,"secret":"x"}`,
		`{"@context":"https://www.w3.org/ns/credentials/v2","id":"urn:x","type":["VerifiableCredential","Alumnus"]}`,
		`{"@context":"https://www.w3.org/ns/credentials/v2","id":"urn:x","type":"VerifiableCredential","credentialSubject":{"type":"Alumnus"}}`,
		`{"@context":"https://www.w3.org/2018/credentials/v1","id":"urn:x","type":"VerifiableCredential","issuanceDate":"2023-01-01T00:00:00Z","issuer":"did:example:1","credentialSubject":{"alumniOf":"x"}}`,
		`{"name":"x"}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if out, err := expandFast(v); err == nil {
			if err := checkExpanded(out); err == nil {
				t.Errorf("%s: expanded and checked on the fast path", doc)
			}
		}
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzFastPath compares the fast path with json-gold on mutated documents.
func FuzzFastPath(f *testing.F) {
	for _, name := range []string{"w3c/unsigned.json", "w3c/proofConfigDataInt.json", "dcc/v2OBv3SpecExample.json", "dcc/safeModeBreaker.json"} {
		f.Add(mustRead(f, filepath.Join("testdata", name)))
	}
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2",{"p":{"@id":"https://e.example/p","@container":"@list"},"g":{"@id":"https://e.example/g","@container":"@graph"},"j":{"@id":"https://e.example/j","@type":"@json"}}],"id":"urn:x","type":"VerifiableCredential","p":[1,[2]],"g":{"id":"urn:y","name":"n"},"j":{"a":[1]}}`))
	f.Add([]byte(`{"@context":{"@vocab":"https://e.example/","ex":"https://e.example/ns#","T":{"@id":"ex:T","@context":{"q":{"@type":"@id"}}}},"@type":"T","q":"urn:z","r":{"@value":"x","@language":"EN"},"s":{"@list":[{"@set":[1]}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := decode(b)
		if err != nil {
			return
		}
		compareWithReference(t, doc)
	})
}

// FuzzFastPathGenerated compares the fast path with json-gold on documents
// the fuzzer's bytes build out of the pinned contexts' terms, so that type-
// and property-scoped contexts, protected terms, aliases and containers
// meet in combinations no fixture has.
func FuzzFastPathGenerated(f *testing.F) {
	words := pinnedWords(f)
	for _, seed := range []string{"", "\x01\x02\x03\x04\x05\x06\x07\x08", "credentialSubject achievement", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g := &generator{b: b, words: words}
		compareWithReference(t, g.document())
	})
}

// pinnedWords returns every key and string value of the pinned contexts.
func pinnedWords(t testing.TB) []string {
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				seen[k] = true
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case string:
			seen[v] = true
		}
	}
	for _, u := range contexts.URLs() {
		doc, err := pinned.load(u)
		if err != nil {
			t.Fatal(err)
		}
		walk(doc)
	}
	return slices.Sorted(maps.Keys(seen))
}

// generator builds a JSON-LD document from bytes; when they run out it
// chooses the first option.
type generator struct {
	b     []byte
	words []string
}

func (g *generator) n(max int) int {
	if len(g.b) == 0 {
		return 0
	}
	c := int(g.b[0])
	g.b = g.b[1:]
	return c % max
}

func (g *generator) word() string {
	return g.words[(g.n(256)<<8|g.n(256))%len(g.words)]
}

var (
	genKeys = []string{"id", "type", "@id", "@type", "@value", "@list", "@set", "@graph", "@language", "@index",
		"@included", "@reverse", "@nest", "name", "credentialSubject", "proof", "issuer", "https://e.example/p", "ex:p", "undefinedTerm"}
	genIRIs = []string{"urn:uuid:1", "did:example:1", "_:b0", "_:b1", "https://e.example/a", "relative", "ex:T", "@json"}
	// genContexts are inline contexts: scoped contexts, protection,
	// @vocab, prefixes, and a protected term's redefinition.
	genContexts = []string{
		`{"ex":"https://e.example/","T":{"@id":"ex:T","@context":{"p":{"@id":"ex:p","@type":"@id"}}},"q":{"@id":"ex:q","@context":{"r":"ex:r"}}}`,
		`{"@vocab":"https://e.example/v#"}`,
		`{"@protected":true,"name":"https://e.example/name"}`,
		`{"ex":"https://e.example/","l":{"@id":"ex:l","@container":"@list"},"g":{"@id":"ex:g","@container":"@graph"},"j":{"@id":"ex:j","@type":"@json"},"s":{"@id":"ex:s","@container":"@set","@type":"ex:D"}}`,
		`{"@version":1.1,"ex":"https://e.example/","ex:p":{"@type":"@vocab"},"v":{"@id":"ex:v","@type":"@vocab"}}`,
		`{"id":"@id","type":"@type","x":null}`,
	}
)

func (g *generator) document() any {
	urls := contexts.URLs()
	var ctx []any
	for range 1 + g.n(3) {
		ctx = append(ctx, urls[g.n(len(urls))])
	}
	if g.n(3) == 0 {
		var inline any
		json.Unmarshal([]byte(genContexts[g.n(len(genContexts))]), &inline)
		ctx = append(ctx, inline)
	}
	doc := g.node(0)
	doc["@context"] = ctx
	return doc
}

func (g *generator) node(depth int) map[string]any {
	m := map[string]any{}
	for range g.n(6) {
		k := g.word()
		if g.n(2) == 0 {
			k = genKeys[g.n(len(genKeys))]
		}
		switch k {
		case "id", "@id":
			m[k] = genIRIs[g.n(len(genIRIs))]
		case "type", "@type":
			if g.n(2) == 0 {
				m[k] = g.word()
			} else {
				m[k] = []any{g.word(), g.word()}
			}
		default:
			m[k] = g.value(depth + 1)
		}
	}
	return m
}

func (g *generator) value(depth int) any {
	choice := g.n(10)
	if depth > 4 && choice >= 5 {
		choice = 0
	}
	switch choice {
	case 0:
		return g.word()
	case 1:
		return genIRIs[g.n(len(genIRIs))]
	case 2:
		return []any{nil, true, 1.0, -2.5, 1e21, "x", ""}[g.n(7)]
	case 3:
		v := map[string]any{"@value": g.value(5)}
		switch g.n(3) {
		case 1:
			v["@type"] = g.word()
		case 2:
			v["@language"] = []string{"en", "EN-us", "en us"}[g.n(3)]
		}
		return v
	case 4:
		return map[string]any{"@id": genIRIs[g.n(len(genIRIs))]}
	case 5, 6:
		return g.node(depth)
	case 7:
		var l []any
		for range g.n(4) {
			l = append(l, g.value(depth+1))
		}
		return l
	case 8:
		return map[string]any{[]string{"@list", "@set"}[g.n(2)]: []any{g.value(depth + 1), g.value(depth + 1)}}
	default:
		return map[string]any{"@context": map[string]any{"z": "https://e.example/z"}, "z": g.value(depth + 1)}
	}
}
