// Package jsonlex scans the lexical pieces of JSON text (RFC 8259):
// whitespace, numbers, and the plain bytes and escapes of strings.
//
// It holds what the node's two JSON readers, the RFC 8785 canonicaliser of
// package credential and the strict decoder of package vc, read alike. Each
// keeps its own structure, surrogate policy and errors: the canonicaliser
// refuses an escaped lone surrogate, the decoder reads it as U+FFFD, as
// encoding/json does. The functions take the text as a string or a []byte,
// as the two readers hold it, and a byte offset into it; those they call per
// byte or token are small enough to be inlined into the readers' loops,
// which are the node's hot path.
package jsonlex

// SkipSpace returns the offset of the first byte at or after i that is not
// JSON whitespace (space, tab, line feed, carriage return), or len(s).
func SkipSpace[T string | []byte](s T, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// SkipPlain returns the offset of the first byte at or after i that is not
// plain (see IsPlain), or len(s).
func SkipPlain[T string | []byte](s T, i int) int {
	for i < len(s) && plain[s[i]] {
		i++
	}
	return i
}

// IsPlain reports whether a string holds the byte c as it is, unescaped:
// all bytes but '"', '\\' and control characters. In valid UTF-8 the bytes
// of a non-ASCII character are plain and stand for it.
func IsPlain(c byte) bool {
	return plain[c]
}

// plain marks the bytes IsPlain reports.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Number scans the number at s[i:] (the grammar of RFC 8259 §6) and returns
// the offset after it. If s[i:] does not begin with a number, ok is false
// and end is the offset where a digit was wanted. The number ends where
// the grammar does: "01" scans as "0", and the caller decides whether what
// follows may.
func Number[T string | []byte](s T, i int) (end int, ok bool) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	default:
		if i, ok = digits(s, i); !ok {
			return i, false
		}
	}
	if i < len(s) && s[i] == '.' {
		if i, ok = digits(s, i+1); !ok {
			return i, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i, ok = digits(s, i); !ok {
			return i, false
		}
	}
	return i, true
}

// digits skips the decimal digits at s[i:] and reports whether there was
// at least one.
func digits[T string | []byte](s T, i int) (int, bool) {
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i, i > start
}

// Unescape returns the byte that the two-byte escape '\\' c stands for, and
// false if c does not begin one: for 'u' (see UnicodeEscape) and for bytes
// that begin no escape.
func Unescape(c byte) (byte, bool) {
	b := unescaped[c]
	return b, b != 0
}

// unescaped maps the second byte of a two-byte escape to the byte it stands
// for; zero, which none stands for, marks the others.
var unescaped = [256]byte{
	'"': '"', '\\': '\\', '/': '/',
	'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
}

// UnicodeEscape returns the UTF-16 code unit of the escape \uXXXX at s[i:],
// and false if s[i:] does not begin with one. The caller decides what a
// surrogate, alone or in a pair, stands for.
func UnicodeEscape[T string | []byte](s T, i int) (rune, bool) {
	if len(s)-i < 6 || s[i] != '\\' || s[i+1] != 'u' {
		return 0, false
	}
	var r rune
	for k := i + 2; k < i+6; k++ {
		c := s[k]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
