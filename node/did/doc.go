// Package did parses and resolves W3C Decentralized Identifiers (DID Core 1.0,
// https://www.w3.org/TR/did-core/) for the two methods credanchor accepts:
// did:key with Ed25519 Multikey keys (https://w3c-ccg.github.io/did-key-spec/)
// and did:web (https://w3c-ccg.github.io/did-method-web/).
//
// Parsing, the Multikey codec, did:key documents and DID document processing do
// no I/O. Only [WebResolver] fetches, and it does so through the *http.Client in
// its [WebConfig], so tests can resolve did:web against a loopback TLS server.
//
// A verifier turns a proof's verificationMethod into a key with
// [ResolveVerificationMethod]: the method must be defined in its DID's document
// and listed under the relationship the proof claims ([AssertionMethod] for a
// credential, [Authentication] for a presentation).
package did
