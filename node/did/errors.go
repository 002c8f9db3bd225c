package did

import "errors"

// Sentinel errors. Functions wrap them with %w and a message naming the
// offending value, so callers test with errors.Is and log the message.
var (
	// ErrInvalidDID means a string is not a syntactically valid DID or DID URL,
	// or a did:key / did:web identifier is malformed for its method.
	ErrInvalidDID = errors.New("did: invalid DID")
	// ErrUnsupportedMethod means the DID method is neither did:key nor did:web
	// (or has no resolver configured).
	ErrUnsupportedMethod = errors.New("did: unsupported DID method")
	// ErrNotFound means the DID has no document (did:web answered 404 or 410),
	// or the document defines no verification method with the requested id.
	ErrNotFound = errors.New("did: not found")
	// ErrRelationship means the verification method exists but is not listed
	// under the requested verification relationship, so it may not be used
	// for that purpose (for example an authentication key signing a credential).
	ErrRelationship = errors.New("did: verification method not authorized for relationship")
	// ErrInvalidDocument means a DID document is malformed, too large, or its
	// id is not the DID that was resolved.
	ErrInvalidDocument = errors.New("did: invalid DID document")
	// ErrInvalidKey means key material (Multikey, JWK) is malformed.
	ErrInvalidKey = errors.New("did: invalid key")
	// ErrUnsupportedKey means key material is well formed but of a type or
	// curve this package does not verify with.
	ErrUnsupportedKey = errors.New("did: unsupported key type")
	// ErrUnavailable means a did:web document could not be fetched: network or
	// TLS failure, timeout, or an HTTP status other than 200, 404 and 410.
	// Unlike the other errors it may go away on retry.
	ErrUnavailable = errors.New("did: DID document unavailable")
	// ErrRefused means the did:web fetch was refused by policy: a redirect
	// away from https, or (with the default client) an address that is not
	// public unicast.
	ErrRefused = errors.New("did: did:web fetch refused")
)
