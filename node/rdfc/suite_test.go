package rdfc

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const suiteDir = "testdata/rdf-canon"

type manifestEntry struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	Name          string `json:"name"`
	Approval      string `json:"approval"`
	HashAlgorithm string `json:"hashAlgorithm"`
	Action        string `json:"action"`
	Result        string `json:"result"`
}

func loadManifest(t *testing.T) []manifestEntry {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(suiteDir, "manifest.jsonld"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Entries []manifestEntry `json:"entries"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Entries) == 0 {
		t.Fatal("manifest has no entries")
	}
	return m.Entries
}

func suiteOptions(t *testing.T, e manifestEntry) Options {
	t.Helper()
	switch e.HashAlgorithm {
	case "", "SHA256":
		return Options{}
	case "SHA384":
		return Options{Hash: SHA384}
	}
	t.Fatalf("unknown hashAlgorithm %q", e.HashAlgorithm)
	return Options{}
}

func readSuiteFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(suiteDir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestW3CSuite runs every entry of the official RDFC-1.0 manifest: eval
// tests compare the canonical N-Quads byte for byte, map tests the issued
// identifiers map, and negative tests must fail with ErrWorkLimit.
func TestW3CSuite(t *testing.T) {
	counts := map[string]int{}
	for _, e := range loadManifest(t) {
		name := strings.TrimPrefix(e.ID, "#")
		t.Run(name, func(t *testing.T) {
			quads, err := ParseNQuads(readSuiteFile(t, e.Action))
			if err != nil {
				t.Fatalf("parse %s: %v", e.Action, err)
			}
			res, err := Canonicalize(quads, suiteOptions(t, e))
			switch e.Type {
			case "rdfc:RDFC10EvalTest":
				if err != nil {
					t.Fatalf("Canonicalize: %v", err)
				}
				want := readSuiteFile(t, e.Result)
				if !bytes.Equal(res.NQuads, want) {
					t.Errorf("%s (%s):\ngot:\n%s\nwant:\n%s", name, e.Name, res.NQuads, want)
				}
			case "rdfc:RDFC10MapTest":
				if err != nil {
					t.Fatalf("Canonicalize: %v", err)
				}
				var want map[string]string
				if err := json.Unmarshal(readSuiteFile(t, e.Result), &want); err != nil {
					t.Fatal(err)
				}
				if !maps.Equal(res.IssuedIdentifiers, want) {
					t.Errorf("%s (%s): issued identifiers\ngot:  %v\nwant: %v", name, e.Name, res.IssuedIdentifiers, want)
				}
			case "rdfc:RDFC10NegativeEvalTest":
				if !errors.Is(err, ErrWorkLimit) {
					t.Errorf("%s (%s): got error %v, want ErrWorkLimit", name, e.Name, err)
				}
			default:
				t.Fatalf("unknown test type %q", e.Type)
			}
		})
		counts[e.Type]++
	}
	t.Logf("manifest entries by type: %v", counts)
}
