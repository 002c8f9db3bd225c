// Package jsonld turns JSON-LD 1.1 documents (https://www.w3.org/TR/json-ld11-api/)
// into RDF datasets and their RDFC-1.0 canonical N-Quads, the transformation
// that Data Integrity eddsa-rdfc-2022 and Ed25519Signature2020 sign.
//
// Expansion is json-gold's (github.com/piprate/json-gold), in safe mode, with
// a document loader that serves only the pinned contexts of package contexts:
// a document can never make the processor fetch anything. A faster expansion
// of this package's own does json-gold's steps for the features the pinned
// contexts use and hands any other document, and every error, to json-gold,
// so the result is json-gold's (expand_test.go holds it to that).
// Deserialisation to RDF and canonicalisation are this module's own (package
// rdfc), so that:
//
//   - anything a JSON-LD processor would silently drop (a term no context
//     defines, a relative @type, property, @id or datatype IRI, a malformed
//     language tag, an @direction with no RDF form) is an error matching
//     [ErrSafeMode] rather than a statement that the signature does not cover;
//   - literals are escaped as RDFC-1.0 requires, and a poisoned dataset fails
//     with rdfc.ErrWorkLimit instead of exhausting the verifier.
//
// Pinned context documents are parsed once. The active context that a
// document's top-level @context of pinned URLs gives, and those that the
// pinned contexts' type- and property-scoped contexts make from it, are
// processed once and shared by later documents; a document's own contexts
// are processed per document.
package jsonld
