package jsonld

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/piprate/json-gold/ld"

	"github.com/credanchor/credanchor/node/jsonld/contexts"
	"github.com/credanchor/credanchor/node/rdfc"
)

// Errors returned by this package, wrapped with detail; check them with
// errors.Is. Errors of package rdfc (rdfc.ErrWorkLimit) pass through.
var (
	// ErrSafeMode reports a document that a JSON-LD processor would only
	// partly turn into RDF: a term no context defines, or an IRI (of a
	// property, @type, @id or datatype) that is not absolute.
	ErrSafeMode = errors.New("jsonld: safe mode: document has undefined terms or relative IRIs")

	// ErrUnknownContext is contexts.ErrUnknownContext: a context URL that
	// is not pinned. It is never fetched.
	ErrUnknownContext = contexts.ErrUnknownContext

	// ErrInvalid reports input that is not JSON or not valid JSON-LD.
	ErrInvalid = errors.New("jsonld: invalid JSON-LD document")
)

// loader serves the pinned contexts, parsed once. It never uses the network.
type loader struct {
	cache sync.Map // url → decoded document, never changed
}

// load returns the decoded pinned document at url, which callers must not
// change.
func (l *loader) load(url string) (any, error) {
	if doc, ok := l.cache.Load(url); ok {
		return doc, nil
	}
	raw, err := contexts.Load(url)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("jsonld: pinned context %s: %w", url, err)
	}
	doc, _ = l.cache.LoadOrStore(url, doc)
	return doc, nil
}

// LoadDocument gives json-gold a copy of the document's top level and of
// its @context object: json-gold merges a context that @imports another
// into the imported @context object in place, which would otherwise add a
// document's terms to the pinned context every later document gets.
func (l *loader) LoadDocument(url string) (*ld.RemoteDocument, error) {
	doc, err := l.load(url)
	if err != nil {
		return nil, err
	}
	if m, ok := doc.(map[string]any); ok {
		top := make(map[string]any, len(m))
		for k, v := range m {
			if c, isMap := v.(map[string]any); isMap && k == "@context" {
				v = copyMap(c)
			}
			top[k] = v
		}
		doc = top
	}
	return &ld.RemoteDocument{DocumentURL: url, Document: doc}, nil
}

func copyMap(m map[string]any) map[string]any {
	r := make(map[string]any, len(m))
	for k, v := range m {
		r[k] = v
	}
	return r
}

var pinned = new(loader)

func options() *ld.JsonLdOptions {
	o := ld.NewJsonLdOptions("")
	o.DocumentLoader = pinned
	o.ProcessingMode = ld.JsonLd_1_1
	o.SafeMode = true
	return o
}

// Expand returns the JSON-LD expanded form of doc (see [ToRDF] for what doc
// may be), in safe mode: an undefined term or relative IRI is [ErrSafeMode].
func Expand(doc any) (expanded []any, err error) {
	input, err := decode(doc)
	if err != nil {
		return nil, err
	}
	defer recoverInvalid(&err)
	expanded, err = expand(input)
	if err != nil {
		return nil, classify(err)
	}
	if err := checkExpanded(expanded); err != nil {
		return nil, err
	}
	return expanded, nil
}

// ToRDF returns the RDF dataset of a JSON-LD document: doc is the JSON
// ([]byte or json.RawMessage), or a decoded JSON value (map[string]any or
// []any, which is not modified). Contexts are only the pinned ones.
func ToRDF(doc any) (quads []rdfc.Quad, err error) {
	expanded, err := Expand(doc)
	if err != nil {
		return nil, err
	}
	defer recoverInvalid(&err)
	return toRDF(expanded)
}

// recoverInvalid turns a panic of json-gold, which asserts the types of
// hostile input in places instead of checking them, into ErrInvalid. json-gold
// holds no locks and starts no goroutines, so nothing is left inconsistent.
func recoverInvalid(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: JSON-LD processor failed: %v", ErrInvalid, r)
	}
}

// Canonicalize returns the RDFC-1.0 canonical N-Quads of a JSON-LD
// document (see [ToRDF]), with rdfc's default work limits.
func Canonicalize(doc any) ([]byte, error) {
	quads, err := ToRDF(doc)
	if err != nil {
		return nil, err
	}
	res, err := rdfc.Canonicalize(quads, rdfc.Options{})
	if err != nil {
		return nil, err
	}
	return res.NQuads, nil
}

// activeContexts caches the active context made by processing a top-level
// @context that names only pinned contexts, keyed by its JSON: processing
// the contexts is most of the cost of expanding a credential. json-gold
// copies a context before changing it and only compaction writes to one in
// place, so expansions share the cached contexts safely.
var activeContexts struct {
	sync.Mutex
	m map[string]*ld.Context
}

// maxActiveContexts bounds the cache, whose keys a document chooses.
const maxActiveContexts = 256

func activeContext(local any, opts *ld.JsonLdOptions) (*ld.Context, error) {
	for _, c := range asList(local) {
		if _, ok := c.(string); !ok {
			return nil, nil // inline contexts are processed each time
		}
	}
	b, err := json.Marshal(local)
	if err != nil {
		return nil, nil
	}
	key := string(b)
	activeContexts.Lock()
	ac, ok := activeContexts.m[key]
	activeContexts.Unlock()
	if ok {
		return ac, nil
	}
	ac, err = ld.NewContext(nil, opts).Parse(local)
	if err != nil {
		return nil, err
	}
	activeContexts.Lock()
	defer activeContexts.Unlock()
	if activeContexts.m == nil {
		activeContexts.m = make(map[string]*ld.Context)
	}
	if len(activeContexts.m) < maxActiveContexts {
		activeContexts.m[key] = ac
	}
	return ac, nil
}

// sharedOptions are the options cached contexts are made with; json-gold
// keeps a pointer to them, so they are never changed.
var sharedOptions = options()

// expand expands input on the fast path (expand.go) when it can, and with
// json-gold, the reference, otherwise.
func expand(input any) ([]any, error) {
	if out, err := expandFast(input); err == nil {
		return out, nil
	}
	return expandReference(input)
}

// expandReference is json-gold's JsonLdProcessor.Expand, starting from a
// cached active context when the document's top-level @context allows.
func expandReference(input any) ([]any, error) {
	m, ok := input.(map[string]any)
	local, hasContext := m["@context"]
	if !ok || !hasContext {
		return ld.NewJsonLdProcessor().Expand(input, options())
	}
	ac, err := activeContext(local, sharedOptions)
	if err != nil {
		return nil, err
	}
	if ac == nil {
		return ld.NewJsonLdProcessor().Expand(input, options())
	}
	rest := make(map[string]any, len(m))
	for k, v := range m {
		if k != "@context" {
			rest[k] = v
		}
	}
	opts := options()
	out, err := ld.NewJsonLdApi().Expand(ac, "", rest, opts, false, nil)
	if err != nil {
		return nil, err
	}
	return expansionResult(out), nil
}

// expansionResult is the end of the JSON-LD 1.1 expansion algorithm, as
// json-gold does it: an empty object is nothing, a lone @graph is its
// contents, and the result is always an array.
func expansionResult(out any) []any {
	if om, isMap := out.(map[string]any); isMap {
		if len(om) == 0 {
			out = nil
		} else if g, ok := om["@graph"]; ok && len(om) == 1 {
			out = g
		}
	}
	switch o := out.(type) {
	case nil:
		return []any{}
	case []any:
		return o
	}
	return []any{out}
}

func decode(doc any) (any, error) {
	var raw []byte
	switch d := doc.(type) {
	case []byte:
		raw = d
	case json.RawMessage:
		raw = d
	case map[string]any, []any:
		return d, nil
	default:
		return nil, fmt.Errorf("%w: unsupported input type %T", ErrInvalid, doc)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrInvalid)
	}
	switch v.(type) {
	case map[string]any, []any:
		return v, nil
	}
	return nil, fmt.Errorf("%w: not a JSON object or array", ErrInvalid)
}

// classify maps json-gold's errors to this package's sentinels, keeping
// the cause.
func classify(err error) error {
	if errors.Is(err, ErrUnknownContext) {
		return err
	}
	var je *ld.JsonLdError
	if errors.As(err, &je) {
		switch je.Code {
		case ld.InvalidProperty:
			return fmt.Errorf("%w: %v", ErrSafeMode, err)
		}
	}
	return fmt.Errorf("%w: %w", ErrInvalid, err)
}
