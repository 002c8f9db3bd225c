package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/node/credential"
)

// Check names, as verification results report them.
const (
	CheckDigest    = "digest"
	CheckInclusion = "inclusion"
	CheckAnchored  = "anchored-on-chain"
	CheckMember    = "member"
)

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
	Checks   []Check     `json:"checks"`
	// Receipt is the receipt the verdict rests on: the one given, or the
	// node's own for a credential it anchored.
	Receipt *anchor.Receipt `json:"receipt,omitempty"`
	// Anchor is what the chain says, when it was reached.
	Anchor *AnchorFacts `json:"anchor,omitempty"`
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

// Verify checks a credential against the chain: its digest, its inclusion
// in an anchored batch (by the receipt given, or by the node's own record),
// the anchor on chain, and the member of this node's consortium that
// anchored it. Only an error of the node itself (its store, the chain RPC)
// is returned as an error; every verdict about the credential is a check.
func (n *Node) Verify(ctx context.Context, data []byte, form credential.Form, r *anchor.Receipt) (*Verification, error) {
	if r == nil {
		d, err := credential.Digest(data, form)
		if err == nil {
			own, err := n.Receipt(d)
			switch {
			case errors.Is(err, ErrNotFound):
				return failedInclusion(d, form, "no receipt given and this node has no record of the credential"), nil
			case errors.Is(err, ErrPending):
				return failedInclusion(d, form, "the credential is known to this node but not anchored yet"), nil
			case err != nil:
				return nil, err
			}
			r = own
		}
	}
	return Verify(ctx, n.cfg.Chain, n.cfg.Registry, data, form, r)
}

func failedInclusion(d [32]byte, form credential.Form, why string) *Verification {
	v := &Verification{Digest: d}
	v.pass(CheckDigest, "SHA-256 of the "+digestBasis(form)+" is "+merkle.Hash(d).String())
	v.fail(CheckInclusion, why)
	return v
}

// Verify checks a credential and its receipt with nothing but a chain RPC:
// no node and no issuer. registry is the consortium's registry; zero means
// the one the receipt names. Only a failure to reach the chain is an error;
// every verdict about the credential is a check.
func Verify(ctx context.Context, chain anchor.ChainReader, registryAddr common.Address, data []byte, form credential.Form, r *anchor.Receipt) (*Verification, error) {
	v := &Verification{}
	d, err := credential.Digest(data, form)
	if err != nil {
		v.fail(CheckDigest, err.Error())
		return v, nil
	}
	digest := merkle.Hash(d)
	v.Digest = digest
	v.pass(CheckDigest, "SHA-256 of the "+digestBasis(form)+" is "+digest.String())
	if r == nil {
		v.fail(CheckInclusion, "no receipt")
		return v, nil
	}
	v.Receipt = r
	if r.Digest != digest {
		v.fail(CheckInclusion, fmt.Sprintf("the receipt is for digest %s, not this credential's %s", r.Digest, digest))
		return v, nil
	}
	if err := r.Check(); err != nil {
		v.fail(CheckInclusion, err.Error())
		return v, nil
	}
	v.pass(CheckInclusion, fmt.Sprintf("leaf %d of %d leads to root %s", r.LeafIndex, r.TreeSize, r.Root))

	if registryAddr == (common.Address{}) {
		registryAddr = r.Contract
	}
	if r.Contract != registryAddr {
		v.fail(CheckAnchored, fmt.Sprintf("the receipt names registry %s, not the consortium's %s", r.Contract, registryAddr))
		return v, nil
	}
	onChain, err := anchor.VerifyReceipt(ctx, chain, r, digest)
	switch {
	case errors.Is(err, anchor.ErrNotAnchored), errors.Is(err, anchor.ErrWrongChain),
		errors.Is(err, anchor.ErrMemberMismatch), errors.Is(err, anchor.ErrMalformedReceipt):
		v.fail(CheckAnchored, err.Error())
		return v, nil
	case err != nil:
		return nil, fmt.Errorf("node: verify on chain: %w", err)
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
		return nil, err
	}
	facts.MemberDID, facts.MemberName, facts.MemberActive = info.Did, info.Name, info.Active
	if info.Did == "" {
		v.fail(CheckMember, fmt.Sprintf("%s is not a consortium member", facts.Member))
		return v, nil
	}
	state := "an active member"
	if !info.Active {
		state = "a former member (anchors made while it was a member stay valid)"
	}
	v.pass(CheckMember, fmt.Sprintf("anchored by %s (%s, %s), %s", info.Name, info.Did, facts.Member, state))
	v.Verified = true
	return v, nil
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
