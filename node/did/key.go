package did

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
)

// JSON-LD contexts of the did:key documents built here.
const (
	contextDIDv1      = "https://www.w3.org/ns/did/v1"
	contextMultikeyV1 = "https://w3id.org/security/multikey/v1"
	contextEd25519V1  = "https://w3id.org/security/suites/ed25519-2020/v1"
)

// NewDIDKey returns the did:key DID of an Ed25519 public key,
// did:key:z6Mk…. It returns "" if pub is not 32 bytes.
func NewDIDKey(pub ed25519.PublicKey) string {
	mk := EncodeMultikeyEd25519(pub)
	if mk == "" {
		return ""
	}
	return "did:key:" + mk
}

// ParseDIDKey returns the Ed25519 public key a did:key DID encodes. The DID
// must be a plain DID (no fragment). A malformed DID or key wraps
// [ErrInvalidDID]; a DID of another method wraps [ErrUnsupportedMethod]; a
// did:key of another key type (P-256, secp256k1…) wraps [ErrUnsupportedKey].
func ParseDIDKey(did string) (ed25519.PublicKey, error) {
	d, err := Parse(did)
	if err != nil {
		return nil, err
	}
	if d.Method != "key" {
		return nil, fmt.Errorf("%w: %s is not a did:key", ErrUnsupportedMethod, quote(did))
	}
	pub, err := DecodeMultikey(d.ID)
	if err != nil {
		if errors.Is(err, ErrUnsupportedKey) {
			return nil, fmt.Errorf("did:key %s: %w", quote(did), err)
		}
		return nil, fmt.Errorf("%w: did:key %s: %w", ErrInvalidDID, quote(did), err)
	}
	return pub, nil
}

// NewKeyDocument returns the DID document the did:key method specifies for an
// Ed25519 did:key: one verification method did#<multikey> of type vmType
// (TypeMultikey if empty, or TypeEd25519VerificationKey2020, the form
// Ed25519Signature2020 issuers were resolved to), controlled by the DID and
// listed under authentication, assertionMethod, capabilityInvocation and
// capabilityDelegation. The X25519 keyAgreement method that the spec derives
// only when asked to (enableEncryptionKeyDerivation) is not included: nothing
// here encrypts. Errors are those of [ParseDIDKey], or [ErrUnsupportedKey]
// for another vmType.
func NewKeyDocument(did, vmType string) (*Document, error) {
	if vmType == "" {
		vmType = TypeMultikey
	}
	var ctx []string
	switch vmType {
	case TypeMultikey:
		ctx = []string{contextDIDv1, contextMultikeyV1}
	case TypeEd25519VerificationKey2020:
		ctx = []string{contextDIDv1, contextEd25519V1}
	default:
		return nil, fmt.Errorf("%w: did:key verification method type %s", ErrUnsupportedKey, quote(vmType))
	}
	pub, err := ParseDIDKey(did)
	if err != nil {
		return nil, err
	}
	// Rebuild from the decoded key rather than reuse the input, so the
	// document always carries the canonical spelling of the key.
	mk := EncodeMultikeyEd25519(pub)
	id := "did:key:" + mk
	vmID := id + "#" + mk
	rawCtx, err := json.Marshal(ctx)
	if err != nil {
		return nil, fmt.Errorf("did: marshal @context: %w", err)
	}
	return &Document{
		Context: rawCtx,
		ID:      id,
		VerificationMethods: []VerificationMethod{{
			ID:                 vmID,
			Type:               vmType,
			Controller:         id,
			PublicKeyMultibase: mk,
		}},
		Authentication:       []string{vmID},
		AssertionMethod:      []string{vmID},
		CapabilityInvocation: []string{vmID},
		CapabilityDelegation: []string{vmID},
	}, nil
}

// KeyResolver resolves did:key DIDs with Ed25519 keys. It does no I/O; the
// zero value is ready to use.
type KeyResolver struct {
	// VerificationMethodType is the type given to the verification method:
	// empty for TypeMultikey, or TypeEd25519VerificationKey2020.
	VerificationMethodType string
}

// Resolve returns the did:key document of did (see [NewKeyDocument]). The
// document is built once and then shared between callers, who must not
// modify it.
func (r KeyResolver) Resolve(ctx context.Context, did string) (*Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cacheKey := r.VerificationMethodType + " " + did
	if doc, ok := keyDocuments.get(cacheKey); ok {
		return doc, nil
	}
	doc, err := NewKeyDocument(did, r.VerificationMethodType)
	if err != nil {
		return nil, err
	}
	if doc.ID != did {
		// Base58 has one spelling per byte string, so this cannot happen
		// for a DID that decoded; keep the check so a resolver never
		// returns a document for another DID than the one asked for.
		return nil, fmt.Errorf("%w: %s is not the canonical spelling %s", ErrInvalidDID, quote(did), quote(doc.ID))
	}
	keyDocuments.put(cacheKey, doc)
	return doc, nil
}

// keyDocuments caches KeyResolver's documents, by method type and DID.
var keyDocuments boundedCache[*Document]
