// Package rdfc implements RDF Dataset Canonicalization, RDFC-1.0
// (https://www.w3.org/TR/rdf-canon/), over a small RDF dataset model with a
// strict N-Quads 1.1 parser (https://www.w3.org/TR/n-quads/).
//
// Canonicalize gives the canonical N-Quads document of a dataset, the bytes
// that Data Integrity eddsa-rdfc-2022 hashes, and the issued identifiers map.
// It escapes literals as RDFC-1.0 Appendix A requires, supports SHA-256 and
// SHA-384, and bounds the work of Hash N-Degree Quads so that a poisoned
// dataset fails with ErrWorkLimit instead of running for ever (RDFC-1.0 §7.1).
// It is safe for concurrent use.
//
// The output is that of RDFC-1.0 exactly, tie-breaks and issued identifiers
// included (it matches rdf-canonize, the reference implementation), with
// RDFC-1.0's limits: when blank nodes are linked by quads in named graphs,
// isomorphic inputs given in other orders can canonicalize differently,
// because the algorithm hashes such links without their graph names. Inputs
// derived the same way from the same document are unaffected.
package rdfc

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Each is wrapped with detail and is meant
// to be checked with errors.Is.
var (
	// ErrSyntax reports N-Quads input that does not follow the N-Quads 1.1
	// grammar. The error is a *SyntaxError carrying the position.
	ErrSyntax = errors.New("rdfc: invalid N-Quads")

	// ErrLineTooLong reports an N-Quads line longer than the parser's limit.
	// It also matches ErrSyntax.
	ErrLineTooLong = fmt.Errorf("%w: line too long", ErrSyntax)

	// ErrInvalidQuad reports a quad that is not an RDF quad: a term of the
	// wrong kind for its position, text that is not UTF-8, or a malformed
	// language tag.
	ErrInvalidQuad = errors.New("rdfc: invalid quad")

	// ErrWorkLimit reports a dataset whose canonicalization needs more
	// Hash N-Degree Quads work than Options allow: typically a poison
	// dataset built to exhaust a verifier (RDFC-1.0 §7.1).
	ErrWorkLimit = errors.New("rdfc: canonicalization work limit exceeded")

	// ErrUnsupportedHash reports an Options.Hash this package does not know.
	ErrUnsupportedHash = errors.New("rdfc: unsupported hash algorithm")
)

// SyntaxError locates an N-Quads syntax error. It matches ErrSyntax, and
// ErrLineTooLong when that is the cause.
type SyntaxError struct {
	Line   int    // 1-based line number
	Column int    // 1-based byte offset within the line
	Msg    string // what is wrong
	Err    error  // ErrSyntax or ErrLineTooLong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%v: line %d, column %d: %s", e.Err, e.Line, e.Column, e.Msg)
}

// Unwrap returns the sentinel the error refines.
func (e *SyntaxError) Unwrap() error { return e.Err }
