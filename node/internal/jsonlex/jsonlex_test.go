package jsonlex

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestSkipSpace(t *testing.T) {
	for _, tc := range []struct {
		in   string
		i    int
		want int
	}{
		{"", 0, 0},
		{"x", 0, 0},
		{" \t\r\nx", 0, 4},
		{"x  ", 1, 3},
		{"   x   ", 3, 3},
		{"  ", 2, 2},
		{"\v\f x", 0, 0},  // not JSON whitespace
		{"\u00a0x", 0, 0}, // nor is a no-break space
		{"\u2028x", 0, 0}, // nor a line separator
		{" \x00", 0, 1},
	} {
		t.Run(strconv.Quote(tc.in), func(t *testing.T) {
			if got := SkipSpace(tc.in, tc.i); got != tc.want {
				t.Errorf("SkipSpace(%q, %d) = %d, want %d", tc.in, tc.i, got, tc.want)
			}
		})
	}
}

func TestPlain(t *testing.T) {
	for c := range 256 {
		want := c >= 0x20 && c != '"' && c != '\\'
		if got := IsPlain(byte(c)); got != want {
			t.Errorf("IsPlain(%#x) = %v, want %v", c, got, want)
		}
	}
	for _, tc := range []struct {
		in   string
		i    int
		want int
	}{
		{"", 0, 0},
		{`abc"`, 0, 3},
		{`ab\n"`, 0, 2},
		{"a\tb", 0, 1},
		{"é😀\x7f\"", 0, 7},
		{`"`, 0, 0},
		{"abc", 1, 3},
		{`a"b"`, 2, 3},
	} {
		t.Run(strconv.Quote(tc.in), func(t *testing.T) {
			if got := SkipPlain(tc.in, tc.i); got != tc.want {
				t.Errorf("SkipPlain(%q, %d) = %d, want %d", tc.in, tc.i, got, tc.want)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		in     string
		i      int
		end    int
		wantOK bool
	}{
		{"0", 0, 1, true},
		{"-0", 0, 2, true},
		{"123", 0, 3, true},
		{"-1.5e+3", 0, 7, true},
		{"1E-07", 0, 5, true},
		{"0.000001", 0, 8, true},
		{"1,", 0, 1, true},
		{"[12]", 1, 3, true},
		{"01", 0, 1, true}, // the grammar ends after "0"
		{"1.5.5", 0, 3, true},
		{"1e5e5", 0, 3, true},
		{"", 0, 0, false},
		{"-", 0, 1, false},
		{"-x", 0, 1, false},
		{"+1", 0, 0, false},
		{".5", 0, 0, false},
		{"1.", 0, 2, false},
		{"1.e5", 0, 2, false},
		{"1e", 0, 2, false},
		{"1e+", 0, 3, false},
		{"1E-x", 0, 3, false},
		{"x", 0, 0, false},
		{"1", 1, 1, false}, // at the end
	} {
		t.Run(tc.in, func(t *testing.T) {
			end, ok := Number(tc.in, tc.i)
			if end != tc.end || ok != tc.wantOK {
				t.Errorf("Number(%q, %d) = %d, %v; want %d, %v", tc.in, tc.i, end, ok, tc.end, tc.wantOK)
			}
		})
	}
}

// TestUnescape checks every byte against encoding/json's reading of the
// escape it would begin.
func TestUnescape(t *testing.T) {
	for c := range 256 {
		var s string
		werr := json.Unmarshal([]byte(`"\`+string(rune(c))+`"`), &s)
		wantOK := werr == nil && len(s) == 1
		got, ok := Unescape(byte(c))
		if ok != wantOK || ok && got != s[0] {
			t.Errorf("Unescape(%q) = %q, %v; encoding/json reads %q, %v", byte(c), got, ok, s, werr)
		}
	}
}

func TestUnicodeEscape(t *testing.T) {
	for _, tc := range []struct {
		in     string
		i      int
		want   rune
		wantOK bool
	}{
		{`\u0041`, 0, 'A', true},
		{`\u00e9`, 0, 'é', true},
		{`\uD83D\uDE00`, 0, 0xd83d, true},
		{`\uD83D\uDE00`, 6, 0xde00, true},
		{`\uFfFf`, 0, 0xffff, true},
		{`x\u0000`, 1, 0, true},
		{`\u004`, 0, 0, false},
		{`\u00G0`, 0, 0, false},
		{`\u+041`, 0, 0, false},
		{`\x0041`, 0, 0, false},
		{`/u0041`, 0, 0, false},
		{`\u0041`, 1, 0, false},
		{``, 0, 0, false},
		{`\u0041`, 6, 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, ok := UnicodeEscape(tc.in, tc.i)
			if r != tc.want || ok != tc.wantOK {
				t.Errorf("UnicodeEscape(%q, %d) = %#x, %v; want %#x, %v", tc.in, tc.i, r, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// The table tests call each function on a string; FuzzScan, whose seeds
// run with them, checks that the []byte instantiation agrees.

// number is the grammar of RFC 8259 §6.
var number = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$`)

// FuzzScan checks each scanner, on any text and from any offset, against a
// reference: the grammar as a regular expression, encoding/json, strconv,
// and the other instantiation (string or []byte).
func FuzzScan(f *testing.F) {
	for _, s := range []string{"-1.5e+3,", " \t\r\n1", "01", "1.", "1e+", `\uD83D\uDE00`, `\u00G0`, `abc\"`, "\x01", "é\""} {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, s string, i int) {
		if i < 0 || i > len(s) {
			return
		}
		rest := s[i:]

		sp := SkipSpace(s, i)
		if want := len(s) - len(strings.TrimLeft(rest, " \t\r\n")); sp != want || SkipSpace([]byte(s), i) != want {
			t.Fatalf("SkipSpace(%q, %d) = %d, want %d", s, i, sp, want)
		}

		pl := SkipPlain(s, i)
		want := i
		for want < len(s) && s[want] >= 0x20 && s[want] != '"' && s[want] != '\\' {
			want++
		}
		if pl != want || SkipPlain([]byte(s), i) != want {
			t.Fatalf("SkipPlain(%q, %d) = %d, want %d", s, i, pl, want)
		}

		end, ok := Number(s, i)
		if bend, bok := Number([]byte(s), i); bend != end || bok != ok {
			t.Fatalf("Number(%q, %d) = %d, %v; of the bytes %d, %v", s, i, end, ok, bend, bok)
		}
		if end < i || end > len(s) {
			t.Fatalf("Number(%q, %d) = %d, outside the text", s, i, end)
		}
		if ok && (!number.MatchString(s[i:end]) || !json.Valid([]byte(s[i:end]))) {
			t.Fatalf("Number(%q, %d) took %q, not a number", s, i, s[i:end])
		}
		if number.MatchString(rest) && (!ok || end != len(s)) {
			t.Fatalf("Number(%q, %d) = %d, %v; want all of the number %q", s, i, end, ok, rest)
		}

		r, ok := UnicodeEscape(s, i)
		if br, bok := UnicodeEscape([]byte(s), i); br != r || bok != ok {
			t.Fatalf("UnicodeEscape(%q, %d) = %#x, %v; of the bytes %#x, %v", s, i, r, ok, br, bok)
		}
		wantOK := len(rest) >= 6 && rest[:2] == `\u` && !strings.ContainsAny(rest[2:6], "+-_")
		var u uint64
		if wantOK {
			var err error
			u, err = strconv.ParseUint(rest[2:6], 16, 16)
			wantOK = err == nil
		}
		if ok != wantOK || ok && r != rune(u) {
			t.Fatalf("UnicodeEscape(%q, %d) = %#x, %v; want %#x, %v", s, i, r, ok, u, wantOK)
		}
	})
}
