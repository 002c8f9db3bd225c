package jsonld

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/piprate/json-gold/ld"
)

// This file is the fast path of expansion: the JSON-LD 1.1 Expansion and
// Context Processing algorithms, step for step as json-gold v0.9.1 does
// them, for the features the pinned contexts and ordinary credentials use
// (@protected, @vocab, keyword aliases, compact IRIs, type- and
// property-scoped contexts, @container @set/@list/@graph, @type
// @id/@vocab/@json). Its active contexts are immutable, so the context that
// a scoped context makes from a pinned active context is processed once and
// memoised; json-gold copies the whole active context for every node and
// processes every scoped context again, which was most of the cost of
// verifying a credential.
//
// Anything else, and any error, makes expandFast return errFallback, and
// expand hands the document to json-gold, which stays the reference: errors
// are always json-gold's, and a document is only ever expanded here as
// json-gold would expand it (expand_test.go compares the two).

// errFallback means the fast path declined a document; json-gold decides.
var errFallback = errors.New("jsonld: not on the fast path")

func fallback(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errFallback}, args...)...)
}

// termDef is a term definition (JSON-LD 1.1 API §4.1), as json-gold's
// ld.TermDefinition for the supported keys.
type termDef struct {
	id         string
	typ        string // @type mapping
	container  string // "", "@set", "@list" or "@graph"
	context    any    // scoped context, when hasContext
	hasContext bool
	prefix     bool
	protected  bool
	// pinned: defined by a pinned context document, so context is one of
	// its values and never changes.
	pinned bool
}

// equal is json-gold's DeepCompareTermDef, stricter where it compares
// contexts ignoring list order, so that a redefinition it refuses is never
// accepted here.
func (td *termDef) equal(o *termDef) bool {
	return td.id == o.id && td.typ == o.typ && td.container == o.container &&
		td.hasContext == o.hasContext && td.protected == o.protected &&
		reflect.DeepEqual(td.context, o.context)
}

// activeCtx is an active context. It is never changed once made, so
// expansions of any number of documents share it.
type activeCtx struct {
	terms    map[string]*termDef // a nil *termDef is a term defined as null
	vocab    string
	hasVocab bool
	// previous is the active context before a non-propagated (type-scoped)
	// context, which nodes below revert to.
	previous *activeCtx
	// shared: made only from pinned contexts, so what a pinned scoped
	// context makes from it is memoised.
	shared bool
}

type memoKey struct {
	parent     *activeCtx
	td         *termDef
	typeScoped bool
}

// memo maps a shared active context and a pinned term's scoped context to
// the active context they make. The pinned contexts give a few dozen; a
// document nesting property-scoped contexts deeply makes one per level, so
// the memo is emptied when it grows past maxMemoised, bounding the memory a
// document can hold, and refills with what later documents use.
var memo struct {
	m sync.Map // memoKey → *activeCtx
	n atomic.Int64
}

const maxMemoised = 1024

// scoped returns the active context that td's scoped context makes from
// c: type-scoped ones do not propagate, property-scoped ones may redefine
// protected terms.
func (c *activeCtx) scoped(td *termDef, typeScoped bool) (*activeCtx, error) {
	shared := c.shared && td.pinned
	key := memoKey{c, td, typeScoped}
	if shared {
		if r, ok := memo.m.Load(key); ok {
			return r.(*activeCtx), nil
		}
	}
	r, err := c.parse(td.context, !typeScoped, !typeScoped, td.pinned)
	if err != nil || !shared || r == c {
		return r, err
	}
	r.shared = true
	if got, loaded := memo.m.LoadOrStore(key, r); loaded {
		return got.(*activeCtx), nil
	}
	if memo.n.Add(1) > maxMemoised {
		memo.m.Clear()
		memo.n.Store(0)
	}
	return r, nil
}

// revert is json-gold's RevertToPreviousContext without the copy.
func (c *activeCtx) revert() *activeCtx {
	if c.previous != nil {
		return c.previous
	}
	return c
}

func (c *activeCtx) container(term string) string {
	if td := c.terms[term]; td != nil {
		return td.container
	}
	return ""
}

func (c *activeCtx) clone() *activeCtx {
	return &activeCtx{terms: copyTerms(c.terms), vocab: c.vocab, hasVocab: c.hasVocab, previous: c.previous}
}

func copyTerms(m map[string]*termDef) map[string]*termDef {
	r := make(map[string]*termDef, len(m)+8)
	for k, v := range m {
		r[k] = v
	}
	return r
}

// pinnedContext returns the @context of a pinned document, shared with
// the loader and never changed.
func pinnedContext(url string) (map[string]any, error) {
	rd, err := pinned.load(url)
	if err != nil {
		return nil, err
	}
	doc, _ := rd.(map[string]any)
	m, ok := doc["@context"].(map[string]any)
	if !ok {
		return nil, fallback("pinned context %s is not an object", url)
	}
	return m, nil
}

// parse is the Context Processing algorithm (json-gold's Context.parse
// with no base IRI, processing mode json-ld-1.1). pinned says that local
// is a value of a pinned context document.
func (c *activeCtx) parse(local any, propagate, overrideProtected, pinned bool) (*activeCtx, error) {
	contexts := ld.Arrayify(local)
	if len(contexts) == 0 {
		return c, nil
	}
	result := c.clone()
	if !propagate && result.previous == nil {
		result.previous = c
	}
	for i, lc := range contexts {
		var m map[string]any
		pinnedDoc := pinned
		switch lc := lc.(type) {
		case string:
			// json-gold takes a URL twice in one array for a recursive
			// inclusion.
			if slices.Contains(contexts[:i], any(lc)) {
				return nil, fallback("context %s twice", lc)
			}
			var err error
			if m, err = pinnedContext(lc); err != nil {
				return nil, fallback("context %s: %v", lc, err)
			}
			pinnedDoc = true
		case map[string]any:
			m = lc
		default:
			return nil, fallback("context of type %T", lc)
		}
		if err := result.processMap(m, pinnedDoc, overrideProtected); err != nil {
			return nil, err
		}
	}
	return result, nil
}

// processMap processes one context object into c, which is being made.
func (c *activeCtx) processMap(m map[string]any, pinnedDoc, overrideProtected bool) error {
	for k := range m {
		switch k {
		case "@context", "@propagate", "@import", "@base", "@language", "@direction":
			return fallback("context has %s", k)
		}
	}
	if v, ok := m["@version"]; ok && v != 1.1 {
		return fallback("@version %v", v)
	}
	if v, ok := m["@vocab"]; ok {
		switch v := v.(type) {
		case nil:
			c.vocab, c.hasVocab = "", false
		case string:
			vocab, err := c.expandIRI(v, true, true, nil)
			if err != nil {
				return err
			}
			c.vocab, c.hasVocab = vocab, true
		default:
			return fallback("@vocab %v", v)
		}
	}
	d := &definer{c: c, local: m, defined: map[string]bool{}, pinned: pinnedDoc, overrideProtected: overrideProtected}
	if v, ok := m["@protected"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return fallback("@protected %v", v)
		}
		d.defined["@protected"] = b
	}
	for term := range m {
		switch term {
		case "@version", "@vocab", "@protected":
			continue
		}
		if err := d.define(term); err != nil {
			return err
		}
	}
	return nil
}

// definer is the state of Create Term Definition over one local context.
type definer struct {
	c                 *activeCtx
	local             map[string]any
	defined           map[string]bool
	pinned            bool
	overrideProtected bool
}

var termKeys = map[string]bool{"@id": true, "@type": true, "@container": true, "@context": true, "@protected": true}

// define is json-gold's createTermDefinition.
func (d *definer) define(term string) error {
	if done, ok := d.defined[term]; ok {
		if done {
			return nil
		}
		return fallback("cyclic IRI mapping %q", term)
	}
	if strings.HasPrefix(term, "@") {
		return fallback("term %q", term)
	}
	d.defined[term] = false
	value := d.local[term]
	m, isMap := value.(map[string]any)
	if id, hasID := m["@id"]; value == nil || isMap && hasID && id == nil {
		d.c.terms[term] = nil
		d.defined[term] = true
		return nil
	}
	simple := false
	if s, ok := value.(string); ok {
		m, isMap, simple = map[string]any{"@id": s}, true, true
	}
	if !isMap {
		return fallback("term %q defined as %T", term, value)
	}
	for k := range m {
		if !termKeys[k] {
			return fallback("term %q has %s", term, k)
		}
	}
	prev := d.c.terms[term]
	delete(d.c.terms, term)
	colon := strings.IndexByte(term, ':')
	def := &termDef{pinned: d.pinned}

	if idv, ok := m["@id"]; ok {
		id, isString := idv.(string)
		if !isString {
			return fallback("@id of %q", term)
		}
		if term != id {
			if !ld.IsKeyword(id) && isReservedKeyword(id) {
				return fallback("term %q maps to %q", term, id)
			}
			res, err := d.c.expandIRI(id, false, true, d)
			if err != nil {
				return err
			}
			if !ld.IsKeyword(res) && !ld.IsAbsoluteIri(res) {
				return fallback("term %q maps to %q", term, res)
			}
			if res == "@context" {
				return fallback("alias of @context")
			}
			def.id = res
			if iriLike(term) {
				d.defined[term] = true
				termIRI, err := d.c.expandIRI(term, false, true, d)
				if err != nil {
					return err
				}
				if termIRI != res {
					return fallback("term %q expands to %s, not %s", term, termIRI, res)
				}
				delete(d.defined, term)
			}
			suffix := false
			if res != "" {
				switch res[len(res)-1] {
				case ':', '/', '?', '#', '[', ']', '@':
					suffix = true
				}
			}
			def.prefix = colon <= 0 && suffix && simple
		}
	}
	if def.id == "" {
		switch {
		case colon > 0:
			prefix := term[:colon]
			if _, ok := d.local[prefix]; ok {
				if err := d.define(prefix); err != nil {
					return err
				}
			}
			if ptd, ok := d.c.terms[prefix]; ok {
				if ptd == nil {
					return fallback("prefix %q defined as null", prefix)
				}
				def.id = ptd.id + term[colon+1:]
			} else {
				def.id = term
			}
		case d.c.hasVocab:
			def.id = d.c.vocab + term
		default:
			return fallback("relative term definition %q without vocab mapping", term)
		}
	}
	if v, ok := m["@protected"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return fallback("@protected of %q", term)
		}
		def.protected = b
	} else {
		def.protected = d.defined["@protected"]
	}
	d.defined[term] = true

	if v, ok := m["@type"]; ok {
		t, isString := v.(string)
		if !isString {
			return fallback("@type of %q", term)
		}
		switch t {
		case "@id", "@vocab", "@json", "@none":
		default:
			var err error
			if t, err = d.c.expandIRI(t, false, true, d); err != nil {
				return err
			}
			if !ld.IsAbsoluteIri(t) || strings.HasPrefix(t, "_:") {
				return fallback("@type of %q is %q", term, t)
			}
		}
		def.typ = t
	}
	if v, ok := m["@container"]; ok {
		switch v {
		case "@set", "@list", "@graph":
			def.container = v.(string)
		default:
			return fallback("@container %v of %q", v, term)
		}
	}
	if v, ok := m["@context"]; ok {
		if v == nil {
			return fallback("null scoped context of %q", term)
		}
		def.context, def.hasContext = v, true
	}
	if def.id == "@context" || def.id == "@preserve" {
		return fallback("alias of %s", def.id)
	}
	if prev != nil && prev.protected && !d.overrideProtected {
		def.protected = true
		if !prev.equal(def) {
			return fallback("redefinition of protected term %q", term)
		}
	}
	d.c.terms[term] = def
	return nil
}

// isReservedKeyword is json-gold's ignoredKeywordPattern, ^@[a-zA-Z]+$.
func isReservedKeyword(s string) bool {
	if len(s) < 2 || s[0] != '@' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// iriLike is json-gold's iriLikeTermPattern, (?::[^:])|/.
func iriLike(s string) bool {
	if strings.IndexByte(s, '/') >= 0 {
		return true
	}
	for i := 0; i+1 < len(s); i++ {
		if s[i] == ':' && s[i+1] != ':' {
			return true
		}
	}
	return false
}

// expandIRI is IRI Expansion (json-gold's Context.ExpandIri); d is the
// local context being processed, or nil. With no base IRI, a relative IRI
// stays as it is; checkExpanded refuses it.
func (c *activeCtx) expandIRI(value string, relative, vocab bool, d *definer) (string, error) {
	if ld.IsKeyword(value) {
		return value, nil
	}
	if isReservedKeyword(value) {
		return "", nil
	}
	var local map[string]any
	if d != nil {
		// json-gold defines the terms an IRI refers to without overriding
		// protected terms, even in a property-scoped context.
		nd := *d
		nd.overrideProtected = false
		d, local = &nd, d.local
	}
	if local != nil {
		if _, ok := local[value]; ok && !d.defined[value] {
			if err := d.define(value); err != nil {
				return "", err
			}
		}
	}
	if td, ok := c.terms[value]; vocab && ok {
		if td == nil {
			return "", nil
		}
		return td.id, nil
	}
	if colon := strings.IndexByte(value, ':'); colon > 0 {
		prefix, suffix := value[:colon], value[colon+1:]
		if prefix == "_" || strings.HasPrefix(suffix, "//") {
			return value, nil
		}
		if local != nil {
			if _, ok := local[prefix]; ok && !d.defined[prefix] {
				if err := d.define(prefix); err != nil {
					return "", err
				}
			}
		}
		td, ok := c.terms[prefix]
		if ok && td == nil {
			return "", fallback("prefix %q defined as null", prefix)
		}
		if ok && td.id != "" && td.prefix {
			return td.id + suffix, nil
		}
		if ld.IsAbsoluteIri(value) {
			return value, nil
		}
	}
	switch {
	case vocab && c.hasVocab:
		return c.vocab + value, nil
	case relative:
		return value, nil
	case local != nil && ld.IsRelativeIri(value):
		return "", fallback("not an absolute IRI: %s", value)
	}
	return value, nil
}

// expandValue is Value Expansion (json-gold's Context.ExpandValue); no
// context here sets a language or direction.
func (c *activeCtx) expandValue(property string, value any) (any, error) {
	td := c.terms[property]
	if td != nil && (td.typ == "@id" || td.typ == "@vocab") {
		s, ok := value.(string)
		if !ok {
			return map[string]any{"@value": value}, nil
		}
		id, err := c.expandIRI(s, true, td.typ == "@vocab", nil)
		if err != nil {
			return nil, err
		}
		return map[string]any{"@id": id}, nil
	}
	r := map[string]any{"@value": value}
	if td != nil && td.typ != "" && td.typ != "@none" {
		r["@type"] = td.typ
	}
	return r, nil
}

// topContexts caches the active context of a top-level @context that names
// only pinned contexts, keyed by its JSON, like activeContexts for json-gold.
var topContexts struct {
	sync.Mutex
	m map[string]*activeCtx
}

var emptyCtx = &activeCtx{terms: map[string]*termDef{}, shared: true}

func topContext(local any) (*activeCtx, error) {
	for _, c := range ld.Arrayify(local) {
		if _, ok := c.(string); !ok {
			return emptyCtx.parse(local, true, false, false)
		}
	}
	b, err := json.Marshal(local)
	if err != nil {
		return nil, fallback("@context: %v", err)
	}
	key := string(b)
	topContexts.Lock()
	ac, ok := topContexts.m[key]
	topContexts.Unlock()
	if ok {
		return ac, nil
	}
	if ac, err = emptyCtx.parse(local, true, false, false); err != nil {
		return nil, err
	}
	if ac != emptyCtx {
		ac.shared = true // made from pinned contexts only
	}
	topContexts.Lock()
	defer topContexts.Unlock()
	if topContexts.m == nil {
		topContexts.m = make(map[string]*activeCtx)
	}
	if len(topContexts.m) < maxActiveContexts {
		topContexts.m[key] = ac
	}
	return ac, nil
}

// expandFast is the Expansion algorithm from a document's top level, or
// errFallback.
func expandFast(input any) ([]any, error) {
	ac := emptyCtx
	if m, ok := input.(map[string]any); ok {
		if local, ok := m["@context"]; ok {
			var err error
			if ac, err = topContext(local); err != nil {
				return nil, err
			}
			rest := make(map[string]any, len(m))
			for k, v := range m {
				if k != "@context" {
					rest[k] = v
				}
			}
			input = rest
		}
	}
	out, err := expandElement(ac, "", input, nil)
	if err != nil {
		return nil, err
	}
	return expansionResult(out), nil
}

// expandElement is json-gold's JsonLdApi.expandElement, not inside an
// index map and not framing.
func expandElement(ac *activeCtx, property string, element any, typeScoped *activeCtx) (any, error) {
	switch elem := element.(type) {
	case nil:
		return nil, nil
	case []any:
		list := property == "@list" || ac.container(property) == "@list"
		result := make([]any, 0, len(elem))
		for _, item := range elem {
			v, err := expandElement(ac, property, item, typeScoped)
			if err != nil {
				return nil, err
			}
			if vl, isList := v.([]any); isList {
				if list {
					result = append(result, map[string]any{"@list": vl})
				} else {
					result = append(result, vl...)
				}
			} else if v != nil {
				result = append(result, v)
			}
		}
		return result, nil
	case map[string]any:
		return expandMap(ac, property, elem, typeScoped)
	default:
		if property == "" || property == "@graph" {
			return nil, nil
		}
		return ac.expandValue(property, element)
	}
}

func expandMap(ac *activeCtx, property string, elem map[string]any, typeScoped *activeCtx) (any, error) {
	expandedProperty, err := ac.expandIRI(property, false, true, nil)
	if err != nil {
		return nil, err
	}
	propertyTD := ac.terms[property]
	if typeScoped == nil && ac.previous != nil {
		typeScoped = ac
	}
	keys := sortedKeys(elem)
	if _, ok := elem["@context"]; ok {
		return nil, fallback("embedded @context")
	}
	mustRevert := true
	if typeScoped != nil && len(keys) <= 2 {
		for _, k := range keys {
			ek, err := typeScoped.expandIRI(k, false, true, nil)
			if err != nil {
				return nil, err
			}
			if ek == "@value" {
				mustRevert = false
				ac = typeScoped
				break
			}
			if ek == "@id" && len(keys) == 1 {
				mustRevert = false
				break
			}
		}
	}
	if mustRevert {
		ac = ac.revert()
	}
	if propertyTD != nil && propertyTD.hasContext {
		if ac, err = ac.scoped(propertyTD, false); err != nil {
			return nil, err
		}
	}
	typeScoped = ac
	typeKey := ""
	for _, k := range keys {
		ek, err := ac.expandIRI(k, false, true, nil)
		if err != nil {
			return nil, err
		}
		if ek != "@type" {
			continue
		}
		var types []string
		switch v := elem[k].(type) {
		case []any:
			for _, t := range v {
				s, ok := t.(string)
				if !ok {
					return nil, fallback("@type value %v", t)
				}
				types = append(types, s)
			}
			slices.Sort(types)
		case string:
			types = []string{v}
		default:
			return nil, fallback("@type value %v", v)
		}
		for _, t := range types {
			if td := typeScoped.terms[t]; td != nil && td.hasContext {
				if ac, err = ac.scoped(td, true); err != nil {
					return nil, err
				}
			}
		}
		typeKey = k
	}
	result := map[string]any{}
	if err := expandObject(ac, property, expandedProperty, elem, keys, result, typeKey, typeScoped); err != nil {
		return nil, err
	}
	return finishNode(property, result)
}

// finishNode is the end of expandElement for a map: value, set and list
// object checks (steps 8 to 13).
func finishNode(property string, result map[string]any) (any, error) {
	if rval, hasValue := result["@value"]; hasValue {
		for k := range result {
			switch k {
			case "@value", "@index", "@language", "@type", "@direction":
			default:
				return nil, fallback("value object has %s", k)
			}
		}
		_, hasLanguage := result["@language"]
		_, hasDirection := result["@direction"]
		typeValue, hasType := result["@type"]
		if (hasLanguage || hasDirection) && hasType {
			return nil, fallback("value object with @type and @language")
		}
		if rval == nil && typeValue != "@json" {
			return nil, nil
		}
		if hasLanguage {
			for _, v := range ld.Arrayify(rval) {
				if _, isString := v.(string); !isString && !isEmptyMap(v) {
					return nil, fallback("language-tagged %T", v)
				}
			}
		} else if hasType {
			types := ld.Arrayify(typeValue)
			if !(len(types) == 1 && types[0] == "@json") {
				for _, t := range types {
					s, isString := t.(string)
					if !isEmptyMap(t) && !(isString && ld.IsAbsoluteIri(s) && !strings.HasPrefix(s, "_:")) {
						return nil, fallback("value @type %v", t)
					}
				}
			}
		}
	} else if t, hasType := result["@type"]; hasType {
		if _, isList := t.([]any); !isList {
			result["@type"] = []any{t}
		}
	} else {
		set, hasSet := result["@set"]
		_, hasList := result["@list"]
		if hasSet || hasList {
			maxSize := 1
			if _, hasIndex := result["@index"]; hasIndex {
				maxSize = 2
			}
			if len(result) > maxSize {
				return nil, fallback("@set or @list with other keys")
			}
			if hasSet {
				return set, nil
			}
		}
	}
	if _, hasLanguage := result["@language"]; hasLanguage && len(result) == 1 {
		return nil, nil
	}
	if property == "" || property == "@graph" {
		_, hasValue := result["@value"]
		_, hasList := result["@list"]
		_, hasID := result["@id"]
		if len(result) == 0 || hasValue || hasList || hasID && len(result) == 1 {
			return nil, nil
		}
	}
	return result, nil
}

func isEmptyMap(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

// expandObject is json-gold's JsonLdApi.expandObject (step 7).
func expandObject(ac *activeCtx, property, expandedProperty string, elem map[string]any, keys []string, result map[string]any, typeKey string, typeScoped *activeCtx) error {
	// json-gold reads elem[typeKey] even when no key expands to @type.
	var inputType any
	if t := elem[typeKey]; t != nil {
		if l, isList := t.([]any); isList {
			t = nil
			if len(l) > 0 {
				t = l[len(l)-1]
			}
		}
		switch s := t.(type) {
		case nil:
		case string:
			e, err := ac.expandIRI(s, false, true, nil)
			if err != nil {
				return err
			}
			inputType = e
		default:
			return fallback("@type value %v", t)
		}
	}
	for _, key := range keys {
		value := elem[key]
		ep, err := ac.expandIRI(key, false, true, nil)
		if err != nil {
			return err
		}
		if ep == "" || !strings.Contains(ep, ":") && !ld.IsKeyword(ep) {
			return fallback("property %q is not an absolute IRI or keyword", key)
		}
		if ld.IsKeyword(ep) {
			if expandedProperty == "@reverse" {
				return fallback("keyword in @reverse")
			}
			if _, ok := result[ep]; ok && ep != "@type" {
				return fallback("colliding keyword %s", ep)
			}
			var ev any
			switch ep {
			case "@id":
				s, ok := value.(string)
				if !ok {
					return fallback("@id value %v", value)
				}
				if ev, err = ac.expandIRI(s, true, false, nil); err != nil {
					return err
				}
			case "@type":
				switch v := value.(type) {
				case []any:
					l := make([]any, 0, len(v))
					for _, t := range v {
						s, ok := t.(string)
						if !ok {
							return fallback("@type value %v", t)
						}
						e, err := typeScoped.expandIRI(s, true, true, nil)
						if err != nil {
							return err
						}
						l = append(l, e)
					}
					ev = l
				case string:
					e, err := typeScoped.expandIRI(v, true, true, nil)
					if err != nil {
						return err
					}
					ev = e
					if prev, ok := result["@type"]; ok {
						ev = append(ld.Arrayify(prev), e)
					}
				default:
					return fallback("@type value %v", v)
				}
			case "@graph":
				g, err := expandElement(ac, "@graph", value, nil)
				if err != nil {
					return err
				}
				ev = ld.Arrayify(g)
			case "@value":
				if inputType != "@json" {
					switch value.(type) {
					case map[string]any, []any:
						return fallback("@value %T", value)
					}
				}
				if value == nil {
					result["@value"] = nil
					continue
				}
				ev = value
			case "@language":
				s, ok := value.(string)
				if !ok {
					return fallback("@language %v", value)
				}
				ev = strings.ToLower(s)
			case "@index":
				if _, ok := value.(string); !ok {
					return fallback("@index %v", value)
				}
				ev = value
			case "@list":
				if property == "" || property == "@graph" {
					continue
				}
				l, err := expandElement(ac, property, value, nil)
				if err != nil {
					return err
				}
				ev = ld.Arrayify(l)
			case "@set":
				if ev, err = expandElement(ac, property, value, nil); err != nil {
					return err
				}
			default:
				return fallback("keyword %s", ep)
			}
			if ev != nil {
				result[ep] = ev
			}
			continue
		}

		termCtx := ac
		td := ac.terms[key]
		if td != nil && td.hasContext {
			if termCtx, err = ac.scoped(td, false); err != nil {
				return err
			}
		}
		var ev any
		if td != nil && td.typ == "@json" {
			ev = map[string]any{"@type": "@json", "@value": value}
		} else if ev, err = expandElement(termCtx, key, value, nil); err != nil {
			return err
		}
		if ev == nil {
			continue
		}
		switch termCtx.container(key) {
		case "@list":
			if m, isMap := ev.(map[string]any); !isMap || !hasKey(m, "@list") {
				if l, isList := ev.([]any); isList {
					ev = map[string]any{"@list": l}
				} else {
					ev = map[string]any{"@list": []any{ev}}
				}
			}
		case "@graph":
			evs := ld.Arrayify(ev)
			l := make([]any, 0, len(evs))
			for _, e := range evs {
				l = append(l, map[string]any{"@graph": ld.Arrayify(e)})
			}
			ev = l
		}
		prev, _ := result[ep].([]any)
		if l, isList := ev.([]any); isList {
			prev = append(prev, l...)
		} else {
			prev = append(prev, ev)
		}
		if prev == nil {
			prev = []any{}
		}
		result[ep] = prev
	}
	return nil
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
