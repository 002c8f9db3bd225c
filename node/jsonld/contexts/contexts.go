// Package contexts holds the pinned JSON-LD context documents (JSON-LD 1.1,
// https://www.w3.org/TR/json-ld11/) that credanchor processes credentials
// with: VC Data Model 1.1 and 2.0, Data Integrity, Multikey, Bitstring Status
// List, Ed25519Signature2020, Open Badges 3.0 and the VC examples context.
//
// The documents are embedded in the binary. [Load] serves only them: an
// unknown URL is [ErrUnknownContext], never a network fetch, so a credential
// cannot make a verifier fetch, or change the meaning of, its own context.
//
// install.sh installs the files from their npm packages at pinned versions and
// writes manifest.json; the tests check every file against the manifest's
// SHA-256 and against the project's shared fixtures.
package contexts

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
)

//go:embed manifest.json files/*.json files/*.jsonld
var embedded embed.FS

// ErrUnknownContext means a context URL is not in the pinned set.
var ErrUnknownContext = errors.New("contexts: unknown JSON-LD context URL")

// Document is one pinned context document.
type Document struct {
	// URL is the context URL as it appears in a credential's @context.
	URL string
	// JSON is the document, byte for byte as installed.
	JSON []byte
	// Package and Version name the npm package it was installed from;
	// Package is empty for the one context no package ships (examples v2).
	Package, Version string
	// SHA256 is the hex SHA-256 of JSON.
	SHA256 string
}

// manifestEntry is one element of manifest.json's "contexts".
type manifestEntry struct {
	URL     string `json:"url"`
	File    string `json:"file"`
	Package string `json:"package"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// loaded parses the manifest and checks every file's digest once. A failure
// here is a broken build (an edited file or manifest), reported by every call
// rather than by a panic at start-up.
var loaded = sync.OnceValues(func() (map[string]Document, error) {
	raw, err := embedded.ReadFile("manifest.json")
	if err != nil {
		return nil, fmt.Errorf("contexts: %w", err)
	}
	var m struct {
		Contexts []manifestEntry `json:"contexts"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("contexts: manifest.json: %w", err)
	}
	docs := make(map[string]Document, len(m.Contexts))
	for _, e := range m.Contexts {
		b, err := embedded.ReadFile(e.File)
		if err != nil {
			return nil, fmt.Errorf("contexts: %s: %w", e.URL, err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != e.SHA256 {
			return nil, fmt.Errorf("contexts: %s: sha256 %s, manifest says %s", e.File, got, e.SHA256)
		}
		if _, dup := docs[e.URL]; dup {
			return nil, fmt.Errorf("contexts: %s listed twice in manifest.json", e.URL)
		}
		docs[e.URL] = Document{URL: e.URL, JSON: b, Package: e.Package, Version: e.Version, SHA256: e.SHA256}
	}
	return docs, nil
})

// Get returns the pinned document of a context URL. The URL must match
// exactly (no normalisation: a different spelling is a different URL to a
// JSON-LD processor too). An unknown URL wraps [ErrUnknownContext]. The
// returned JSON is the caller's to modify.
func Get(url string) (Document, error) {
	docs, err := loaded()
	if err != nil {
		return Document{}, err
	}
	d, ok := docs[url]
	if !ok {
		return Document{}, fmt.Errorf("%w: %q", ErrUnknownContext, url)
	}
	d.JSON = bytes.Clone(d.JSON)
	return d, nil
}

// Load returns the JSON of a pinned context document; see [Get].
func Load(url string) ([]byte, error) {
	d, err := Get(url)
	if err != nil {
		return nil, err
	}
	return d.JSON, nil
}

// URLs returns the pinned context URLs, sorted. It returns nil if the
// embedded set is broken, which [Load] reports as an error.
func URLs() []string {
	docs, err := loaded()
	if err != nil {
		return nil
	}
	urls := make([]string, 0, len(docs))
	for u := range docs {
		urls = append(urls, u)
	}
	slices.Sort(urls)
	return urls
}
