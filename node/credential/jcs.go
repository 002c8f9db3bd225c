package credential

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gowebpki/jcs"

	"github.com/credanchor/credanchor/node/internal/jsonlex"
)

// This file is an RFC 8785 (JCS) canonicaliser. It accepts exactly what
// encoding/json's Valid and gowebpki/jcs's Transform both accept, and writes
// the same bytes as Transform, which the tests check against its vectors and
// by fuzzing against it. It exists because Transform builds a string per
// token and a tree of them, and the node canonicalises every credential it
// verifies, digests or checks a proof of: here the input is parsed once
// into a flat, pooled list of spans, and text that is already canonical
// (most strings, keys and integers) is copied as it is.

// maxDepth bounds the nesting of arrays and objects, as encoding/json and
// gowebpki/jcs do.
const maxDepth = 10000

// Kinds of jnode.
const (
	kindObject = iota
	kindArray
	kindString
	kindNumber
	kindLiteral
	kindMember
)

// jnode is one parsed value, or one member of an object.
type jnode struct {
	kind uint8
	// clean: a string or key whose input text is its canonical text.
	clean bool
	// start, end is the input text of a scalar or of a member's key,
	// quotes included.
	start, end int
	// first is a container's first child; next the next child of the
	// same container; value a member's value. -1 for none.
	first, next, value int32
	// key is a member's key as decoded, for sorting.
	key []byte
}

// parser parses one JSON text into nodes.
type parser struct {
	in      []byte
	pos     int
	nodes   []jnode
	members []int32 // scratch for sorting an object's members
}

var parsers = sync.Pool{New: func() any { return new(parser) }}

// errJCS wraps every error of the canonicaliser.
func errJCS(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// appendCanonical appends the JCS form of the JSON text data (one value,
// with optional surrounding whitespace) to dst.
func appendCanonical(dst, data []byte) ([]byte, error) {
	p := parsers.Get().(*parser)
	defer func() {
		*p = parser{nodes: p.nodes[:0], members: p.members[:0]}
		parsers.Put(p)
	}()
	// Valid UTF-8 throughout lets str take every non-ASCII byte as it is:
	// outside strings such bytes are refused anyway.
	if !utf8.Valid(data) {
		return nil, errJCS("invalid UTF-8")
	}
	p.in = data
	p.skipSpace()
	root, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.in) {
		return nil, errJCS("data after the JSON value at byte %d", p.pos)
	}
	return p.write(dst, root)
}

func (p *parser) skipSpace() {
	p.pos = jsonlex.SkipSpace(p.in, p.pos)
}

func (p *parser) add(n jnode) int32 {
	p.nodes = append(p.nodes, n)
	return int32(len(p.nodes) - 1)
}

// value parses the value at p.pos (no leading whitespace).
func (p *parser) value(depth int) (int32, error) {
	if p.pos >= len(p.in) {
		return 0, errJCS("unexpected end of JSON")
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		start := p.pos
		clean, err := p.str()
		if err != nil {
			return 0, err
		}
		return p.add(jnode{kind: kindString, clean: clean, start: start, end: p.pos, first: -1, next: -1, value: -1}), nil
	case c == '-' || c >= '0' && c <= '9':
		start := p.pos
		end, ok := jsonlex.Number(p.in, p.pos)
		if !ok {
			return 0, errJCS("invalid number at byte %d", start)
		}
		p.pos = end
		return p.add(jnode{kind: kindNumber, start: start, end: p.pos, first: -1, next: -1, value: -1}), nil
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(p.in)-p.pos >= len(lit) && string(p.in[p.pos:p.pos+len(lit)]) == lit {
				p.pos += len(lit)
				return p.add(jnode{kind: kindLiteral, start: p.pos - len(lit), end: p.pos, first: -1, next: -1, value: -1}), nil
			}
		}
		return 0, errJCS("unexpected %q at byte %d", rune(c), p.pos)
	}
}

func (p *parser) array(depth int) (int32, error) {
	if depth > maxDepth {
		return 0, errJCS("nesting deeper than %d", maxDepth)
	}
	arr := p.add(jnode{kind: kindArray, first: -1, next: -1, value: -1})
	p.pos++ // '['
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		return arr, nil
	}
	last := int32(-1)
	for {
		v, err := p.value(depth)
		if err != nil {
			return 0, err
		}
		if last < 0 {
			p.nodes[arr].first = v
		} else {
			p.nodes[last].next = v
		}
		last = v
		p.skipSpace()
		if p.pos >= len(p.in) {
			return 0, errJCS("unexpected end of JSON in an array")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case ']':
			p.pos++
			return arr, nil
		default:
			return 0, errJCS("unexpected %q in an array at byte %d", rune(p.in[p.pos]), p.pos)
		}
	}
}

func (p *parser) object(depth int) (int32, error) {
	if depth > maxDepth {
		return 0, errJCS("nesting deeper than %d", maxDepth)
	}
	obj := p.add(jnode{kind: kindObject, first: -1, next: -1, value: -1})
	p.pos++ // '{'
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		return obj, nil
	}
	mark := len(p.members)
	for {
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return 0, errJCS("object key expected at byte %d", p.pos)
		}
		start := p.pos
		clean, err := p.str()
		if err != nil {
			return 0, err
		}
		m := jnode{kind: kindMember, clean: clean, start: start, end: p.pos, first: -1, next: -1}
		if clean {
			m.key = p.in[start+1 : p.pos-1]
		} else {
			m.key = unquote(nil, p.in[start:p.pos])
		}
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return 0, errJCS("':' expected at byte %d", p.pos)
		}
		p.pos++
		p.skipSpace()
		if m.value, err = p.value(depth); err != nil {
			return 0, err
		}
		p.members = append(p.members, p.add(m))
		p.skipSpace()
		if p.pos >= len(p.in) {
			return 0, errJCS("unexpected end of JSON in an object")
		}
		if c := p.in[p.pos]; c == ',' {
			p.pos++
			p.skipSpace()
			continue
		} else if c != '}' {
			return 0, errJCS("unexpected %q in an object at byte %d", rune(c), p.pos)
		}
		p.pos++
		break
	}
	// Sort the members by their keys' UTF-16 code units (RFC 8785 §3.2.3)
	// and link them in that order; equal keys end up side by side.
	members := p.members[mark:]
	slices.SortFunc(members, func(a, b int32) int { return compareKeys(p.nodes[a].key, p.nodes[b].key) })
	for i, m := range members {
		if i > 0 && compareKeys(p.nodes[members[i-1]].key, p.nodes[m].key) == 0 {
			return 0, errJCS("duplicate key %q", p.nodes[m].key)
		}
		if i+1 < len(members) {
			p.nodes[m].next = members[i+1]
		}
	}
	p.nodes[obj].first = members[0]
	p.members = p.members[:mark]
	return obj, nil
}

// str scans the string at p.pos, checking its escapes. It
// reports whether the string has no escapes, in which case its input text
// is already canonical.
func (p *parser) str() (clean bool, err error) {
	p.pos++ // '"'
	clean = true
	for {
		if p.pos = jsonlex.SkipPlain(p.in, p.pos); p.pos >= len(p.in) {
			return false, errJCS("unterminated string")
		}
		switch p.in[p.pos] {
		case '"':
			p.pos++
			return clean, nil
		case '\\':
			clean = false
			if err := p.escape(); err != nil {
				return false, err
			}
		default:
			return false, errJCS("control character in a string at byte %d", p.pos)
		}
	}
}

// escape checks the escape at p.pos: a \u escape of a UTF-16 surrogate must
// be a high one followed by an escaped low one (RFC 8785 §3.2.2.2).
func (p *parser) escape() error {
	if p.pos+1 >= len(p.in) {
		return errJCS("unterminated string")
	}
	if _, ok := jsonlex.Unescape(p.in[p.pos+1]); ok {
		p.pos += 2
		return nil
	}
	if p.in[p.pos+1] != 'u' {
		return errJCS("invalid escape %q", p.in[p.pos:p.pos+2])
	}
	r, ok := jsonlex.UnicodeEscape(p.in, p.pos)
	if !ok {
		return errJCS("invalid \\u escape at byte %d", p.pos)
	}
	p.pos += 6
	if !utf16.IsSurrogate(r) {
		return nil
	}
	if r >= 0xDC00 {
		return errJCS("lone low surrogate \\u%04x", r)
	}
	if lo, ok := jsonlex.UnicodeEscape(p.in, p.pos); !ok || lo < 0xDC00 || lo > 0xDFFF {
		return errJCS("high surrogate \\u%04x without a low one", r)
	}
	p.pos += 6
	return nil
}

// write appends the canonical text of node n.
func (p *parser) write(dst []byte, n int32) ([]byte, error) {
	nd := &p.nodes[n]
	var err error
	switch nd.kind {
	case kindObject:
		dst = append(dst, '{')
		for m := nd.first; m >= 0; m = p.nodes[m].next {
			if m != nd.first {
				dst = append(dst, ',')
			}
			mem := &p.nodes[m]
			if mem.clean {
				dst = append(dst, p.in[mem.start:mem.end]...)
			} else {
				dst = appendString(dst, mem.key)
			}
			dst = append(dst, ':')
			if dst, err = p.write(dst, mem.value); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case kindArray:
		dst = append(dst, '[')
		for e := nd.first; e >= 0; e = p.nodes[e].next {
			if e != nd.first {
				dst = append(dst, ',')
			}
			if dst, err = p.write(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case kindString:
		if nd.clean {
			return append(dst, p.in[nd.start:nd.end]...), nil
		}
		return appendString(dst, unquote(nil, p.in[nd.start:nd.end])), nil
	case kindNumber:
		return appendNumber(dst, p.in[nd.start:nd.end])
	}
	return append(dst, p.in[nd.start:nd.end]...), nil
}

// unquote decodes a string's text (quotes included) that str checked.
func unquote(dst, s []byte) []byte {
	s = s[1 : len(s)-1]
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if b, ok := jsonlex.Unescape(s[i+1]); ok {
			dst = append(dst, b)
			i += 2
			continue
		}
		// \uXXXX, or a surrogate pair of them.
		r, _ := jsonlex.UnicodeEscape(s, i)
		if utf16.IsSurrogate(r) {
			lo, _ := jsonlex.UnicodeEscape(s, i+6)
			r = utf16.DecodeRune(r, lo)
			i += 6
		}
		dst = utf8.AppendRune(dst, r)
		i += 6
	}
	return dst
}

// appendString appends the canonical text of the string s (valid UTF-8):
// only '"', '\\' and control characters are escaped, the common ones by
// their short forms (RFC 8785 §3.2.2.2).
func appendString[T string | []byte](dst []byte, s T) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	done := 0 // s[:done] is written
	for i := 0; i < len(s); i++ {
		c := s[i]
		if jsonlex.IsPlain(c) {
			continue
		}
		dst = append(dst, s[done:i]...)
		done = i + 1
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
	}
	dst = append(dst, s[done:]...)
	return append(dst, '"')
}

// appendNumber appends the canonical text of a number whose text num
// follows the JSON grammar: the ECMAScript form of the nearest IEEE 754
// double (RFC 8785 §3.2.2.3). An integer of at most 15 digits is exactly a
// double and is written as it is, but for -0.
func appendNumber(dst, num []byte) ([]byte, error) {
	digits := num
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) <= 15 && !slices.ContainsFunc(digits, func(c byte) bool { return c < '0' || c > '9' }) {
		if len(digits) == 1 && digits[0] == '0' {
			return append(dst, '0'), nil
		}
		return append(dst, num...), nil
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return nil, errJCS("number out of range")
	}
	return appendFloat(dst, f)
}

func appendFloat(dst []byte, f float64) ([]byte, error) {
	s, err := jcs.NumberToJSON(f)
	if err != nil {
		return nil, errJCS("%v", err)
	}
	return append(dst, s...), nil
}

// compareKeys orders object keys (valid UTF-8) by their UTF-16 code units.
// UTF-8 byte order is code point order, which differs from UTF-16 order
// only where a code point above U+FFFF meets one in U+E000..U+FFFF, so the
// bytes are compared and the first differing characters decide.
func compareKeys[T string | []byte](a, b T) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		return cmp.Compare(len(a), len(b))
	}
	if a[i] < utf8.RuneSelf && b[i] < utf8.RuneSelf {
		return cmp.Compare(a[i], b[i])
	}
	// Both differ inside the same character position of valid UTF-8.
	for i > 0 && !utf8.RuneStart(a[i]) {
		i--
	}
	ra, _ := utf8.DecodeRuneInString(string(a[i:min(i+utf8.UTFMax, len(a))]))
	rb, _ := utf8.DecodeRuneInString(string(b[i:min(i+utf8.UTFMax, len(b))]))
	return cmp.Compare(utf16First(ra), utf16First(rb))
}

// utf16First is the first UTF-16 code unit of r, scaled so that the second
// unit of a pair breaks ties.
func utf16First(r rune) uint32 {
	if r < 0x10000 {
		return uint32(r) << 16
	}
	hi, lo := utf16.EncodeRune(r)
	return uint32(hi)<<16 | uint32(lo)
}

// AppendCanonicalValue appends the JCS (RFC 8785) form of a decoded JSON
// value to dst: maps with string keys, []any, strings (valid UTF-8),
// json.Number, float64, bool and nil, as encoding/json and package vc
// decode them. A verifier that has decoded a document already hashes it
// this way without encoding it to JSON text and parsing that again.
// Other types are encoded with encoding/json first. Errors wrap
// ErrMalformed.
func AppendCanonicalValue(dst []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		if t {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case string:
		if !utf8.ValidString(t) {
			return nil, errJCS("invalid UTF-8 in a string")
		}
		return appendString(dst, t), nil
	case json.Number:
		if end, ok := jsonlex.Number(string(t), 0); !ok || end != len(t) {
			return nil, errJCS("invalid number %q", string(t))
		}
		return appendNumber(dst, []byte(t))
	case float64:
		return appendFloat(dst, t)
	case []any:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = AppendCanonicalValue(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		return appendObject(dst, t, "", false)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return appendCanonical(dst, b)
}

// AppendCanonicalValueWithout is AppendCanonicalValue of obj without its
// member omit. A Data Integrity verifier hashes a secured document without
// its proof, and a proof without its value, so, without copying them.
func AppendCanonicalValueWithout(dst []byte, obj map[string]any, omit string) ([]byte, error) {
	return appendObject(dst, obj, omit, true)
}

// appendObject appends the canonical text of obj, without its member omit
// if omitting.
func appendObject(dst []byte, obj map[string]any, omit string, omitting bool) ([]byte, error) {
	var buf [16]string
	keys := buf[:0]
	for k := range obj {
		if !utf8.ValidString(k) {
			return nil, errJCS("invalid UTF-8 in a key")
		}
		if !omitting || k != omit {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareKeys[string])
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(appendString(dst, k), ':')
		var err error
		if dst, err = AppendCanonicalValue(dst, obj[k]); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}
