package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/node/jsonld"
	"github.com/credanchor/credanchor/node/vc"
	"github.com/credanchor/credanchor/node/vcjwt"
	"github.com/credanchor/credanchor/store"
)

var (
	// ErrNoIssuer: the node has no issuer identity (Config.Issuer is nil).
	ErrNoIssuer = errors.New("node: this node has no issuer identity and cannot issue")
	// ErrIssuerMismatch: a credential to issue names another issuer than
	// this node's institution.
	ErrIssuerMismatch = errors.New("node: the credential names another issuer")
	// ErrUnsupportedFormat: an issue request asks for a format or
	// cryptosuite the node does not sign with.
	ErrUnsupportedFormat = errors.New("node: unsupported credential format")
	// ErrInvalidCredential is wrapped by *CredentialError.
	ErrInvalidCredential = errors.New("node: invalid credential")
	// ErrNotOwnCredential: with Config.RequireSignedSubmissions, a submitted
	// credential whose proof does not verify or whose signer is not this
	// node's institution.
	ErrNotOwnCredential = errors.New("node: not a credential signed by this node's institution")
)

// CredentialError is a credential that fails the VC Data Model (or Open
// Badges 3.0) structural checks; it wraps ErrInvalidCredential.
type CredentialError struct {
	Problems []vc.Problem
}

func (e *CredentialError) Error() string {
	return "node: invalid credential: " + problemsDetail(e.Problems)
}

// Unwrap returns ErrInvalidCredential.
func (e *CredentialError) Unwrap() error { return ErrInvalidCredential }

// Code is the VC error code of the first problem.
func (e *CredentialError) Code() string {
	if len(e.Problems) == 0 {
		return vc.CodeMalformedValue
	}
	return e.Problems[0].Code
}

// IssuerIdentity is an institution's signing identity: its DID, the
// verification method (listed under the DID's assertionMethod) whose key
// signs, and the name put in the issuer profile.
type IssuerIdentity struct {
	DID                string
	VerificationMethod string
	Key                ed25519.PrivateKey
	Name               string
}

// NewDIDKeyIssuer returns the did:key identity of an Ed25519 key: DID
// did:key:z6Mk…, verification method did:key:z6Mk…#z6Mk….
func NewDIDKeyIssuer(key ed25519.PrivateKey, name string) (*IssuerIdentity, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("node: issuer key: got %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	pub := key.Public().(ed25519.PublicKey)
	d := did.NewDIDKey(pub)
	return &IssuerIdentity{DID: d, VerificationMethod: d + "#" + did.EncodeMultikeyEd25519(pub), Key: key, Name: name}, nil
}

// check validates an identity; nil is valid (no identity).
func (id *IssuerIdentity) check() error {
	if id == nil {
		return nil
	}
	if len(id.Key) != ed25519.PrivateKeySize {
		return fmt.Errorf("node: Config.Issuer.Key: got %d bytes, want %d", len(id.Key), ed25519.PrivateKeySize)
	}
	if _, err := did.Parse(id.DID); err != nil {
		return fmt.Errorf("node: Config.Issuer.DID: %w", err)
	}
	u, err := did.ParseURL(id.VerificationMethod)
	if err != nil || u.DID.String() != id.DID || u.Fragment == "" {
		return fmt.Errorf("node: Config.Issuer.VerificationMethod %q is not a method (#fragment) of %s", id.VerificationMethod, id.DID)
	}
	return nil
}

// Issuer returns the node's issuer identity, or nil when it cannot issue.
// The caller must not modify it.
func (n *Node) Issuer() *IssuerIdentity { return n.cfg.Issuer }

// Credential formats Issue signs in.
const (
	// FormatDataIntegrity: an embedded Data Integrity proof (the default).
	FormatDataIntegrity = "di"
	// FormatJWT: a VC-JWT (application/vc+jwt).
	FormatJWT = "jwt"
)

// IssueOptions choose how Issue secures a credential.
type IssueOptions struct {
	// Format is FormatDataIntegrity or FormatJWT; empty means
	// FormatDataIntegrity.
	Format string
	// Cryptosuite of a Data Integrity proof: eddsa-rdfc-2022 or
	// eddsa-jcs-2022. Empty means eddsa-rdfc-2022, which every Data
	// Integrity verifier reads, for a credential that has an RDF form under
	// the pinned contexts; one that has none (a base direction, which
	// RDFC-1.0 drops, or a context this node does not pin) is signed with
	// eddsa-jcs-2022, which secures its JSON as it is.
	Cryptosuite string
}

// SupportedFormats says what IssueOptions accept, for error messages.
const SupportedFormats = "format " + FormatDataIntegrity + " (cryptosuite " + dataintegrity.CryptosuiteJCS + " or " + dataintegrity.CryptosuiteRDFC + ") or " + FormatJWT

func (o *IssueOptions) check() error {
	switch o.Format {
	case "", FormatDataIntegrity:
		o.Format = FormatDataIntegrity
		if o.Cryptosuite != "" && o.Cryptosuite != dataintegrity.CryptosuiteJCS && o.Cryptosuite != dataintegrity.CryptosuiteRDFC {
			return fmt.Errorf("%w: cryptosuite %q; supported now: %s", ErrUnsupportedFormat, o.Cryptosuite, SupportedFormats)
		}
	case FormatJWT:
		if o.Cryptosuite != "" {
			return fmt.Errorf("%w: a cryptosuite (%q) does not apply to format %s", ErrUnsupportedFormat, o.Cryptosuite, FormatJWT)
		}
	default:
		return fmt.Errorf("%w: format %q; supported now: %s", ErrUnsupportedFormat, o.Format, SupportedFormats)
	}
	return nil
}

// Issued is an issued credential.
type Issued struct {
	// Credential is the signed credential: JSON for Data Integrity, the
	// compact JWS for a VC-JWT.
	Credential []byte
	Form       credential.Form
	Submission *Submission
}

// Issue completes an unsigned credential with the node's issuer profile, an
// id (urn:uuid) and validFrom (now) where they are missing, checks its
// structure, signs it and submits it (durably) for anchoring. A credential
// that names another issuer is ErrIssuerMismatch; one that fails the
// structural checks a *CredentialError.
func (n *Node) Issue(ctx context.Context, unsigned []byte, opts IssueOptions) (*Issued, error) {
	id := n.cfg.Issuer
	if id == nil {
		return nil, ErrNoIssuer
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	doc, err := completeCredential(unsigned, id, time.Now())
	if err != nil {
		return nil, err
	}
	var entries []store.StatusEntry
	if n.keepsStatus() {
		if doc, entries, err = n.allocateStatus(doc); err != nil {
			return nil, err
		}
	}
	var out []byte
	form := credential.FormJSON
	switch opts.Format {
	case FormatJWT:
		tok, err := vcjwt.Sign(doc, id.Key, id.VerificationMethod)
		if err != nil {
			return nil, fmt.Errorf("node: sign VC-JWT: %w", err)
		}
		out, form = []byte(tok), credential.FormJWT
	case FormatDataIntegrity:
		sign := dataintegrity.SignRDFC
		if opts.Cryptosuite == dataintegrity.CryptosuiteJCS {
			sign = dataintegrity.SignJCS
		}
		di := dataintegrity.Options{VerificationMethod: id.VerificationMethod}
		out, err = sign(doc, id.Key, di)
		if err != nil && opts.Cryptosuite == "" && (errors.Is(err, jsonld.ErrSafeMode) || errors.Is(err, jsonld.ErrUnknownContext)) {
			out, err = dataintegrity.SignJCS(doc, id.Key, di)
		}
		if err != nil {
			// eddsa-rdfc-2022 needs well-formed JSON-LD: an undefined term
			// or an unknown context is the credential's fault.
			if errors.Is(err, jsonld.ErrSafeMode) || errors.Is(err, jsonld.ErrUnknownContext) || errors.Is(err, jsonld.ErrInvalid) {
				return nil, &CredentialError{Problems: []vc.Problem{{Code: vc.CodeMalformedValue, Detail: err.Error()}}}
			}
			return nil, fmt.Errorf("node: sign %s: %w", opts.Cryptosuite, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(entries) > 0 {
		// Before the credential is acknowledged, so that whoever holds it
		// can be sure it can be revoked.
		d, err := credential.Digest(out, form)
		if err != nil {
			return nil, err
		}
		if err := n.st.PutStatusEntries(d, entries); err != nil {
			return nil, err
		}
	}
	sub, err := n.submit(out, form)
	if err != nil {
		return nil, err
	}
	if sub.Created {
		// Signing the same complete credential (its id given) without
		// status entries gives the same bytes again: issued once.
		n.metrics.issued.Inc()
		n.stats.issued.Add(time.Now(), 1)
	}
	return &Issued{Credential: out, Form: form, Submission: sub}, nil
}

// completeCredential fills in the issuer profile, id and validFrom, and
// checks the result.
func completeCredential(unsigned []byte, id *IssuerIdentity, now time.Time) ([]byte, error) {
	parsed, err := vc.ParseCredential(unsigned)
	if err != nil {
		return nil, &CredentialError{Problems: []vc.Problem{{Code: vc.CodeParsing, Detail: err.Error()}}}
	}
	dec := json.NewDecoder(bytes.NewReader(unsigned))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, &CredentialError{Problems: []vc.Problem{{Code: vc.CodeParsing, Detail: err.Error()}}}
	}
	if _, ok := obj["proof"]; ok {
		return nil, &CredentialError{Problems: []vc.Problem{{Code: vc.CodeMalformedValue, Kind: vc.KindUnexpectedEntity, Path: "/proof",
			Detail: "a credential to issue must not have a proof yet: the node signs it"}}}
	}
	// Profile is an Open Badges term: outside a badge it is undefined in
	// JSON-LD, and an eddsa-rdfc-2022 signature would refuse it.
	profile := map[string]any{"id": id.DID}
	if parsed.IsOpenBadge() {
		profile["type"] = []any{vc.TypeProfile}
	}
	if id.Name != "" {
		profile["name"] = id.Name
	}
	switch iss := obj["issuer"].(type) {
	case nil:
		if _, present := obj["issuer"]; present {
			return nil, fmt.Errorf("%w: issuer is null", ErrIssuerMismatch)
		}
		obj["issuer"] = profile
	case string:
		if iss != id.DID {
			return nil, fmt.Errorf("%w: %q, but this node issues as %s", ErrIssuerMismatch, iss, id.DID)
		}
		obj["issuer"] = profile
	case map[string]any:
		if v, ok := iss["id"]; ok && v != id.DID {
			return nil, fmt.Errorf("%w: %v, but this node issues as %s", ErrIssuerMismatch, v, id.DID)
		}
		for k, v := range profile {
			if _, ok := iss[k]; !ok {
				iss[k] = v
			}
		}
	default:
		return nil, fmt.Errorf("%w: issuer is a %T, not a DID or a profile object", ErrIssuerMismatch, iss)
	}
	if _, ok := obj["id"]; !ok {
		u, err := newUUID()
		if err != nil {
			return nil, err
		}
		obj["id"] = "urn:uuid:" + u
	}
	_, hasFrom := obj["validFrom"]
	_, hasIssuance := obj["issuanceDate"]
	if !hasFrom && !hasIssuance {
		if isV1(obj) {
			obj["issuanceDate"] = now.UTC().Format(time.RFC3339)
		} else {
			obj["validFrom"] = now.UTC().Format(time.RFC3339)
		}
	}
	doc, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("node: encode credential: %w", err)
	}
	c, err := vc.ParseCredential(doc)
	if err != nil {
		return nil, &CredentialError{Problems: []vc.Problem{{Code: vc.CodeParsing, Detail: err.Error()}}}
	}
	if probs := structureProblems(c, vc.CheckOptions{}); len(probs) > 0 {
		return nil, &CredentialError{Problems: probs}
	}
	return doc, nil
}

// isV1 reports whether the first @context is the VC Data Model 1.1 one.
func isV1(obj map[string]any) bool {
	ctx := obj["@context"]
	if l, ok := ctx.([]any); ok && len(l) > 0 {
		ctx = l[0]
	}
	s, _ := ctx.(string)
	return s == vc.ContextV1
}

// newUUID returns a random (version 4) UUID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("node: uuid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := fmt.Sprintf("%x", b[:])
	return strings.Join([]string{h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]}, "-"), nil
}

// CheckOwn checks that a credential is this node's institution's: it is
// well formed, its proof verifies and its signer is Config.Issuer's DID (its
// validity period is not checked: an expired credential may still be
// anchored). It returns a *NotOwnError naming the failed check, or
// ErrNoIssuer.
func (n *Node) CheckOwn(ctx context.Context, data []byte, form credential.Form) error {
	id := n.cfg.Issuer
	if id == nil {
		return ErrNoIssuer
	}
	s := checkCredential(ctx, n.keys, data, form, time.Now())
	for _, c := range s.checks {
		if !c.OK && c.Check != CheckValidity {
			return &NotOwnError{Check: c.Check, Detail: c.Detail}
		}
	}
	if s.signer != id.DID {
		return &NotOwnError{Check: CheckIssuer, Detail: fmt.Sprintf("signed by %s, not by this node's institution %s", s.signer, id.DID)}
	}
	return nil
}

// NotOwnError is why CheckOwn refused a credential: the check that failed.
// It wraps ErrNotOwnCredential.
type NotOwnError struct {
	Check  string
	Detail string
}

func (e *NotOwnError) Error() string {
	return fmt.Sprintf("%v: %s check failed: %s", ErrNotOwnCredential, e.Check, e.Detail)
}

// Unwrap returns ErrNotOwnCredential.
func (e *NotOwnError) Unwrap() error { return ErrNotOwnCredential }

// Code is the VC error code: MALFORMED_VALUE_ERROR for a structure
// failure, CRYPTOGRAPHIC_SECURITY_ERROR for a proof or signer failure.
func (e *NotOwnError) Code() string {
	if e.Check == CheckStructure {
		return vc.CodeMalformedValue
	}
	return vc.CodeCryptographicSecurity
}

// RequiresSignedSubmissions reports Config.RequireSignedSubmissions.
func (n *Node) RequiresSignedSubmissions() bool { return n.cfg.RequireSignedSubmissions }
