package node

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"fmt"

	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/node/vcjwt"
)

// DIDKeys finds the keys of proofs by resolving their verification methods'
// DIDs (did:key, did:web). It implements both dataintegrity.KeyResolver and,
// through JWT, vcjwt.KeyResolver. A method must be listed under the
// relationship the proof's purpose names, and be controlled by the DID it
// belongs to.
type DIDKeys struct {
	// Resolver resolves DIDs. Required.
	Resolver did.Resolver
}

// NewDIDKeys returns the key finder of a verifier: did:key, and did:web as
// web configures it.
func NewDIDKeys(web did.WebConfig) (*DIDKeys, error) {
	r, err := did.NewResolver(web)
	if err != nil {
		return nil, fmt.Errorf("node: DID resolver: %w", err)
	}
	return &DIDKeys{Resolver: r}, nil
}

// method resolves a verification method under purpose and checks that its
// controller is its own DID.
func (k *DIDKeys) method(ctx context.Context, vm, purpose string) (*did.VerificationMethod, error) {
	u, err := did.ParseURL(vm)
	if err != nil {
		return nil, err
	}
	m, err := did.ResolveVerificationMethod(ctx, k.Resolver, vm, did.Relationship(purpose))
	if err != nil {
		return nil, err
	}
	if want := u.DID.String(); m.Controller != want {
		return nil, fmt.Errorf("%w: verification method %s is controlled by %s, not %s", did.ErrInvalidDocument, vm, m.Controller, want)
	}
	return m, nil
}

// ResolveKey returns the Ed25519 key of verification method vm, which must
// be listed under purpose ("assertionMethod", "authentication").
func (k *DIDKeys) ResolveKey(ctx context.Context, vm, purpose string) (ed25519.PublicKey, error) {
	m, err := k.method(ctx, vm, purpose)
	if err != nil {
		return nil, err
	}
	return m.Ed25519PublicKey()
}

// JWT returns a vcjwt.KeyResolver over the same DIDs: the kid must be a
// method of the issuer's DID, listed under assertionMethod for a credential
// and authentication for a presentation.
func (k *DIDKeys) JWT() vcjwt.KeyResolver {
	return vcjwt.KeyResolverFunc(func(ctx context.Context, kid, issuer string) (crypto.PublicKey, error) {
		rel := did.AssertionMethod
		if kind, ok := vcjwt.KindFromContext(ctx); ok && kind == vcjwt.KindPresentation {
			rel = did.Authentication
		}
		u, err := did.ParseURL(kid)
		if err != nil {
			return nil, err
		}
		if issuer != "" && u.DID.String() != issuer {
			return nil, fmt.Errorf("%w: kid %s is not a key of the issuer %s", did.ErrRelationship, kid, issuer)
		}
		m, err := k.method(ctx, kid, string(rel))
		if err != nil {
			return nil, err
		}
		return m.PublicKey()
	})
}
