package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/node/vc"
	"github.com/credanchor/credanchor/node/vcjwt"
)

// Check names of a presentation, reported before those of its credentials.
const (
	// CheckPresentation: the presentation is well formed (VCDM 2.0).
	CheckPresentation = "presentation"
	// CheckHolderProof: the holder's DID signed the presentation, with a key
	// listed for authentication.
	CheckHolderProof = "holder-proof"
	// CheckChallenge: the proof answers the verifier's challenge (and
	// domain), and the challenge was not used before.
	CheckChallenge = "challenge"
	// CheckHolderIsSubject: every credential is about the holder.
	CheckHolderIsSubject = "holder-is-subject"
)

// presentationChecks is every check a verified presentation passes, before
// its credentials' own.
var presentationChecks = []string{CheckPresentation, CheckHolderProof, CheckChallenge, CheckHolderIsSubject}

// Presentation properties that carry, as JSON literals (PresentationContext
// defines them), what a verifier needs besides a chain RPC: the receipts of
// the credentials, and their status list credentials as the holder last
// fetched them. A verifier checks each list against the hash its issuer
// anchored last, so a list saved before a revocation is caught as stale.
const (
	ReceiptsProperty    = "credanchorReceipts"
	StatusListsProperty = "credanchorStatusLists"
)

// PresentationContext is the inline @context entry that defines
// ReceiptsProperty and StatusListsProperty. Typing them @json keeps them
// opaque literals to JSON-LD: the hashes of a path stay in order, and no
// receipt field needs a vocabulary of its own.
var PresentationContext = map[string]any{
	ReceiptsProperty:    map[string]any{"@id": "https://w3id.org/credanchor#receipts", "@type": "@json"},
	StatusListsProperty: map[string]any{"@id": "https://w3id.org/credanchor#statusLists", "@type": "@json"},
}

// maxPresentedStatusLists bounds the status lists a presentation carries.
const maxPresentedStatusLists = 16

// maxPresentedCredentials bounds the credentials of one presentation: each
// costs a signature check and chain calls.
const maxPresentedCredentials = 32

// PresentationVerification is the verdict on a presentation: its own checks
// and each credential's verification.
type PresentationVerification struct {
	Verified bool `json:"verified"`
	// Holder is the presentation's holder, when it names one.
	Holder      string          `json:"holder,omitempty"`
	Checks      []Check         `json:"checks"`
	Credentials []*Verification `json:"credentials"`
}

// PresentationOptions say what the verifier expects of a presentation.
type PresentationOptions struct {
	// Challenge is the challenge the holder's proof must answer. Empty
	// means the proof's own, which UseChallenge must then accept: a proof
	// without a challenge always fails. Node.VerifyPresentation accepts any
	// challenge given here once, and without one only a challenge the node
	// issued.
	Challenge string
	// Domain, when set, must be the proof's domain.
	Domain string
	// UseChallenge, when set, is asked to accept the challenge, once the
	// holder's proof verified; a replayed or unknown challenge fails the
	// challenge check with its error.
	UseChallenge func(challenge string) error
	// Keys, Now and Status are as in VerifyOptions.
	Keys   *DIDKeys
	Now    time.Time
	Status *StatusChecker
}

// PresentationRequest is a presentation to make: the holder's key signs the
// credentials and their receipts over the verifier's challenge.
type PresentationRequest struct {
	// Key is the holder's Ed25519 key; its did:key is the holder.
	Key ed25519.PrivateKey
	// Credentials are the credentials (JSON objects or VC-JWTs), each with
	// its receipt (nil if none).
	Credentials []PresentedCredential
	// Challenge and Domain are the verifier's; Challenge is required.
	Challenge, Domain string
	// StatusLists are status list credentials of the credentials, as
	// fetched from their URLs, for a verifier that cannot reach them.
	StatusLists [][]byte
	// Cryptosuite is dataintegrity.CryptosuiteJCS (the default) or
	// CryptosuiteRDFC.
	Cryptosuite string
	// Now is the proof's creation time; zero means now.
	Now time.Time
}

// PresentedCredential is a credential and its receipt.
type PresentedCredential struct {
	Data    []byte
	Form    credential.Form
	Receipt *anchor.Receipt
}

// Present makes a Verifiable Presentation (VCDM 2.0) whose holder is the
// did:key of req.Key, carrying the credentials and their receipts, signed
// for authentication over the challenge and domain.
func Present(req PresentationRequest) ([]byte, error) {
	if req.Challenge == "" {
		return nil, errors.New("node: a presentation needs the verifier's challenge")
	}
	if len(req.Credentials) == 0 || len(req.Credentials) > maxPresentedCredentials {
		return nil, fmt.Errorf("node: a presentation carries 1 to %d credentials, not %d", maxPresentedCredentials, len(req.Credentials))
	}
	holder, err := NewDIDKeyIssuer(req.Key, "")
	if err != nil {
		return nil, err
	}
	creds := make([]any, len(req.Credentials))
	var receipts []*anchor.Receipt
	for i, pc := range req.Credentials {
		switch pc.Form {
		case credential.FormJWT:
			creds[i] = map[string]any{
				"@context": vc.ContextV2,
				"id":       "data:application/vc+jwt," + strings.TrimSpace(string(pc.Data)),
				"type":     vc.TypeEnvelopedVerifiableCredential,
			}
		default:
			if !json.Valid(pc.Data) {
				return nil, fmt.Errorf("node: credential %d is not JSON", i)
			}
			creds[i] = json.RawMessage(pc.Data)
		}
		if pc.Receipt != nil {
			receipts = append(receipts, pc.Receipt)
		}
	}
	vp := map[string]any{
		"@context":             []any{vc.ContextV2},
		"type":                 []string{vc.TypeVerifiablePresentation},
		"holder":               holder.DID,
		"verifiableCredential": creds,
	}
	if len(req.StatusLists) > maxPresentedStatusLists {
		return nil, fmt.Errorf("node: a presentation carries at most %d status lists", maxPresentedStatusLists)
	}
	if len(receipts) > 0 || len(req.StatusLists) > 0 {
		vp["@context"] = []any{vc.ContextV2, PresentationContext}
	}
	if len(receipts) > 0 {
		vp[ReceiptsProperty] = receipts
	}
	if len(req.StatusLists) > 0 {
		lists := make([]json.RawMessage, len(req.StatusLists))
		for i, l := range req.StatusLists {
			if !json.Valid(l) {
				return nil, fmt.Errorf("node: status list %d is not JSON", i)
			}
			lists[i] = l
		}
		vp[StatusListsProperty] = lists
	}
	doc, err := json.Marshal(vp)
	if err != nil {
		return nil, err
	}
	opts := dataintegrity.Options{
		VerificationMethod: holder.VerificationMethod,
		Purpose:            string(did.Authentication),
		Created:            req.Now,
		Challenge:          req.Challenge,
		Domain:             req.Domain,
	}
	switch req.Cryptosuite {
	case "", dataintegrity.CryptosuiteJCS:
		return dataintegrity.SignJCS(doc, req.Key, opts)
	case dataintegrity.CryptosuiteRDFC:
		return dataintegrity.SignRDFC(doc, req.Key, opts)
	}
	return nil, fmt.Errorf("node: unknown cryptosuite %q", req.Cryptosuite)
}

// VerifyPresentation checks a presentation with nothing but a chain RPC: its
// structure, the holder's proof over the challenge, that each credential is
// about the holder, and each credential fully (as Verify does) against the
// receipt the presentation carries for it. Only a failure to reach the chain
// is an error.
func VerifyPresentation(ctx context.Context, chain anchor.ChainReader, registryAddr common.Address, data []byte, opts PresentationOptions) (*PresentationVerification, error) {
	return verifyPresentation(ctx, chain, registryAddr, data, opts, nil)
}

// VerifyPresentation is VerifyPresentation with the node's chain and
// registry, its challenges, and its own receipts for credentials the
// presentation carries none for.
func (n *Node) VerifyPresentation(ctx context.Context, data []byte, opts PresentationOptions) (*PresentationVerification, error) {
	if opts.Keys == nil {
		opts.Keys = n.keys
	}
	if opts.Status == nil {
		opts.Status = n.status
	}
	if opts.UseChallenge == nil {
		// A challenge the verifier states is its own to have chosen; one
		// taken from the proof must be one this node issued.
		use := n.challenges.Use
		if opts.Challenge != "" {
			use = n.challenges.UseVerifiers
		}
		opts.UseChallenge = func(c string) error { return use(c, time.Now()) }
	}
	own := func(d merkle.Hash) (*anchor.Receipt, error) {
		r, err := n.Receipt(d)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrPending) {
			return nil, nil
		}
		return r, err
	}
	return verifyPresentation(ctx, n.verifyChain, n.cfg.Registry, data, opts, own)
}

// Challenges returns the node's presentation challenges.
func (n *Node) Challenges() *Challenges { return n.challenges }

// presented is one credential of a presentation, as found in it.
type presented struct {
	data []byte
	form credential.Form
	err  error // why it cannot be read
}

func verifyPresentation(ctx context.Context, chain anchor.ChainReader, registryAddr common.Address, data []byte, opts PresentationOptions, own func(merkle.Hash) (*anchor.Receipt, error)) (*PresentationVerification, error) {
	if opts.Keys == nil {
		k, err := defaultKeys()
		if err != nil {
			return nil, err
		}
		opts.Keys = k
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	pv := &PresentationVerification{Credentials: []*Verification{}}
	fail := func(check, detail string) { pv.Checks = append(pv.Checks, Check{Check: check, Detail: detail}) }
	pass := func(check, detail string) {
		pv.Checks = append(pv.Checks, Check{Check: check, OK: true, Detail: detail})
	}
	notChecked := "not checked: the presentation does not parse"

	p, err := vc.ParsePresentation(data)
	var (
		creds    []presented
		receipts map[merkle.Hash]*anchor.Receipt
		lists    map[string][]byte
	)
	if err == nil {
		creds, receipts, lists, err = presentedParts(data)
	}
	if err != nil {
		fail(CheckPresentation, vc.CodeParsing+": "+err.Error())
		for _, c := range presentationChecks[1:] {
			fail(c, notChecked)
		}
		return pv, nil
	}
	pv.Holder = p.Holder()
	switch probs := p.Check(vc.CheckOptions{}); {
	case len(probs) > 0:
		fail(CheckPresentation, problemsDetail(probs))
	case len(creds) > maxPresentedCredentials:
		fail(CheckPresentation, fmt.Sprintf("the presentation carries %d credentials, more than %d", len(creds), maxPresentedCredentials))
		creds = creds[:maxPresentedCredentials]
	default:
		pass(CheckPresentation, fmt.Sprintf("a presentation by %s of %s", orNone(pv.Holder), plural(uint64(len(creds)), "credential")))
	}

	// The holder's proof, and the challenge it answers.
	proofOK := false
	proofs := p.Proof()
	switch {
	case pv.Holder == "":
		fail(CheckHolderProof, "the presentation names no holder")
	case !isDID(pv.Holder):
		fail(CheckHolderProof, fmt.Sprintf("the holder %q is not a DID", pv.Holder))
	case len(proofs) == 0:
		fail(CheckHolderProof, "the presentation has no proof")
	case len(proofs) > 1:
		fail(CheckHolderProof, fmt.Sprintf("the presentation has %d proofs; a holder signs once", len(proofs)))
	default:
		vs, err := dataintegrity.Verify(ctx, data, opts.Keys, dataintegrity.VerifyOptions{Purpose: string(did.Authentication), Now: opts.Now})
		switch {
		case err != nil:
			fail(CheckHolderProof, vc.CodeCryptographicSecurity+": "+err.Error())
		case !strings.HasPrefix(vs[0].VerificationMethod, pv.Holder+"#"):
			fail(CheckHolderProof, fmt.Sprintf("signed with %s, which is not a key of the holder %s", vs[0].VerificationMethod, pv.Holder))
		default:
			proofOK = true
			pass(CheckHolderProof, fmt.Sprintf("signed by the holder with %s (%s)", vs[0].VerificationMethod, vs[0].Cryptosuite))
		}
	}
	if proofOK {
		challenge, _ := proofs[0]["challenge"].(string)
		domain, _ := proofs[0]["domain"].(string)
		switch {
		case challenge == "":
			fail(CheckChallenge, "the holder's proof answers no challenge: it could be a replay")
		case opts.Challenge != "" && challenge != opts.Challenge:
			fail(CheckChallenge, fmt.Sprintf("the proof answers challenge %q, not the verifier's %q", truncate(challenge, 64), truncate(opts.Challenge, 64)))
		case opts.Domain != "" && domain != opts.Domain:
			fail(CheckChallenge, fmt.Sprintf("the proof is for domain %q, not the verifier's %q", truncate(domain, 128), truncate(opts.Domain, 128)))
		default:
			var err error
			if opts.UseChallenge != nil {
				err = opts.UseChallenge(challenge)
			}
			if err != nil {
				fail(CheckChallenge, err.Error())
			} else {
				detail := "answers the verifier's challenge"
				if domain != "" {
					detail += " for " + domain
				}
				pass(CheckChallenge, detail)
			}
		}
	} else {
		fail(CheckChallenge, "not checked: the holder's proof does not verify")
	}

	// Each credential: about the holder, and verified in full, with the
	// status lists the presentation carries where the chain vouches for
	// them.
	status := opts.Status
	if status == nil {
		if status, err = defaultStatus(); err != nil {
			return nil, err
		}
	}
	if len(lists) > 0 {
		status = status.withLists(lists)
	}
	var notSubject []string
	for i, pc := range creds {
		v := &Verification{}
		switch {
		case pc.err != nil:
			v.fail(CheckStructure, pc.err.Error())
		default:
			var r *anchor.Receipt
			if d, err := credential.Digest(pc.data, pc.form); err == nil {
				r = receipts[merkle.Hash(d)]
				if r == nil && own != nil {
					if r, err = own(merkle.Hash(d)); err != nil {
						return nil, err
					}
				}
			}
			v, err = verify(ctx, chain, registryAddr, pc.data, pc.form, r, VerifyOptions{Keys: opts.Keys, Now: opts.Now, Status: status}, "the presentation carries no receipt for this credential's digest")
			if err != nil {
				return nil, err
			}
			if ids := subjectIDs(pc.data, pc.form); pv.Holder == "" || len(ids) == 0 || slices.ContainsFunc(ids, func(id string) bool { return id != pv.Holder }) {
				notSubject = append(notSubject, fmt.Sprintf("credential %d is about %s", i, orNone(strings.Join(ids, ", "))))
			}
		}
		pv.Credentials = append(pv.Credentials, v)
	}
	// A roll-up's components, when they are presented with it.
	byDigest := make(map[merkle.Hash]bool, len(pv.Credentials))
	for _, v := range pv.Credentials {
		byDigest[v.Digest] = byDigest[v.Digest] || v.Verified
	}
	for i, pc := range creds {
		for _, d := range evidenceDigests(pc.data, pc.form) {
			verified, presented := byDigest[d]
			pv.Credentials[i].Components = append(pv.Credentials[i].Components, ComponentRef{Digest: d, Presented: presented, Verified: verified})
		}
	}
	switch {
	case len(creds) == 0:
		fail(CheckHolderIsSubject, "the presentation carries no credential to prove")
	case len(notSubject) > 0:
		fail(CheckHolderIsSubject, fmt.Sprintf("the holder is %s, but %s", orNone(pv.Holder), strings.Join(notSubject, "; ")))
	default:
		pass(CheckHolderIsSubject, "every credential's subject is the holder")
	}

	pv.Verified = len(pv.Checks) == len(presentationChecks) && len(pv.Credentials) > 0
	for _, c := range pv.Checks {
		pv.Verified = pv.Verified && c.OK
	}
	for _, v := range pv.Credentials {
		pv.Verified = pv.Verified && v.Verified
	}
	return pv, nil
}

// presentedParts finds a presentation's credentials, as the bytes they were
// signed as (an embedded one's digest is over its own JSON), its receipts
// by digest and its status lists by id.
func presentedParts(data []byte) ([]presented, map[merkle.Hash]*anchor.Receipt, map[string][]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, nil, nil, err
	}
	var out []presented
	if raw, ok := top["verifiableCredential"]; ok {
		entries := []json.RawMessage{raw}
		if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
			if err := json.Unmarshal(t, &entries); err != nil {
				return nil, nil, nil, err
			}
		}
		for _, e := range entries {
			out = append(out, presentedCredential(e))
		}
	}
	receipts := make(map[merkle.Hash]*anchor.Receipt)
	if raw, ok := top[ReceiptsProperty]; ok {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, nil, nil, fmt.Errorf("%s is not an array of receipts", ReceiptsProperty)
		}
		for i, e := range list {
			r, err := anchor.ParseReceipt(e)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s[%d]: %w", ReceiptsProperty, i, err)
			}
			receipts[r.Digest] = r
		}
	}
	lists := make(map[string][]byte)
	if raw, ok := top[StatusListsProperty]; ok {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil || len(list) > maxPresentedStatusLists {
			return nil, nil, nil, fmt.Errorf("%s is not an array of at most %d status list credentials", StatusListsProperty, maxPresentedStatusLists)
		}
		for i, e := range list {
			var head struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(e, &head); err != nil || head.ID == "" {
				return nil, nil, nil, fmt.Errorf("%s[%d] is not a status list credential with an id", StatusListsProperty, i)
			}
			lists[head.ID] = e
		}
	}
	return out, receipts, lists, nil
}

// presentedCredential reads one verifiableCredential entry: an embedded
// credential, or an EnvelopedVerifiableCredential holding a VC-JWT.
func presentedCredential(raw json.RawMessage) presented {
	var env struct {
		Type any    `json:"type"`
		ID   string `json:"id"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return presented{err: fmt.Errorf("%s: a credential entry is not an object", vc.CodeParsing)}
	}
	types, _ := env.Type.([]any)
	if env.Type == vc.TypeEnvelopedVerifiableCredential || slices.Contains(types, any(vc.TypeEnvelopedVerifiableCredential)) {
		tok, err := vcjwt.ParseEnvelope(env.ID)
		if err != nil {
			return presented{err: fmt.Errorf("%s: enveloped credential: %w", vc.CodeParsing, err)}
		}
		return presented{data: []byte(tok), form: credential.FormJWT}
	}
	return presented{data: raw, form: credential.FormJSON}
}

// subjectIDs returns the ids of a credential's subjects.
func subjectIDs(data []byte, form credential.Form) []string {
	credJSON := data
	if form == credential.FormJWT {
		tok, err := vcjwt.Parse(strings.TrimSpace(string(data)))
		if err != nil {
			return nil
		}
		if credJSON, err = tok.Credential(); err != nil {
			return nil
		}
	}
	c, err := vc.ParseCredential(credJSON)
	if err != nil {
		return nil
	}
	var ids []string
	for _, s := range c.CredentialSubject() {
		id, _ := s["id"].(string)
		ids = append(ids, id)
	}
	return ids
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
