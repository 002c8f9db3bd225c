package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/did"
)

// Check names, as verification results report them, in the order they
// are made.
const (
	CheckDigest    = "digest"
	CheckStructure = "structure"
	CheckProof     = "proof"
	CheckIssuer    = "issuer"
	CheckValidity  = "validity"
	CheckInclusion = "inclusion"
	CheckAnchored  = "anchored-on-chain"
	// CheckMemberAtAnchor: the member that anchored the root is the
	// credential's issuer (its registered DID is the issuer's).
	CheckMemberAtAnchor = "member-at-anchor"
)

// allChecks is every check a verified credential passes.
var allChecks = []string{CheckDigest, CheckStructure, CheckProof, CheckIssuer, CheckValidity, CheckInclusion, CheckAnchored, CheckMemberAtAnchor}

// Check is one step of a verification.
type Check struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Verification is the node's verdict on a credential.
type Verification struct {
	Verified bool        `json:"verified"`
	Digest   merkle.Hash `json:"digest"`
	// Issuer is the credential's issuer id, when it has one.
	Issuer string  `json:"issuer,omitempty"`
	Checks []Check `json:"checks"`
	// Receipt is the receipt the verdict rests on: the one given, or the
	// node's own for a credential it anchored.
	Receipt *anchor.Receipt `json:"receipt,omitempty"`
	// Anchor is what the chain says, when it was reached.
	Anchor *AnchorFacts `json:"anchor,omitempty"`
	// Status is what each of the credential's status entries says, for a
	// credential that has a credentialStatus.
	Status []StatusResult `json:"status,omitempty"`
	// Components are the component credentials a roll-up names as
	// evidence, and whether the presentation that carries it verified them.
	Components []ComponentRef `json:"components,omitempty"`
}

// AnchorFacts are the chain's facts about an anchored root.
type AnchorFacts struct {
	Root          merkle.Hash    `json:"root"`
	BlockNumber   uint64         `json:"blockNumber"`
	BlockTime     time.Time      `json:"blockTime"`
	Confirmations uint64         `json:"confirmations"`
	Member        common.Address `json:"member"`
	MemberDID     string         `json:"memberDid,omitempty"`
	MemberName    string         `json:"memberName,omitempty"`
	MemberActive  bool           `json:"memberActive"`
}

// VerifyOptions tune VerifyWith. The zero value verifies at the current time
// with did:key and did:web resolution.
type VerifyOptions struct {
	// Keys finds the keys of proofs; nil means did:key and did:web with the
	// default did.WebConfig (public addresses only).
	Keys *DIDKeys
	// Now is the time validity periods are checked at; zero means now.
	Now time.Time
	// Status reads status lists; nil means one with the zero StatusConfig
	// (public addresses, the specification's minimum length).
	Status *StatusChecker
	// digest is the credential's digest when the caller has it already
	// (Node.Verify, which looks its own receipt up by it): hashing the
	// canonical form again was a few percent of a verification.
	digest *merkle.Hash
}

// defaultKeys is the key finder of VerifyOptions' zero value.
var defaultKeys = sync.OnceValues(func() (*DIDKeys, error) { return NewDIDKeys(did.WebConfig{}) })

// Verify checks a credential: its digest, its structure, its proof, that
// its issuer's DID signed it, its validity period, its inclusion in an
// anchored batch (by the receipt given, or by the node's own record), the
// anchor on chain, and that the consortium member that anchored it is the
// issuer. Only an error of the node itself (its store, the chain RPC) is
// returned as an error; every verdict about the credential is a check.
func (n *Node) Verify(ctx context.Context, data []byte, form credential.Form, r *anchor.Receipt) (*Verification, error) {
	opts := VerifyOptions{Keys: n.keys, Status: n.status}
	d, err := credential.Digest(data, form)
	if err == nil {
		opts.digest = (*merkle.Hash)(&d)
	}
	if r == nil && err == nil {
		own, err := n.Receipt(d)
		switch {
		case errors.Is(err, ErrNotFound):
			return verify(ctx, n.verifyChain, n.cfg.Registry, data, form, nil, opts, "no receipt given and this node has no record of the credential")
		case errors.Is(err, ErrPending):
			return verify(ctx, n.verifyChain, n.cfg.Registry, data, form, nil, opts, "the credential is known to this node but not anchored yet")
		case err != nil:
			return nil, err
		}
		r = own
	}
	return verify(ctx, n.verifyChain, n.cfg.Registry, data, form, r, opts, "no receipt")
}

// Verify checks a credential and its receipt with nothing but a chain RPC
// (and, for a did:web issuer, its DID document): no node and no issuer.
// registry is the consortium's registry; zero means the one the receipt
// names. It is VerifyWith with the zero VerifyOptions.
func Verify(ctx context.Context, chain anchor.ChainReader, registryAddr common.Address, data []byte, form credential.Form, r *anchor.Receipt) (*Verification, error) {
	return VerifyWith(ctx, chain, registryAddr, data, form, r, VerifyOptions{})
}

// VerifyWith is Verify with options. Only a failure to reach the chain is an
// error; every verdict about the credential is a check.
func VerifyWith(ctx context.Context, chain anchor.ChainReader, registryAddr common.Address, data []byte, form credential.Form, r *anchor.Receipt, opts VerifyOptions) (*Verification, error) {
	return verify(ctx, chain, registryAddr, data, form, r, opts, "no receipt")
}

func verify(ctx context.Context, chain anchor.ChainReader, registryAddr common.Address, data []byte, form credential.Form, r *anchor.Receipt, opts VerifyOptions, noReceipt string) (*Verification, error) {
	if opts.Keys == nil {
		k, err := defaultKeys()
		if err != nil {
			return nil, err
		}
		opts.Keys = k
	}
	if opts.Status == nil {
		sc, err := defaultStatus()
		if err != nil {
			return nil, err
		}
		opts.Status = sc
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	v := &Verification{}
	digest := opts.digest
	if digest == nil {
		d, err := credential.Digest(data, form)
		if err != nil {
			v.fail(CheckDigest, err.Error())
			return v, nil
		}
		digest = (*merkle.Hash)(&d)
	}
	v.Digest = *digest
	v.pass(CheckDigest, "SHA-256 of the "+digestBasis(form)+" is "+v.Digest.String())
	sec := checkCredential(ctx, opts.Keys, data, form, opts.Now)
	v.Checks = append(v.Checks, sec.checks...)
	v.Issuer = sec.issuer
	if err := v.anchorChecks(ctx, chain, registryAddr, r, noReceipt, sec.signer); err != nil {
		return nil, err
	}
	var member common.Address
	if v.passed(CheckMemberAtAnchor) {
		member = v.Anchor.Member
		if registryAddr == (common.Address{}) {
			registryAddr = r.Contract
		}
	}
	if err := v.statusCheck(ctx, opts.Status, opts.Keys, chain, registryAddr, sec.cred, data, form, member, opts.Now); err != nil {
		return nil, err
	}
	want := len(allChecks)
	if v.has(CheckStatus) {
		want++
	}
	v.Verified = len(v.Checks) == want
	for _, c := range v.Checks {
		v.Verified = v.Verified && c.OK
	}
	return v, nil
}

// anchorChecks adds the inclusion, anchored-on-chain and member-at-anchor
// checks, stopping at the first that fails. signer is the DID whose key
// signed the credential ("" when none did).
func (v *Verification) anchorChecks(ctx context.Context, chain anchor.ChainReader, registryAddr common.Address, r *anchor.Receipt, noReceipt, signer string) error {
	digest := v.Digest
	if r == nil {
		v.fail(CheckInclusion, noReceipt)
		return nil
	}
	v.Receipt = r
	if r.Digest != digest {
		v.fail(CheckInclusion, fmt.Sprintf("the receipt is for digest %s, not this credential's %s", r.Digest, digest))
		return nil
	}
	if err := r.Check(); err != nil {
		v.fail(CheckInclusion, err.Error())
		return nil
	}
	v.pass(CheckInclusion, fmt.Sprintf("leaf %d of %d leads to root %s", r.LeafIndex, r.TreeSize, r.Root))

	if registryAddr == (common.Address{}) {
		registryAddr = r.Contract
	}
	if r.Contract != registryAddr {
		v.fail(CheckAnchored, fmt.Sprintf("the receipt names registry %s, not the consortium's %s", r.Contract, registryAddr))
		return nil
	}
	onChain, err := anchor.VerifyReceipt(ctx, chain, r, digest)
	switch {
	case errors.Is(err, anchor.ErrNotAnchored), errors.Is(err, anchor.ErrWrongChain),
		errors.Is(err, anchor.ErrMemberMismatch), errors.Is(err, anchor.ErrMalformedReceipt):
		v.fail(CheckAnchored, err.Error())
		return nil
	case err != nil:
		return fmt.Errorf("node: verify on chain: %w", err)
	}
	facts := &AnchorFacts{
		Root:          onChain.Root,
		BlockNumber:   onChain.BlockNumber,
		BlockTime:     time.Unix(int64(onChain.BlockTime), 0).UTC(),
		Confirmations: onChain.Confirmations,
		Member:        onChain.Member,
	}
	v.Anchor = facts
	v.pass(CheckAnchored, fmt.Sprintf("root anchored in block %d at %s, %s",
		facts.BlockNumber, facts.BlockTime.Format(time.RFC3339), plural(facts.Confirmations, "confirmation")))

	info, err := memberInfo(ctx, chain, registryAddr, facts.Member)
	if err != nil {
		return err
	}
	facts.MemberDID, facts.MemberName, facts.MemberActive = info.Did, info.Name, info.Active
	switch {
	case info.Did == "":
		v.fail(CheckMemberAtAnchor, fmt.Sprintf("%s is not a consortium member", facts.Member))
		return nil
	case signer == "":
		v.fail(CheckMemberAtAnchor, fmt.Sprintf("anchored by %s (%s), but no issuer DID signed the credential", info.Name, info.Did))
		return nil
	case info.Did != signer:
		v.fail(CheckMemberAtAnchor, fmt.Sprintf("anchored by %s (%s), but signed by %s: not a credential of the member that anchored it", info.Name, info.Did, signer))
		return nil
	}
	state := "an active member"
	if !info.Active {
		state = "a former member (anchors made while it was a member stay valid)"
	}
	v.pass(CheckMemberAtAnchor, fmt.Sprintf("anchored by its issuer %s (%s, %s), %s", info.Name, info.Did, facts.Member, state))
	return nil
}

func memberInfo(ctx context.Context, chain anchor.ChainReader, registryAddr, member common.Address) (registry.MemberInfoOutput, error) {
	reg := registry.NewRegistry()
	out, err := chain.CallContract(ctx, callMsg(registryAddr, reg.PackMemberInfo(member)), nil)
	if err != nil {
		return registry.MemberInfoOutput{}, fmt.Errorf("node: memberInfo: %w", err)
	}
	return reg.UnpackMemberInfo(out)
}

func digestBasis(f credential.Form) string {
	if f == credential.FormJWT {
		return "VC-JWT compact serialisation"
	}
	return "credential's JCS (RFC 8785) form"
}

// passed reports whether check was made and passed.
func (v *Verification) passed(check string) bool {
	for _, c := range v.Checks {
		if c.Check == check {
			return c.OK
		}
	}
	return false
}

// has reports whether check was made.
func (v *Verification) has(check string) bool {
	for _, c := range v.Checks {
		if c.Check == check {
			return true
		}
	}
	return false
}

func (v *Verification) pass(check, detail string) {
	v.Checks = append(v.Checks, Check{Check: check, OK: true, Detail: detail})
}

func (v *Verification) fail(check, detail string) {
	v.Checks = append(v.Checks, Check{Check: check, OK: false, Detail: detail})
}

func plural(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
