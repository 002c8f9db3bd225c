package rdfc

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultMaxLineBytes is the longest N-Quads line ParseNQuads accepts. It is
// generous because credentials may carry images as data: IRIs.
const DefaultMaxLineBytes = 1 << 20

// ParseOptions bounds ParseNQuadsOptions.
type ParseOptions struct {
	// MaxLineBytes is the longest line accepted, end of line excluded.
	// Zero means DefaultMaxLineBytes; negative means no limit.
	MaxLineBytes int
}

// ParseNQuads parses an N-Quads 1.1 document with default options.
func ParseNQuads(data []byte) ([]Quad, error) {
	return ParseNQuadsOptions(data, ParseOptions{})
}

// ParseNQuadsOptions parses an N-Quads 1.1 document strictly: IRIs must be
// absolute, escapes well formed and denote Unicode scalar values, the text
// UTF-8. Duplicate quads are kept; Canonicalize removes them. The error is
// a *SyntaxError matching ErrSyntax.
func ParseNQuadsOptions(data []byte, opts ParseOptions) ([]Quad, error) {
	maxLine := opts.MaxLineBytes
	if maxLine == 0 {
		maxLine = DefaultMaxLineBytes
	}
	// One conversion for the whole document: terms without escapes are
	// substrings of it and cost no allocation.
	src := string(data)
	p := parser{src: src}
	quads := make([]Quad, 0, strings.Count(src, "\n")+1)
	pos, line := 0, 1
	for pos < len(src) {
		end := pos
		for end < len(src) && src[end] != '\n' && src[end] != '\r' {
			end++
		}
		if maxLine > 0 && end-pos > maxLine {
			return nil, &SyntaxError{Line: line, Column: maxLine + 1,
				Msg: "longer than " + strconv.Itoa(maxLine) + " bytes", Err: ErrLineTooLong}
		}
		p.line, p.start, p.end, p.i = line, pos, end, pos
		q, ok, err := p.statement()
		if err != nil {
			return nil, err
		}
		if ok {
			quads = append(quads, q)
		}
		// EOL is [#xD#xA]+; each LF, and each CR not before an LF, ends
		// a line for the purpose of numbering.
		pos = end
		for pos < len(src) && (src[pos] == '\n' || src[pos] == '\r') {
			if src[pos] == '\n' || pos+1 >= len(src) || src[pos+1] != '\n' {
				line++
			}
			pos++
		}
	}
	return quads, nil
}

// parser reads one line, src[start:end], at a time.
type parser struct {
	src           string
	line          int
	start, end, i int
	scratch       []byte
}

func (p *parser) errorf(at int, msg string) error {
	return &SyntaxError{Line: p.line, Column: at - p.start + 1, Msg: msg, Err: ErrSyntax}
}

func (p *parser) skipWS() {
	for p.i < p.end && (p.src[p.i] == ' ' || p.src[p.i] == '\t') {
		p.i++
	}
}

// statement parses one line: blank, a comment, or a quad with an optional
// trailing comment. ok is false when the line holds no quad.
func (p *parser) statement() (q Quad, ok bool, err error) {
	if !utf8.ValidString(p.src[p.start:p.end]) {
		at := p.start
		for at < p.end {
			r, n := utf8.DecodeRuneInString(p.src[at:p.end])
			if r == utf8.RuneError && n == 1 {
				break
			}
			at += n
		}
		return q, false, p.errorf(at, "invalid UTF-8")
	}
	p.skipWS()
	if p.i == p.end || p.src[p.i] == '#' {
		return q, false, nil
	}
	if q.Subject, err = p.term("subject", kindIRI|kindBlank); err != nil {
		return q, false, err
	}
	p.skipWS()
	if q.Predicate, err = p.term("predicate", kindIRI); err != nil {
		return q, false, err
	}
	p.skipWS()
	if q.Object, err = p.term("object", kindIRI|kindBlank|kindLiteral); err != nil {
		return q, false, err
	}
	p.skipWS()
	if p.i < p.end && p.src[p.i] != '.' {
		if q.Graph, err = p.term("graph label", kindIRI|kindBlank); err != nil {
			return q, false, err
		}
		p.skipWS()
	}
	if p.i >= p.end || p.src[p.i] != '.' {
		return q, false, p.errorf(p.i, "expected '.' to end the statement")
	}
	p.i++
	p.skipWS()
	if p.i < p.end && p.src[p.i] != '#' {
		return q, false, p.errorf(p.i, "unexpected text after '.'")
	}
	return q, true, nil
}

func (p *parser) term(pos string, allowed int) (Term, error) {
	if p.i >= p.end {
		return Term{}, p.errorf(p.i, "expected "+pos+", found end of line")
	}
	at := p.i
	switch c := p.src[p.i]; {
	case c == '<' && allowed&kindIRI != 0:
		v, err := p.iri()
		return Term{Kind: KindIRI, Value: v}, err
	case c == '_' && allowed&kindBlank != 0:
		v, err := p.blankNode()
		return Term{Kind: KindBlankNode, Value: v}, err
	case c == '"' && allowed&kindLiteral != 0:
		return p.literal()
	}
	return Term{}, p.errorf(at, "expected "+pos+" ("+allowedNames(allowed)+")")
}

func allowedNames(allowed int) string {
	var names []string
	if allowed&kindIRI != 0 {
		names = append(names, "IRI")
	}
	if allowed&kindBlank != 0 {
		names = append(names, "blank node")
	}
	if allowed&kindLiteral != 0 {
		names = append(names, "literal")
	}
	return strings.Join(names, " or ")
}

// iri parses IRIREF ::= '<' ([^#x00-#x20<>"{}|^`\] | UCHAR)* '>' and checks
// that the IRI is absolute, as N-Quads requires.
func (p *parser) iri() (string, error) {
	open := p.i
	p.i++ // '<'
	start := p.i
	escaped := false
	for ; p.i < p.end; p.i++ {
		c := p.src[p.i]
		if c == '>' {
			break
		}
		if c == '\\' {
			escaped = true
			if p.i+1 >= p.end || (p.src[p.i+1] != 'u' && p.src[p.i+1] != 'U') {
				return "", p.errorf(p.i, "only \\u and \\U escapes are allowed in an IRI")
			}
			continue
		}
		if iriEsc[c] != 0 {
			return "", p.errorf(p.i, "character "+quoteByte(c)+" not allowed in an IRI")
		}
	}
	if p.i >= p.end {
		return "", p.errorf(open, "unterminated IRI")
	}
	raw := p.src[start:p.i]
	p.i++ // '>'
	v := raw
	if escaped {
		var err error
		if v, err = p.unescape(raw, start, false); err != nil {
			return "", err
		}
	}
	if !hasScheme(v) {
		return "", p.errorf(open, "relative IRI <"+raw+">: N-Quads needs absolute IRIs")
	}
	return v, nil
}

// hasScheme reports whether v starts with scheme ":" where
// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3987).
func hasScheme(v string) bool {
	if v == "" || !isAlpha(v[0]) {
		return false
	}
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ':':
			return true
		case isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.':
		default:
			return false
		}
	}
	return false
}

// blankNode parses BLANK_NODE_LABEL ::=
// '_:' (PN_CHARS_U | [0-9]) ((PN_CHARS | '.')* PN_CHARS)?
func (p *parser) blankNode() (string, error) {
	at := p.i
	if p.i+1 >= p.end || p.src[p.i+1] != ':' {
		return "", p.errorf(at, "expected '_:' to start a blank node")
	}
	p.i += 2
	start := p.i
	if p.i >= p.end {
		return "", p.errorf(p.i, "empty blank node label")
	}
	r, n := utf8.DecodeRuneInString(p.src[p.i:p.end])
	if !isPNCharsU(r) && !(r >= '0' && r <= '9') {
		return "", p.errorf(p.i, "blank node label cannot start with "+strconv.QuoteRune(r))
	}
	p.i += n
	lastOK := p.i // end of the label without trailing dots
	for p.i < p.end {
		r, n := utf8.DecodeRuneInString(p.src[p.i:p.end])
		if r == '.' {
			p.i += n
			continue
		}
		if !isPNChars(r) {
			break
		}
		p.i += n
		lastOK = p.i
	}
	// A label cannot end in '.': trailing dots belong to the statement.
	p.i = lastOK
	return p.src[start:lastOK], nil
}

// literal parses STRING_LITERAL_QUOTE ('^^' IRIREF | LANGTAG)?.
func (p *parser) literal() (Term, error) {
	open := p.i
	p.i++ // '"'
	start := p.i
	escaped := false
	for ; p.i < p.end; p.i++ {
		c := p.src[p.i]
		if c == '"' {
			break
		}
		if c == '\\' {
			escaped = true
			p.i++ // skip the escaped character; unescape checks it
		}
	}
	if p.i >= p.end {
		return Term{}, p.errorf(open, "unterminated string literal")
	}
	lex := p.src[start:p.i]
	p.i++ // '"'
	if escaped {
		var err error
		if lex, err = p.unescape(lex, start, true); err != nil {
			return Term{}, err
		}
	}
	t := Term{Kind: KindLiteral, Value: lex}
	p.skipWS()
	if p.i >= p.end {
		return t, nil
	}
	switch p.src[p.i] {
	case '@':
		at := p.i
		p.i++
		n := lenLangTag(p.src[p.i:p.end])
		if n == 0 {
			return Term{}, p.errorf(at, "malformed language tag")
		}
		t.Language = p.src[p.i : p.i+n]
		p.i += n
	case '^':
		if p.i+1 >= p.end || p.src[p.i+1] != '^' {
			return Term{}, p.errorf(p.i, "expected '^^' before a datatype")
		}
		p.i += 2
		p.skipWS()
		if p.i >= p.end || p.src[p.i] != '<' {
			return Term{}, p.errorf(p.i, "expected a datatype IRI after '^^'")
		}
		dt, err := p.iri()
		if err != nil {
			return Term{}, err
		}
		if dt != XSDString {
			t.Datatype = dt
		}
	}
	return t, nil
}

// unescape decodes the escapes of s, which starts at offset base of the
// document. Literals allow ECHAR and UCHAR, IRIs only UCHAR.
func (p *parser) unescape(s string, base int, echar bool) (string, error) {
	b := p.scratch[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		if i+1 >= len(s) {
			return "", p.errorf(base+i, "incomplete escape")
		}
		e := s[i+1]
		switch e {
		case 'u', 'U':
			n := 4
			if e == 'U' {
				n = 8
			}
			if i+2+n > len(s) {
				return "", p.errorf(base+i, "incomplete \\"+string(e)+" escape")
			}
			var r rune
			for _, h := range []byte(s[i+2 : i+2+n]) {
				d := unhex(h)
				if d < 0 {
					return "", p.errorf(base+i, "bad hex digit in \\"+string(e)+" escape")
				}
				r = r<<4 | rune(d)
			}
			if r > utf8.MaxRune || (r >= 0xD800 && r <= 0xDFFF) {
				return "", p.errorf(base+i, "escape "+s[i:i+2+n]+" is not a Unicode scalar value")
			}
			b = utf8.AppendRune(b, r)
			i += 1 + n
			continue
		}
		if !echar {
			return "", p.errorf(base+i, "only \\u and \\U escapes are allowed in an IRI")
		}
		var d byte
		switch e {
		case 't':
			d = '\t'
		case 'b':
			d = '\b'
		case 'n':
			d = '\n'
		case 'r':
			d = '\r'
		case 'f':
			d = '\f'
		case '"', '\'', '\\':
			d = e
		default:
			return "", p.errorf(base+i, "unknown escape \\"+quoteByteRaw(e))
		}
		b = append(b, d)
		i++
	}
	p.scratch = b
	return string(b), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return "0x" + strconv.FormatUint(uint64(c), 16)
}

func quoteByteRaw(c byte) string {
	if c >= 0x21 && c < 0x7F {
		return string(rune(c))
	}
	return quoteByte(c)
}

// isPNCharsBase is PN_CHARS_BASE of the N-Quads grammar.
func isPNCharsBase(r rune) bool {
	switch {
	case r < 0x80:
		return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x2FF,
		r >= 0x370 && r <= 0x37D, r >= 0x37F && r <= 0x1FFF, r >= 0x200C && r <= 0x200D,
		r >= 0x2070 && r <= 0x218F, r >= 0x2C00 && r <= 0x2FEF, r >= 0x3001 && r <= 0xD7FF,
		r >= 0xF900 && r <= 0xFDCF, r >= 0xFDF0 && r <= 0xFFFD, r >= 0x10000 && r <= 0xEFFFF:
		return true
	}
	return false
}

// isPNCharsU is PN_CHARS_U of N-Triples and N-Quads, which unlike Turtle's
// admits ':'.
func isPNCharsU(r rune) bool { return r == '_' || r == ':' || isPNCharsBase(r) }

// isPNChars is PN_CHARS.
func isPNChars(r rune) bool {
	return isPNCharsU(r) || r == '-' || r >= '0' && r <= '9' || r == 0xB7 ||
		r >= 0x300 && r <= 0x36F || r >= 0x203F && r <= 0x2040
}
