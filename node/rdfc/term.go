package rdfc

import (
	"fmt"
	"unicode/utf8"
)

// Well-known datatype IRIs.
const (
	// XSDString is the datatype of a simple literal. Canonical N-Quads
	// never writes it, so this package stores it as an empty Datatype.
	XSDString = "http://www.w3.org/2001/XMLSchema#string"
	// RDFLangString is the datatype of every language-tagged literal.
	RDFLangString = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
)

// Kind tells what a Term is.
type Kind uint8

// Term kinds. The zero Kind is no term at all: a Quad whose Graph has it is
// in the default graph.
const (
	KindNone Kind = iota
	KindIRI
	KindBlankNode
	KindLiteral
)

func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindIRI:
		return "IRI"
	case KindBlankNode:
		return "blank node"
	case KindLiteral:
		return "literal"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Term is an RDF term: an IRI, a blank node or a literal. Term is comparable,
// so equal terms compare equal with ==, provided they were made by the
// constructors or the parser, which keep one spelling of each literal.
type Term struct {
	Kind Kind
	// Value is the IRI, the blank node label without "_:", or the
	// literal's lexical form, unescaped.
	Value string
	// Datatype is a literal's datatype IRI; empty means xsd:string, or
	// rdf:langString when Language is set.
	Datatype string
	// Language is a language-tagged literal's tag, as written.
	Language string
}

// IRI returns the IRI term v.
func IRI(v string) Term { return Term{Kind: KindIRI, Value: v} }

// BlankNode returns the blank node labelled label (without "_:").
func BlankNode(label string) Term { return Term{Kind: KindBlankNode, Value: label} }

// Literal returns the literal with lexical form lex and datatype IRI
// datatype; an empty datatype or XSDString makes a simple literal.
func Literal(lex, datatype string) Term {
	if datatype == XSDString {
		datatype = ""
	}
	return Term{Kind: KindLiteral, Value: lex, Datatype: datatype}
}

// LangLiteral returns the literal with lexical form lex and language tag lang.
func LangLiteral(lex, lang string) Term {
	return Term{Kind: KindLiteral, Value: lex, Language: lang}
}

// DefaultGraph is the Graph of a quad in the default graph.
var DefaultGraph = Term{}

// Quad is an RDF quad. Graph is DefaultGraph (KindNone) for the default graph.
type Quad struct {
	Subject, Predicate, Object, Graph Term
}

// String returns the term in canonical N-Quads form.
func (t Term) String() string { return string(t.AppendTo(nil)) }

// AppendTo appends the term in canonical N-Quads form (RDFC-1.0 Appendix A)
// to dst. A KindNone term appends nothing.
func (t Term) AppendTo(dst []byte) []byte {
	switch t.Kind {
	case KindIRI:
		return appendIRI(dst, t.Value)
	case KindBlankNode:
		dst = append(dst, '_', ':')
		return append(dst, t.Value...)
	case KindLiteral:
		return appendLiteral(dst, &t)
	}
	return dst
}

// String returns the quad as one canonical N-Quads line, newline included.
func (q Quad) String() string { return string(q.AppendTo(nil)) }

// AppendTo appends the quad as one canonical N-Quads line, blank nodes under
// their own labels, newline included.
func (q Quad) AppendTo(dst []byte) []byte {
	dst = q.Subject.AppendTo(dst)
	dst = append(dst, ' ')
	dst = q.Predicate.AppendTo(dst)
	dst = append(dst, ' ')
	dst = q.Object.AppendTo(dst)
	if q.Graph.Kind != KindNone {
		dst = append(dst, ' ')
		dst = q.Graph.AppendTo(dst)
	}
	return append(dst, ' ', '.', '\n')
}

// FormatNQuads serializes quads in the order given, one canonical line each.
// It neither sorts nor relabels: Canonicalize does both.
func FormatNQuads(quads []Quad) []byte {
	n := 0
	for i := range quads {
		n += quadLenHint(&quads[i])
	}
	dst := make([]byte, 0, n)
	for i := range quads {
		dst = quads[i].AppendTo(dst)
	}
	return dst
}

// quadLenHint estimates a quad's serialized length so buffers are sized once.
func quadLenHint(q *Quad) int {
	return len(q.Subject.Value) + len(q.Predicate.Value) + len(q.Object.Value) +
		len(q.Object.Datatype) + len(q.Object.Language) + len(q.Graph.Value) + 20
}

// Validate reports, as ErrInvalidQuad, whether q is not an RDF quad: the
// subject must be an IRI or blank node, the predicate an IRI, the graph
// absent, an IRI or a blank node; all text must be UTF-8, blank node labels
// and IRIs non-empty, and language tags of the N-Quads LANGTAG form.
func (q Quad) Validate() error {
	_, err := validateQuad(&q)
	return err
}

// Bits of the escape mask validateQuad returns: the subject, predicate,
// object and graph whose canonical form needs an escape. Terms without one,
// nearly all of them, are then copied without a second scan.
const (
	escSubject = 1 << iota
	escPredicate
	escObject
	escGraph
)

func validateQuad(q *Quad) (esc uint8, err error) {
	var e bool
	if e, err = validateTerm(&q.Subject, "subject", kindIRI|kindBlank); err != nil {
		return 0, err
	} else if e {
		esc |= escSubject
	}
	if e, err = validateTerm(&q.Predicate, "predicate", kindIRI); err != nil {
		return 0, err
	} else if e {
		esc |= escPredicate
	}
	if e, err = validateTerm(&q.Object, "object", kindIRI|kindBlank|kindLiteral); err != nil {
		return 0, err
	} else if e {
		esc |= escObject
	}
	if q.Graph.Kind == KindNone {
		if q.Graph != (Term{}) {
			return 0, fmt.Errorf("%w: graph: default graph term has a value", ErrInvalidQuad)
		}
		return esc, nil
	}
	if e, err = validateTerm(&q.Graph, "graph", kindIRI|kindBlank); err != nil {
		return 0, err
	} else if e {
		esc |= escGraph
	}
	return esc, nil
}

const (
	kindIRI = 1 << iota
	kindBlank
	kindLiteral
)

// Byte classes for scan: clsEsc marks a byte the context escapes (or may:
// 0xEF leads U+FFFE and U+FFFF), clsHigh a byte that is not ASCII.
const (
	clsEsc  = 1
	clsHigh = 2
)

var (
	iriClass = byteClasses(&iriEsc)
	litClass = byteClasses(&litEsc)
)

func byteClasses(esc *[256]byte) (t [256]uint8) {
	for c := range 256 {
		if esc[c] != 0 {
			t[c] |= clsEsc
		}
		if c >= utf8.RuneSelf {
			t[c] |= clsHigh
		}
	}
	return t
}

// scan ORs the classes of the bytes of s: one branch-free pass that tells
// both whether s must be checked as UTF-8 and whether it needs escaping.
func scan(s string, class *[256]uint8) uint8 {
	// Eight independent lookups a round keep the loads in flight; this
	// loop is the one pass over every byte of the dataset.
	var c0, c1, c2, c3 uint8
	for len(s) >= 8 {
		c0 |= class[s[0]] | class[s[4]]
		c1 |= class[s[1]] | class[s[5]]
		c2 |= class[s[2]] | class[s[6]]
		c3 |= class[s[3]] | class[s[7]]
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		c0 |= class[s[i]]
	}
	return c0 | c1 | c2 | c3
}

// validText reports whether s is valid UTF-8 and, for the class table
// given, whether it needs escaping.
func validText(s string, class *[256]uint8) (ok, esc bool) {
	c := scan(s, class)
	if c&clsHigh != 0 && !utf8.ValidString(s) {
		return false, false
	}
	return true, c&clsEsc != 0
}

// validateTerm checks t for position pos and reports whether its canonical
// form needs an escape.
func validateTerm(t *Term, pos string, allowed int) (esc bool, err error) {
	var bit int
	switch t.Kind {
	case KindIRI:
		bit = kindIRI
	case KindBlankNode:
		bit = kindBlank
	case KindLiteral:
		bit = kindLiteral
	}
	if bit&allowed == 0 {
		return false, fmt.Errorf("%w: %s is a %v", ErrInvalidQuad, pos, t.Kind)
	}
	var ok bool
	switch t.Kind {
	case KindIRI, KindBlankNode:
		if t.Value == "" {
			return false, fmt.Errorf("%w: %s: empty %v", ErrInvalidQuad, pos, t.Kind)
		}
		if t.Datatype != "" || t.Language != "" {
			return false, fmt.Errorf("%w: %s: %v with a datatype or language", ErrInvalidQuad, pos, t.Kind)
		}
		if ok, esc = validText(t.Value, &iriClass); !ok {
			return false, fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidQuad, pos)
		}
		// Blank node labels are never written: no escape needed.
		return esc && t.Kind == KindIRI, nil
	}
	if ok, esc = validText(t.Value, &litClass); !ok {
		return false, fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidQuad, pos)
	}
	if t.Language != "" {
		// The tag is written as is, so a malformed one could forge
		// the rest of a canonical line; only LANGTAG is accepted.
		if !validLangTag(t.Language) {
			return false, fmt.Errorf("%w: %s: malformed language tag %q", ErrInvalidQuad, pos, t.Language)
		}
		if t.Datatype != "" && t.Datatype != RDFLangString {
			return false, fmt.Errorf("%w: %s: language-tagged literal with datatype %q", ErrInvalidQuad, pos, t.Datatype)
		}
		return esc, nil
	}
	dtOK, dtEsc := validText(t.Datatype, &iriClass)
	if !dtOK {
		return false, fmt.Errorf("%w: %s: datatype is not valid UTF-8", ErrInvalidQuad, pos)
	}
	return esc || dtEsc, nil
}

// appendTermFast appends t in canonical form when validation found that
// it needs no escape: the text is copied as is.
func appendTermFast(dst []byte, t *Term) []byte {
	switch t.Kind {
	case KindIRI:
		dst = append(dst, '<')
		dst = append(dst, t.Value...)
		return append(dst, '>')
	case KindLiteral:
		dst = append(dst, '"')
		dst = append(dst, t.Value...)
		dst = append(dst, '"')
		switch {
		case t.Language != "":
			dst = append(dst, '@')
			dst = append(dst, t.Language...)
		case t.Datatype != "" && t.Datatype != XSDString:
			dst = append(dst, '^', '^', '<')
			dst = append(dst, t.Datatype...)
			dst = append(dst, '>')
		}
		return dst
	}
	return t.AppendTo(dst)
}

// validLangTag reports whether s matches [a-zA-Z]+ ('-' [a-zA-Z0-9]+)*.
func validLangTag(s string) bool {
	n := lenLangTag(s)
	return n > 0 && n == len(s)
}

// lenLangTag returns the length of the longest LANGTAG body at the start of
// s, or 0 if there is none.
func lenLangTag(s string) int {
	i := 0
	for i < len(s) && isAlpha(s[i]) {
		i++
	}
	if i == 0 {
		return 0
	}
	for i < len(s) && s[i] == '-' {
		j := i + 1
		for j < len(s) && (isAlpha(s[j]) || isDigit(s[j])) {
			j++
		}
		if j == i+1 {
			break
		}
		i = j
	}
	return i
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Escaping tables for canonical N-Quads (RDFC-1.0 Appendix A). A non-zero
// entry marks a byte that cannot be copied as is.
var (
	// litEsc marks, inside STRING_LITERAL_QUOTE, the bytes written as ECHAR
	// or UCHAR, plus 0xEF, the lead byte of U+FFFE and U+FFFF: those two
	// do not match the XML 1.1 Char production, so they too need UCHAR.
	litEsc = func() (t [256]byte) {
		for c := range 0x20 {
			t[c] = 'u'
		}
		t[0x7F] = 'u'
		t['\b'], t['\t'], t['\n'], t['\f'], t['\r'] = 'b', 't', 'n', 'f', 'r'
		t['"'], t['\\'] = '"', '\\'
		t[0xEF] = 'x'
		return t
	}()
	// iriEsc marks the bytes IRIREF cannot hold unescaped; their only
	// representation is UCHAR.
	iriEsc = func() (t [256]byte) {
		for c := range 0x21 {
			t[c] = 'u'
		}
		for _, c := range []byte(`<>"{}|^` + "`\\") {
			t[c] = 'u'
		}
		return t
	}()
)

const hexUpper = "0123456789ABCDEF"

func appendUCHAR4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u',
		hexUpper[r>>12&0xF], hexUpper[r>>8&0xF], hexUpper[r>>4&0xF], hexUpper[r&0xF])
}

func appendIRI(dst []byte, v string) []byte {
	dst = append(dst, '<')
	start := 0
	for i := 0; i < len(v); i++ {
		if iriEsc[v[i]] != 0 {
			dst = append(dst, v[start:i]...)
			dst = appendUCHAR4(dst, rune(v[i]))
			start = i + 1
		}
	}
	dst = append(dst, v[start:]...)
	return append(dst, '>')
}

func appendLiteral(dst []byte, t *Term) []byte {
	dst = append(dst, '"')
	dst = appendLexical(dst, t.Value)
	dst = append(dst, '"')
	switch {
	case t.Language != "":
		dst = append(dst, '@')
		dst = append(dst, t.Language...)
	case t.Datatype != "" && t.Datatype != XSDString:
		dst = append(dst, '^', '^')
		dst = appendIRI(dst, t.Datatype)
	}
	return dst
}

// appendLexical escapes a literal's lexical form. Most literals need no
// escape, so runs of plain bytes are copied whole.
func appendLexical(dst []byte, v string) []byte {
	start := 0
	for i := 0; i < len(v); i++ {
		e := litEsc[v[i]]
		if e == 0 {
			continue
		}
		if e == 'x' {
			// U+FFFE is EF BF BE and U+FFFF is EF BF BF.
			if i+2 < len(v) && v[i+1] == 0xBF && (v[i+2] == 0xBE || v[i+2] == 0xBF) {
				dst = append(dst, v[start:i]...)
				dst = appendUCHAR4(dst, 0xFFC0|rune(v[i+2]&0x3F))
				i += 2
				start = i + 1
			}
			continue
		}
		dst = append(dst, v[start:i]...)
		if e == 'u' {
			dst = appendUCHAR4(dst, rune(v[i]))
		} else {
			dst = append(dst, '\\', e)
		}
		start = i + 1
	}
	return append(dst, v[start:]...)
}
