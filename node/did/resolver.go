package did

import (
	"context"
	"fmt"
	"maps"
)

// Resolver resolves a DID (not a DID URL) to its document. A DID that does
// not exist is an error wrapping [ErrNotFound], never a nil document.
type Resolver interface {
	Resolve(ctx context.Context, did string) (*Document, error)
}

// MultiResolver dispatches on the DID method name.
type MultiResolver struct {
	methods map[string]Resolver
}

// NewMultiResolver returns a resolver that sends each DID to the resolver of
// its method ("key", "web"); methods is copied.
func NewMultiResolver(methods map[string]Resolver) *MultiResolver {
	return &MultiResolver{methods: maps.Clone(methods)}
}

// NewResolver returns the resolver credanchor uses: did:key (Multikey
// documents) and did:web configured by web.
func NewResolver(web WebConfig) (*MultiResolver, error) {
	w, err := NewWebResolver(web)
	if err != nil {
		return nil, err
	}
	return NewMultiResolver(map[string]Resolver{"key": KeyResolver{}, "web": w}), nil
}

// Resolve parses did and resolves it with its method's resolver. A malformed
// DID wraps [ErrInvalidDID], an unknown method [ErrUnsupportedMethod].
func (m *MultiResolver) Resolve(ctx context.Context, did string) (*Document, error) {
	d, err := Parse(did)
	if err != nil {
		return nil, err
	}
	r, ok := m.methods[d.Method]
	if !ok {
		return nil, fmt.Errorf("%w: did:%s", ErrUnsupportedMethod, d.Method)
	}
	doc, err := r.Resolve(ctx, did)
	if err != nil {
		return nil, err
	}
	if doc == nil || doc.ID != did {
		// The method resolvers check this; a plugged-in one might not.
		return nil, fmt.Errorf("%w: resolver for did:%s returned a document for another DID than %s", ErrInvalidDocument, d.Method, quote(did))
	}
	return doc, nil
}

// ResolveVerificationMethod resolves a verification method id (a DID URL with
// a fragment, as in a proof's verificationMethod) to the method, checking
// that its DID's document lists it under rel: AssertionMethod for a
// credential's proof, Authentication for a presentation's. Errors are those
// of [MultiResolver.Resolve] and [Document.VerificationMethod].
//
// The caller still checks that the method's Controller is the DID it expects
// (the credential's issuer, the presentation's holder).
func ResolveVerificationMethod(ctx context.Context, r Resolver, id string, rel Relationship) (*VerificationMethod, error) {
	u, err := ParseURL(id)
	if err != nil {
		return nil, err
	}
	if u.Fragment == "" {
		return nil, fmt.Errorf("%w: %s names a DID document, not a verification method (no #fragment)", ErrNotFound, quote(id))
	}
	doc, err := r.Resolve(ctx, u.DID.String())
	if err != nil {
		return nil, err
	}
	return doc.VerificationMethod(id, rel)
}
