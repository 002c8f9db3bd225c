package rdfc

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	exS = "http://example.org/s"
	exP = "http://example.org/p"
	exO = "http://example.org/o"
	exG = "http://example.org/g"
)

func TestParseNQuads(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Quad
	}{
		{"empty", "", nil},
		{"blank lines and comments", "\n  \t\n# a comment\n\r\n", nil},
		{"triple", "<" + exS + "> <" + exP + "> <" + exO + "> .\n",
			[]Quad{{Subject: IRI(exS), Predicate: IRI(exP), Object: IRI(exO)}}},
		{"quad without final EOL", "<" + exS + "> <" + exP + "> <" + exO + "> <" + exG + "> .",
			[]Quad{{Subject: IRI(exS), Predicate: IRI(exP), Object: IRI(exO), Graph: IRI(exG)}}},
		{"minimal whitespace", "<" + exS + "><" + exP + "><" + exO + ">.",
			[]Quad{{Subject: IRI(exS), Predicate: IRI(exP), Object: IRI(exO)}}},
		{"tabs, CRLF and trailing comment", "\t<" + exS + ">\t<" + exP + "> _:o\t. # done\r\n",
			[]Quad{{Subject: IRI(exS), Predicate: IRI(exP), Object: BlankNode("o")}}},
		{"blank nodes everywhere", "_:s <" + exP + "> _:o _:g .",
			[]Quad{{Subject: BlankNode("s"), Predicate: IRI(exP), Object: BlankNode("o"), Graph: BlankNode("g")}}},
		{"blank node label then dot", "_:s <" + exP + "> _:a.b.",
			[]Quad{{Subject: BlankNode("s"), Predicate: IRI(exP), Object: BlankNode("a.b")}}},
		{"blank node label characters", "_:1-x:y_é\u00b7 <" + exP + "> _:_z .",
			[]Quad{{Subject: BlankNode("1-x:y_é\u00b7"), Predicate: IRI(exP), Object: BlankNode("_z")}}},
		{"simple literal", `<` + exS + `> <` + exP + `> "hello" .`,
			[]Quad{{Subject: IRI(exS), Predicate: IRI(exP), Object: Literal("hello", "")}}},
		{"xsd:string is a simple literal", `<` + exS + `> <` + exP + `> "hello"^^<` + XSDString + `> .`,
			[]Quad{{Subject: IRI(exS), Predicate: IRI(exP), Object: Literal("hello", "")}}},
		{"typed literal", `<` + exS + `> <` + exP + `> "1"^^<http://www.w3.org/2001/XMLSchema#integer> <` + exG + `> .`,
			[]Quad{{Subject: IRI(exS), Predicate: IRI(exP), Object: Literal("1", "http://www.w3.org/2001/XMLSchema#integer"), Graph: IRI(exG)}}},
		{"language tag", `<` + exS + `> <` + exP + `> "chat"@fr-BE .`,
			[]Quad{{Subject: IRI(exS), Predicate: IRI(exP), Object: LangLiteral("chat", "fr-BE")}}},
		{"literal escapes", `<` + exS + `> <` + exP + `> "\t\b\n\r\f\"\'\\ \u00e9\U0001F600\u0000" .`,
			[]Quad{{Subject: IRI(exS), Predicate: IRI(exP), Object: Literal("\t\b\n\r\f\"'\\ é😀\x00", "")}}},
		{"raw control characters in a literal", "<" + exS + "> <" + exP + "> \"a\x01\tb\x7f\" .",
			[]Quad{{Subject: IRI(exS), Predicate: IRI(exP), Object: Literal("a\x01\tb\x7f", "")}}},
		{"hash inside IRI and literal", `<http://example.org/#s> <` + exP + `> "# not a comment" .`,
			[]Quad{{Subject: IRI("http://example.org/#s"), Predicate: IRI(exP), Object: Literal("# not a comment", "")}}},
		{"IRI escapes", `<http://example.org/\u00E9\U0001F600\u0020> <` + exP + `> <urn:x> .`,
			[]Quad{{Subject: IRI("http://example.org/é😀 "), Predicate: IRI(exP), Object: IRI("urn:x")}}},
		{"duplicates are kept", "_:a <" + exP + "> _:b .\n_:a <" + exP + "> _:b .\n",
			[]Quad{
				{Subject: BlankNode("a"), Predicate: IRI(exP), Object: BlankNode("b")},
				{Subject: BlankNode("a"), Predicate: IRI(exP), Object: BlankNode("b")},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNQuads([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseNQuads: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseNQuadsErrors(t *testing.T) {
	ok := "<" + exS + "> <" + exP + "> <" + exO + "> .\n"
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"missing dot", "<" + exS + "> <" + exP + "> <" + exO + ">", 1, "expected '.'"},
		{"error line number", ok + ok + "\n<" + exS + "> <" + exP + "> .", 4, "expected object"},
		{"CR counts as a line end", ok + "\r" + "junk", 3, "expected subject"},
		{"literal subject", `"s" <` + exP + `> <` + exO + `> .`, 1, "expected subject"},
		{"blank node predicate", `_:s _:p <` + exO + `> .`, 1, "expected predicate"},
		{"literal graph", `_:s <` + exP + `> <` + exO + `> "g" .`, 1, "expected graph label"},
		{"relative IRI", `<s> <` + exP + `> <` + exO + `> .`, 1, "relative IRI"},
		{"space in IRI", `<http://example.org/a b> <` + exP + `> <` + exO + `> .`, 1, "not allowed in an IRI"},
		{"ECHAR in IRI", `<http://example.org/\n> <` + exP + `> <` + exO + `> .`, 1, "only \\u and \\U"},
		{"bad UCHAR", `<http://example.org/\u00ZZ> <` + exP + `> <` + exO + `> .`, 1, "bad hex digit"},
		{"short UCHAR", `_:s <` + exP + `> "\u00e" .`, 1, "incomplete \\u"},
		{"surrogate escape", `_:s <` + exP + `> "\uD800" .`, 1, "not a Unicode scalar value"},
		{"escape beyond Unicode", `_:s <` + exP + `> "\U00110000" .`, 1, "not a Unicode scalar value"},
		{"unknown escape", `_:s <` + exP + `> "\a" .`, 1, "unknown escape"},
		{"unterminated literal", `_:s <` + exP + `> "abc .`, 1, "unterminated string literal"},
		{"unterminated IRI", `_:s <` + exP, 1, "unterminated IRI"},
		{"IRI with a space", `_:s <` + exP + ` .`, 1, "' ' not allowed in an IRI"},
		{"bad language tag", `_:s <` + exP + `> "a"@-en .`, 1, "malformed language tag"},
		{"single caret", `_:s <` + exP + `> "a"^<` + exO + `> .`, 1, "expected '^^'"},
		{"datatype not an IRI", `_:s <` + exP + `> "a"^^_:dt .`, 1, "expected a datatype IRI"},
		{"empty blank node label", `<` + exS + `> <` + exP + `> _:`, 1, "empty blank node label"},
		{"space after _:", `_: <` + exP + `> <` + exO + `> .`, 1, "cannot start with ' '"},
		{"bad blank node start", `_:-a <` + exP + `> <` + exO + `> .`, 1, "cannot start with"},
		{"text after dot", ok + "<" + exS + "> <" + exP + "> <" + exO + "> . <" + exO + ">", 2, "unexpected text after '.'"},
		{"comment inside statement", "<" + exS + "> <" + exP + "> # <" + exO + "> .", 1, "expected object"},
		{"invalid UTF-8", "_:s <" + exP + "> \"\xff\" .", 1, "invalid UTF-8"},
		{"newline in literal", "_:s <" + exP + "> \"a\nb\" .", 1, "unterminated string literal"},
		{"too many terms", "_:s <" + exP + "> _:o _:g _:h .", 1, "expected '.'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNQuads([]byte(tt.in))
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("got error %v, want ErrSyntax", err)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if se.Line != tt.line {
				t.Errorf("line: got %d, want %d (%v)", se.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func TestParseNQuadsLineLimit(t *testing.T) {
	line := "_:s <" + exP + "> \"" + strings.Repeat("x", 100) + "\" .\n"
	if _, err := ParseNQuadsOptions([]byte(line+line), ParseOptions{MaxLineBytes: len(line) - 1}); err != nil {
		t.Fatalf("line of exactly the limit: %v", err)
	}
	_, err := ParseNQuadsOptions([]byte(line+line), ParseOptions{MaxLineBytes: len(line) - 2})
	if !errors.Is(err, ErrLineTooLong) || !errors.Is(err, ErrSyntax) {
		t.Fatalf("got %v, want ErrLineTooLong matching ErrSyntax", err)
	}
	long := []byte("_:s <" + exP + "> \"" + strings.Repeat("x", DefaultMaxLineBytes) + "\" .")
	if _, err := ParseNQuads(long); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("default limit: got %v, want ErrLineTooLong", err)
	}
	if _, err := ParseNQuadsOptions(long, ParseOptions{MaxLineBytes: -1}); err != nil {
		t.Fatalf("no limit: %v", err)
	}
}

// TestCanonicalEscaping pins the literal and IRI forms of RDFC-1.0 Appendix
// A: ECHAR for BS, HT, LF, FF, CR, '"' and '\'; UCHAR with uppercase HEX for
// the other C0 controls, DEL and the non-characters U+FFFE and U+FFFF that
// XML 1.1 Char excludes; everything else, other controls such as U+0085
// included, as is. rdf-canonize 5.0.0 agrees except that it leaves U+FFFE
// and U+FFFF unescaped.
func TestCanonicalEscaping(t *testing.T) {
	var lex strings.Builder
	for r := rune(0); r < 0x20; r++ {
		lex.WriteRune(r)
	}
	lex.WriteString("\x7f\"\\'/é\u0085\u2028\ufffd\ufffe\uffff😀")
	const want = `"` +
		`\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F` +
		`\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F` +
		`\u007F\"\\'/é` + "\u0085\u2028\ufffd" + `\uFFFE\uFFFF` + "😀" + `"`
	if got := Literal(lex.String(), "").String(); got != want {
		t.Errorf("literal:\ngot  %s\nwant %s", got, want)
	}

	tests := []struct {
		term Term
		want string
	}{
		{Literal("a", XSDString), `"a"`},
		{Literal("a", ""), `"a"`},
		{Literal("1", "http://www.w3.org/2001/XMLSchema#integer"), `"1"^^<http://www.w3.org/2001/XMLSchema#integer>`},
		{LangLiteral("a", "en-GB"), `"a"@en-GB`},
		{Term{Kind: KindLiteral, Value: "a", Datatype: RDFLangString, Language: "en"}, `"a"@en`},
		{IRI("http://example.org/é#x"), `<http://example.org/é#x>`},
		{IRI("urn:a b<c>\"{d}|^`\\\x00\x1f"), `<urn:a\u0020b\u003Cc\u003E\u0022\u007Bd\u007D\u007C\u005E\u0060\u005C\u0000\u001F>`},
		{BlankNode("b0"), `_:b0`},
		{DefaultGraph, ``},
	}
	for _, tt := range tests {
		if got := tt.term.String(); got != tt.want {
			t.Errorf("%#v: got %s, want %s", tt.term, got, tt.want)
		}
	}

	// The control characters survive canonicalization escaped, and the
	// escaped form parses back to the same literal.
	q := Quad{Subject: BlankNode("x"), Predicate: IRI(exP), Object: Literal(lex.String(), "")}
	res, err := Canonicalize([]Quad{q}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, wantLine := string(res.NQuads), "_:c14n0 <"+exP+"> "+want+" .\n"; got != wantLine {
		t.Errorf("canonical:\ngot  %s\nwant %s", got, wantLine)
	}
	back, err := ParseNQuads(res.NQuads)
	if err != nil {
		t.Fatal(err)
	}
	if back[0].Object != q.Object {
		t.Errorf("round trip: got %q, want %q", back[0].Object.Value, q.Object.Value)
	}
}

// TestRoundTrip parses, serializes and parses again every N-Quads file in
// testdata: the two parses must agree and the second serialization must
// equal the first.
func TestRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/*/*.nq")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/*/*/*.nq")
	files = append(files, more...)
	if len(files) < 100 {
		t.Fatalf("found only %d N-Quads files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, in)
		})
	}
	checkRoundTrip(t, []byte(`_:a <`+exP+`> "\u0000\b\t\n\u000b\f\r\"\\\uFFFF\U0001F600"@en <`+exG+`> .`))
	checkRoundTrip(t, []byte(`<urn:a\u0020b\u005C> <`+exP+`> "x"^^<urn:\u007Bdt\u007D> .`))
}

func checkRoundTrip(t *testing.T, in []byte) {
	t.Helper()
	q1, err := ParseNQuads(in)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	out1 := FormatNQuads(q1)
	q2, err := ParseNQuads(out1)
	if err != nil {
		t.Fatalf("parse of serialization: %v\n%s", err, out1)
	}
	if !slices.Equal(q1, q2) {
		t.Fatalf("quads changed by a round trip:\n%q\n%q", q1, q2)
	}
	if out2 := FormatNQuads(q2); string(out2) != string(out1) {
		t.Fatalf("serialization not stable:\n%s\n%s", out1, out2)
	}
}

func FuzzParseNQuads(f *testing.F) {
	files, _ := filepath.Glob("testdata/rdf-canon/rdfc10/*-in.nq")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`_:a <` + exP + `> "x\u0000\t"@en-GB <` + exG + `> . # c`))
	f.Add([]byte(`<urn:a\u0020> <` + exP + `> "1"^^<urn:dt> .`))
	f.Fuzz(func(t *testing.T, in []byte) {
		quads, err := ParseNQuadsOptions(in, ParseOptions{MaxLineBytes: 4096})
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not match ErrSyntax", err)
			}
			return
		}
		for i := range quads {
			if err := quads[i].Validate(); err != nil {
				t.Fatalf("parsed quad %d is invalid: %v", i, err)
			}
		}
		checkRoundTrip(t, in)
	})
}
