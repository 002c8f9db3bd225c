package did_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/credanchor/credanchor/node/did"
)

// A verifier resolves a proof's verificationMethod under the relationship its
// proofPurpose claims, then uses the key.
func ExampleResolveVerificationMethod() {
	r, err := did.NewResolver(did.WebConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	const vm = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
	m, err := did.ResolveVerificationMethod(context.Background(), r, vm, did.AssertionMethod)
	if err != nil {
		fmt.Println(err)
		return
	}
	pub, err := m.Ed25519PublicKey()
	fmt.Println(m.Type, m.Controller, len(pub), err)

	_, err = did.ResolveVerificationMethod(context.Background(), r, vm, did.KeyAgreement)
	fmt.Println(errors.Is(err, did.ErrRelationship))
	// Output:
	// Multikey did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2 32 <nil>
	// true
}

func ExampleWebURL() {
	for _, d := range []string{"did:web:example.com", "did:web:example.com:user:alice", "did:web:localhost%3A8443"} {
		u, _ := did.WebURL(d)
		fmt.Println(u)
	}
	// Output:
	// https://example.com/.well-known/did.json
	// https://example.com/user/alice/did.json
	// https://localhost:8443/.well-known/did.json
}
