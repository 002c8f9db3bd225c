// Package vcjwt secures W3C Verifiable Credentials as JWTs: "Securing
// Verifiable Credentials using JOSE and COSE" (VC-JOSE-COSE) for VC Data Model
// 2.0, where the JWS payload is the credential itself (media type
// application/vc+jwt, header typ "vc+jwt") or the presentation
// (application/vp+jwt), and, for reading, the VC Data Model 1.1 JWT encoding,
// where the credential sits in a "vc" claim (a presentation in "vp") beside
// the registered claims iss, sub, nbf, exp and jti.
//
// Only the compact JWS serialisation is accepted, and only two algorithms:
// EdDSA with Ed25519 keys and ES256 with P-256 keys. Keys are never taken from
// the token (jwk, x5c, jku headers are ignored): a [KeyResolver] finds the
// issuer's key from the kid header, normally a DID URL.
//
// Every error wraps one of the package's sentinels; [Code] maps an error to
// the error code of the VC Data Model 2.0 (§7.1) or Data Integrity specs.
package vcjwt
