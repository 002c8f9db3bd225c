package jsonld

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gowebpki/jcs"
	"github.com/piprate/json-gold/ld"

	"github.com/credanchor/credanchor/node/rdfc"
)

const (
	rdfType      = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
	rdfFirst     = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
	rdfRest      = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
	rdfNil       = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
	rdfLangStr   = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
	rdfJSON      = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
	xsdBoolean   = "http://www.w3.org/2001/XMLSchema#boolean"
	xsdDouble    = "http://www.w3.org/2001/XMLSchema#double"
	xsdInteger   = "http://www.w3.org/2001/XMLSchema#integer"
	xsdString    = "http://www.w3.org/2001/XMLSchema#string"
	defaultGraph = "@default"
)

// checkExpanded walks an expanded document and refuses what deserialising
// it to RDF would drop without a word (JSON-LD 1.1 API §8.1): IRIs that are
// not absolute, blank node properties, malformed language tags, and
// @direction, which has no RDF form unless rdfDirection is set.
func checkExpanded(v any) error {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if err := checkExpanded(e); err != nil {
				return err
			}
		}
	case map[string]any:
		if _, ok := v["@value"]; ok {
			return checkValue(v)
		}
		if l, ok := v["@list"]; ok {
			return checkExpanded(l)
		}
		for k, val := range v {
			switch k {
			case "@id":
				if s, ok := val.(string); ok && !isNodeID(s) {
					return fmt.Errorf("%w: @id %q is not an absolute IRI", ErrSafeMode, s)
				}
			case "@type":
				for _, t := range asList(val) {
					if s, ok := t.(string); !ok || !isNodeID(s) {
						return fmt.Errorf("%w: @type %v is not an absolute IRI (an undefined term?)", ErrSafeMode, t)
					}
				}
			case "@graph", "@included":
				if err := checkExpanded(val); err != nil {
					return err
				}
			case "@reverse":
				m, _ := val.(map[string]any)
				for p, rv := range m {
					if !isAbsoluteIRI(p) {
						return fmt.Errorf("%w: reverse property %q is not an absolute IRI", ErrSafeMode, p)
					}
					if err := checkExpanded(rv); err != nil {
						return err
					}
				}
			case "@index":
			default:
				if strings.HasPrefix(k, "@") {
					continue
				}
				if !isAbsoluteIRI(k) {
					return fmt.Errorf("%w: property %q is not an absolute IRI (an undefined term?)", ErrSafeMode, k)
				}
				if err := checkExpanded(val); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

var langTag = regexp.MustCompile(`^[a-zA-Z]+(-[a-zA-Z0-9]+)*$`)

func checkValue(v map[string]any) error {
	if t, ok := v["@type"]; ok {
		s, _ := t.(string)
		if s != "@json" && !isAbsoluteIRI(s) {
			return fmt.Errorf("%w: value @type %v is not an absolute IRI", ErrSafeMode, t)
		}
	}
	if l, ok := v["@language"]; ok {
		s, _ := l.(string)
		if !langTag.MatchString(s) {
			return fmt.Errorf("%w: malformed @language %q", ErrSafeMode, s)
		}
	}
	if _, ok := v["@direction"]; ok {
		return fmt.Errorf("%w: @direction has no RDF form here", ErrSafeMode)
	}
	return nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func isNodeID(s string) bool { return strings.HasPrefix(s, "_:") || isAbsoluteIRI(s) }

// isAbsoluteIRI reports whether s starts with an RFC 3987 scheme and a colon.
func isAbsoluteIRI(s string) bool {
	i := strings.IndexByte(s, ':')
	if i < 1 {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		switch {
		case c|0x20 >= 'a' && c|0x20 <= 'z':
		case j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s[:i] != "_"
}

// toRDF deserialises a checked expanded document (JSON-LD 1.1 API §8.1,
// rdfDirection unset, no generalized RDF).
func toRDF(expanded []any) ([]rdfc.Quad, error) {
	issuer := ld.NewIdentifierIssuer("_:b")
	nodeMap := map[string]any{defaultGraph: map[string]any{}}
	if _, err := ld.NewJsonLdApi().GenerateNodeMap(expanded, nodeMap, defaultGraph, issuer, "", "", nil); err != nil {
		return nil, classify(err)
	}
	c := &converter{issuer: issuer}
	for _, name := range sortedKeys(nodeMap) {
		graph := rdfc.DefaultGraph
		if name != defaultGraph {
			g, err := nodeTerm(name)
			if err != nil {
				return nil, err
			}
			graph = g
		}
		nodes, _ := nodeMap[name].(map[string]any)
		for _, id := range sortedKeys(nodes) {
			node, _ := nodes[id].(map[string]any)
			subject, err := nodeTerm(id)
			if err != nil {
				return nil, err
			}
			for _, prop := range sortedKeys(node) {
				if prop == "@type" {
					for _, t := range asList(node[prop]) {
						s, _ := t.(string)
						obj, err := nodeTerm(s)
						if err != nil {
							return nil, err
						}
						c.quads = append(c.quads, rdfc.Quad{Subject: subject, Predicate: rdfc.IRI(rdfType), Object: obj, Graph: graph})
					}
					continue
				}
				if strings.HasPrefix(prop, "@") {
					continue
				}
				if !isAbsoluteIRI(prop) {
					return nil, fmt.Errorf("%w: property %q is not an absolute IRI", ErrSafeMode, prop)
				}
				for _, item := range asList(node[prop]) {
					obj, err := c.object(item, graph)
					if err != nil {
						return nil, err
					}
					c.quads = append(c.quads, rdfc.Quad{Subject: subject, Predicate: rdfc.IRI(prop), Object: obj, Graph: graph})
				}
			}
		}
	}
	return c.quads, nil
}

// sortedKeys returns m's keys in order; it is on the hot path of every
// expansion, so it allocates once.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func nodeTerm(id string) (rdfc.Term, error) {
	if label, ok := strings.CutPrefix(id, "_:"); ok {
		return rdfc.BlankNode(label), nil
	}
	if !isAbsoluteIRI(id) {
		return rdfc.Term{}, fmt.Errorf("%w: %q is not an absolute IRI", ErrSafeMode, id)
	}
	return rdfc.IRI(id), nil
}

type converter struct {
	issuer *ld.IdentifierIssuer
	quads  []rdfc.Quad
}

// object is the Object to RDF Conversion of JSON-LD 1.1 API §8.1.3, with
// List Conversion (§8.1.4) appending the list's quads.
func (c *converter) object(item any, graph rdfc.Term) (rdfc.Term, error) {
	m, ok := item.(map[string]any)
	if !ok {
		return rdfc.Term{}, fmt.Errorf("%w: unexpected %T in node map", ErrInvalid, item)
	}
	if _, ok := m["@value"]; ok {
		return literal(m)
	}
	if l, ok := m["@list"]; ok {
		return c.list(asList(l), graph)
	}
	id, _ := m["@id"].(string)
	return nodeTerm(id)
}

func (c *converter) list(items []any, graph rdfc.Term) (rdfc.Term, error) {
	if len(items) == 0 {
		return rdfc.IRI(rdfNil), nil
	}
	head := rdfc.BlankNode(strings.TrimPrefix(c.issuer.GetId(""), "_:"))
	subject := head
	for i, item := range items {
		obj, err := c.object(item, graph)
		if err != nil {
			return rdfc.Term{}, err
		}
		next := rdfc.IRI(rdfNil)
		if i < len(items)-1 {
			next = rdfc.BlankNode(strings.TrimPrefix(c.issuer.GetId(""), "_:"))
		}
		c.quads = append(c.quads,
			rdfc.Quad{Subject: subject, Predicate: rdfc.IRI(rdfFirst), Object: obj, Graph: graph},
			rdfc.Quad{Subject: subject, Predicate: rdfc.IRI(rdfRest), Object: next, Graph: graph})
		subject = next
	}
	return head, nil
}

func literal(m map[string]any) (rdfc.Term, error) {
	value := m["@value"]
	datatype, _ := m["@type"].(string)
	if datatype == "@json" {
		b, err := json.Marshal(value)
		if err != nil {
			return rdfc.Term{}, fmt.Errorf("%w: @json value: %v", ErrInvalid, err)
		}
		canon, err := jcs.Transform(b)
		if err != nil {
			return rdfc.Term{}, fmt.Errorf("%w: @json value: %v", ErrInvalid, err)
		}
		return rdfc.Literal(string(canon), rdfJSON), nil
	}
	if n, ok := value.(json.Number); ok {
		f, err := n.Float64()
		if err != nil {
			return rdfc.Term{}, fmt.Errorf("%w: number %s", ErrInvalid, n)
		}
		value = f
	}
	switch v := value.(type) {
	case bool:
		return rdfc.Literal(strconv.FormatBool(v), or(datatype, xsdBoolean)), nil
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return rdfc.Term{}, fmt.Errorf("%w: number %v", ErrInvalid, v)
		}
		if v == 0 {
			v = 0 // no "-0"
		}
		if v == math.Trunc(v) && math.Abs(v) < 1e21 && datatype != xsdDouble {
			return rdfc.Literal(strconv.FormatFloat(v, 'f', -1, 64), or(datatype, xsdInteger)), nil
		}
		return rdfc.Literal(ld.GetCanonicalDouble(v), or(datatype, xsdDouble)), nil
	case string:
		if lang, ok := m["@language"].(string); ok {
			if datatype != "" && datatype != rdfLangStr {
				return rdfc.Term{}, fmt.Errorf("%w: a literal with both @type and @language", ErrInvalid)
			}
			return rdfc.LangLiteral(v, lang), nil
		}
		return rdfc.Literal(v, or(datatype, xsdString)), nil
	}
	return rdfc.Term{}, fmt.Errorf("%w: @value of type %T", ErrInvalid, value)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
