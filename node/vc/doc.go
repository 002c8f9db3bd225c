// Package vc models W3C Verifiable Credentials Data Model 2.0 (and 1.1, for
// reading) credentials and presentations, and 1EdTech Open Badges 3.0
// credentials, and checks their structure.
//
// The package works on the JSON shape only: it does no JSON-LD processing
// (whether a term is defined by a context is the JSON-LD package's job), no
// cryptography and no I/O. A document is parsed strictly (one JSON object,
// bounded size and depth, duplicate keys refused) and kept as decoded, so a
// caller can hash or canonicalise exactly what the issuer signed.
//
// Checks return every [Problem] found rather than stopping at the first, each
// with a VC Data Model error code, a JSON Pointer to the offending value and a
// human-readable detail.
package vc
