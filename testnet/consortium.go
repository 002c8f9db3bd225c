package testnet

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/node/did"
)

// Consortium is a registry on a dev chain with one member, whose node key
// may anchor for it.
type Consortium struct {
	Registry common.Address
	Member   anchor.Member
	// MemberKey is the member's own key (the chain's first dev key); NodeKey
	// is the key its node anchors with (the second).
	MemberKey, NodeKey *ecdsa.PrivateKey
}

// ExampleIssuerKey is ExampleMember's credential signing key: an Ed25519
// key from a published seed, for tests only, never a secret.
var ExampleIssuerKey = ed25519.NewKeyFromSeed(func() []byte {
	s := sha256.Sum256([]byte("credanchor testnet example issuer"))
	return s[:]
}())

// ExampleMember is the member DeployConsortium registers. Its DID is the
// did:key of ExampleIssuerKey, so tests can sign its credentials.
var ExampleMember = anchor.Member{DID: did.NewDIDKey(ExampleIssuerKey.Public().(ed25519.PublicKey)), Name: "Example University"}

// DeployConsortium deploys a registry on chain with ExampleMember, keyed by
// the chain's first dev key, as its one member (threshold 1), and authorises
// the second dev key as its node key.
func DeployConsortium(ctx context.Context, chain Chain) (*Consortium, error) {
	keys := chain.Keys()
	c := &Consortium{Member: ExampleMember, MemberKey: keys[0], NodeKey: keys[1]}
	c.Member.Address = crypto.PubkeyToAddress(c.MemberKey.PublicKey)
	var err error
	if c.Registry, err = anchor.DeployRegistry(ctx, chain.Client(), c.MemberKey, []anchor.Member{c.Member}, 1); err != nil {
		return nil, err
	}
	if err := anchor.AuthorizeKey(ctx, chain.Client(), c.Registry, c.MemberKey, crypto.PubkeyToAddress(c.NodeKey.PublicKey)); err != nil {
		return nil, err
	}
	return c, nil
}
