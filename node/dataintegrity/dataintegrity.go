// Package dataintegrity creates and verifies W3C Data Integrity proofs
// (https://www.w3.org/TR/vc-data-integrity/) with the cryptosuites of Data
// Integrity EdDSA (https://www.w3.org/TR/vc-di-eddsa/): Ed25519 over the
// SHA-256 of the canonical proof configuration followed by that of the
// canonical document, where canonical is JCS (RFC 8785) for eddsa-jcs-2022
// and RDFC-1.0 N-Quads of the JSON-LD document (package jsonld: pinned
// contexts only, safe mode) for eddsa-rdfc-2022. It also verifies the legacy
// Ed25519Signature2020 proofs (https://w3c-ccg.github.io/di-eddsa-2020/),
// which hash the same way as eddsa-rdfc-2022. A document may carry a proof
// set, and proofs that name a previousProof form a proof chain: each such
// proof signs the document together with the proofs it names.
package dataintegrity

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/mr-tron/base58"

	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/jsonld"
	"github.com/credanchor/credanchor/node/vc"
)

// Names of the proof type and cryptosuite this package implements.
const (
	ProofType       = "DataIntegrityProof"
	CryptosuiteJCS  = "eddsa-jcs-2022"
	CryptosuiteRDFC = "eddsa-rdfc-2022"
	// ProofTypeEd25519Signature2020 is the legacy proof type, verified only.
	ProofTypeEd25519Signature2020 = "Ed25519Signature2020"
	// ContextEd25519Signature2020 is the context that defines it, which the
	// document or the proof must use.
	ContextEd25519Signature2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
)

// Errors, named for the VC error codes callers map them to.
var (
	// ErrMalformed: the document or a proof is not well formed
	// (MALFORMED_VALUE_ERROR / PROOF_VERIFICATION_ERROR).
	ErrMalformed = errors.New("dataintegrity: malformed proof")
	// ErrUnsupported: a proof of another type or cryptosuite.
	ErrUnsupported = errors.New("dataintegrity: unsupported proof type or cryptosuite")
	// ErrSignature: the signature does not verify (CRYPTOGRAPHIC_SECURITY_ERROR).
	ErrSignature = errors.New("dataintegrity: signature does not verify")
	// ErrPurpose: the proof's purpose is not the one asked for.
	ErrPurpose = errors.New("dataintegrity: wrong proof purpose")
	// ErrExpired: the proof's expires is past.
	ErrExpired = errors.New("dataintegrity: proof expired")
	// ErrChallenge / ErrDomain: the proof is not bound to the verifier's
	// challenge or domain.
	ErrChallenge = errors.New("dataintegrity: challenge does not match")
	ErrDomain    = errors.New("dataintegrity: domain does not match")
)

// KeyResolver finds the Ed25519 key of a verification method, which must be
// listed under the relationship that purpose names (assertionMethod,
// authentication).
type KeyResolver interface {
	ResolveKey(ctx context.Context, verificationMethod, purpose string) (ed25519.PublicKey, error)
}

// Options are the proof options of a new proof.
type Options struct {
	VerificationMethod string
	// Purpose is the proofPurpose; empty means "assertionMethod".
	Purpose string
	// Created is the proof's creation time; zero means now.
	Created time.Time
	// Expires, Challenge and Domain are set on the proof when not zero.
	Expires   time.Time
	Challenge string
	Domain    string
	// ID is the proof's id, which a later proof's PreviousProof can name.
	ID string
	// PreviousProof, when set, makes the proof part of a proof chain: it
	// names the ids of proofs of the document that this proof signs over
	// (VC Data Integrity §4.2, Add Proof Set/Chain).
	PreviousProof []string
}

// SignJCS adds an eddsa-jcs-2022 proof to a JSON document (a credential or a
// presentation) and returns the secured document. A document that already
// has proofs gets one more, making a proof set.
func SignJCS(doc []byte, key ed25519.PrivateKey, opts Options) ([]byte, error) {
	return sign(doc, key, opts, CryptosuiteJCS)
}

// SignRDFC adds an eddsa-rdfc-2022 proof to a JSON-LD document (a credential
// or a presentation) and returns the secured document. A document that
// already has proofs gets one more, making a proof set. The document must
// use only pinned contexts and define every term it uses (package jsonld):
// otherwise the error matches ErrMalformed and jsonld's sentinel.
func SignRDFC(doc []byte, key ed25519.PrivateKey, opts Options) ([]byte, error) {
	return sign(doc, key, opts, CryptosuiteRDFC)
}

func sign(doc []byte, key ed25519.PrivateKey, opts Options, suite string) ([]byte, error) {
	shared, err := decodeObject(doc)
	if err != nil {
		return nil, err
	}
	obj := maps.Clone(shared)
	existing, hasProof := obj["proof"]
	delete(obj, "proof")
	proof := map[string]any{
		"type":               ProofType,
		"cryptosuite":        suite,
		"verificationMethod": opts.VerificationMethod,
		"proofPurpose":       opts.Purpose,
	}
	if opts.Purpose == "" {
		proof["proofPurpose"] = "assertionMethod"
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Now()
	}
	proof["created"] = created.UTC().Format(time.RFC3339)
	if !opts.Expires.IsZero() {
		proof["expires"] = opts.Expires.UTC().Format(time.RFC3339)
	}
	if opts.Challenge != "" {
		proof["challenge"] = opts.Challenge
	}
	if opts.Domain != "" {
		proof["domain"] = opts.Domain
	}
	if opts.ID != "" {
		proof["id"] = opts.ID
	}
	unsecured := obj
	if len(opts.PreviousProof) > 0 {
		var all []any
		if hasProof {
			all = asList(existing)
		}
		var refs []any
		for _, id := range opts.PreviousProof {
			refs = append(refs, id)
		}
		matching, err := previousProofs(all, refs)
		if err != nil {
			return nil, err
		}
		if len(refs) == 1 {
			proof["previousProof"] = refs[0]
		} else {
			proof["previousProof"] = refs
		}
		// The new proof signs the document with the proofs it chains to.
		unsecured = maps.Clone(obj)
		unsecured["proof"] = matching
	}
	var hash []byte
	if suite == CryptosuiteJCS {
		if c, ok := obj["@context"]; ok {
			proof["@context"] = c
		}
		hash, err = hashData(unsecured, "", proof, "", canonicalJCS)
	} else {
		// The proof configuration takes the document's @context
		// (vc-di-eddsa §3.3.5); the proof itself does not repeat it.
		config := maps.Clone(proof)
		if c, ok := obj["@context"]; ok {
			config["@context"] = c
		}
		hash, err = hashData(unsecured, "", config, "", canonicalRDFC)
	}
	if err != nil {
		return nil, err
	}
	proof["proofValue"] = "z" + base58.Encode(ed25519.Sign(key, hash))
	switch {
	case !hasProof:
		obj["proof"] = proof
	case isArray(existing):
		obj["proof"] = append(slices.Clip(existing.([]any)), proof)
	default:
		obj["proof"] = []any{existing, proof}
	}
	return json.Marshal(obj)
}

// VerifyOptions say what a verifier expects of the proofs.
type VerifyOptions struct {
	// Purpose is the proofPurpose required; empty means "assertionMethod".
	Purpose string
	// Challenge and Domain, when set, must be the proof's.
	Challenge, Domain string
	// Now is the time expires is checked against; zero means now.
	Now time.Time
}

// Verified is one verified proof.
type Verified struct {
	// Type and Cryptosuite name the proof's kind: "DataIntegrityProof" with
	// "eddsa-jcs-2022" or "eddsa-rdfc-2022", or "Ed25519Signature2020"
	// with no cryptosuite.
	Type, Cryptosuite  string
	VerificationMethod string
	Purpose            string
	Created            time.Time
}

// Verify checks every proof of a secured document (a proof set verifies when
// each of its proofs does) and returns them. It fails with ErrUnsupported
// for proofs of other cryptosuites, so that a caller can hand those to
// another verifier.
func Verify(ctx context.Context, doc []byte, keys KeyResolver, opts VerifyOptions) ([]Verified, error) {
	secured, err := decodeObject(doc)
	if err != nil {
		return nil, err
	}
	raw, ok := secured["proof"]
	if !ok {
		return nil, fmt.Errorf("%w: no proof", ErrMalformed)
	}
	proofs := []any{raw}
	if isArray(raw) {
		proofs = raw.([]any)
	}
	if len(proofs) == 0 {
		return nil, fmt.Errorf("%w: empty proof set", ErrMalformed)
	}
	purpose := opts.Purpose
	if purpose == "" {
		purpose = "assertionMethod"
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	var out []Verified
	for i, p := range proofs {
		proof, ok := p.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: proof %d is not an object", ErrMalformed, i)
		}
		// The document a proof signs: the secured one without its proofs,
		// left out as it is hashed rather than copied.
		doc, omit := secured, "proof"
		if prev, ok := proof["previousProof"]; ok {
			// A proof of a chain signs the document with the proofs it
			// names (VC Data Integrity §4.5, Verify Proof Sets and Chains).
			matching, err := previousProofs(proofs, asList(prev))
			if err != nil {
				return nil, fmt.Errorf("proof %d: %w", i, err)
			}
			doc, omit = maps.Clone(secured), ""
			doc["proof"] = matching
		}
		v, err := verifyOne(ctx, doc, omit, proof, keys, purpose, opts, now)
		if err != nil {
			return nil, fmt.Errorf("proof %d: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// verifyOne verifies one proof of doc, which is signed without its member
// omit ("" for none).
func verifyOne(ctx context.Context, doc map[string]any, omit string, proof map[string]any, keys KeyResolver, purpose string, opts VerifyOptions, now time.Time) (Verified, error) {
	str := func(k string) string { s, _ := proof[k].(string); return s }
	canon, legacy := canonicalizer(canonicalJCS), false
	switch typ, suite := str("type"), str("cryptosuite"); {
	case typ == ProofType && suite == CryptosuiteJCS:
	case typ == ProofType && suite == CryptosuiteRDFC:
		canon = canonicalRDFC
	case typ == ProofTypeEd25519Signature2020 && proof["cryptosuite"] == nil:
		canon, legacy = canonicalRDFC, true
	default:
		return Verified{}, fmt.Errorf("%w: %s %s", ErrUnsupported, typ, suite)
	}
	v := Verified{Type: str("type"), Cryptosuite: str("cryptosuite"), VerificationMethod: str("verificationMethod"), Purpose: str("proofPurpose")}
	if v.VerificationMethod == "" {
		return v, fmt.Errorf("%w: no verificationMethod", ErrMalformed)
	}
	if v.Purpose != purpose {
		return v, fmt.Errorf("%w: %q, want %q", ErrPurpose, v.Purpose, purpose)
	}
	if c := str("created"); c != "" {
		t, err := time.Parse(time.RFC3339, c)
		if err != nil {
			return v, fmt.Errorf("%w: created %q", ErrMalformed, c)
		}
		v.Created = t
	}
	if e := str("expires"); e != "" {
		t, err := time.Parse(time.RFC3339, e)
		if err != nil {
			return v, fmt.Errorf("%w: expires %q", ErrMalformed, e)
		}
		if now.After(t) {
			return v, fmt.Errorf("%w at %s", ErrExpired, e)
		}
	}
	if opts.Challenge != "" && str("challenge") != opts.Challenge {
		return v, ErrChallenge
	}
	if opts.Domain != "" && str("domain") != opts.Domain {
		return v, ErrDomain
	}
	value := str("proofValue")
	if len(value) < 2 || value[0] != 'z' {
		return v, fmt.Errorf("%w: proofValue is not base58btc multibase", ErrMalformed)
	}
	sig, err := base58.Decode(value[1:])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return v, fmt.Errorf("%w: proofValue is not a %d-byte signature", ErrMalformed, ed25519.SignatureSize)
	}
	// The proof configuration is the proof without its value; the RDFC
	// suites add to it, so they get a copy.
	config, configOmit := proof, "proofValue"
	if legacy || str("cryptosuite") == CryptosuiteRDFC {
		config, configOmit = make(map[string]any, len(proof)), ""
		for k, val := range proof {
			if k != "proofValue" {
				config[k] = val
			}
		}
	}
	switch {
	case legacy:
		// jsonld-signatures: the proof options take the document's
		// @context unless they have their own, and the document is hashed
		// as it is.
		if _, ok := config["@context"]; !ok {
			config["@context"] = doc["@context"]
		}
		if !hasContext(config["@context"], ContextEd25519Signature2020) {
			return v, fmt.Errorf("%w: Ed25519Signature2020 without the %s context", ErrMalformed, ContextEd25519Signature2020)
		}
	case config["@context"] != nil:
		// The proof's @context, when present, must begin the document's,
		// and the document is hashed with it: a proof vouches only for the
		// contexts its signer saw.
		pc := config["@context"]
		if !contextPrefix(pc, doc["@context"]) {
			return v, fmt.Errorf("%w: the proof's @context does not begin the document's", ErrMalformed)
		}
		// contextPrefix found pc's entries equal to the first of the
		// document's: if pc is all of it, in the same shape, the document
		// hashes the same with either.
		dc := doc["@context"]
		if isArray(pc) != isArray(dc) || len(asList(pc)) != len(asList(dc)) {
			withProofContext := maps.Clone(doc)
			withProofContext["@context"] = pc
			doc = withProofContext
		}
	case suiteRDFC(config):
		// eddsa-rdfc-2022 hashes the proof configuration with the
		// document's @context (vc-di-eddsa §3.3.5).
		if c, ok := doc["@context"]; ok {
			config["@context"] = c
		}
	}
	hash, err := hashData(doc, omit, config, configOmit, canon)
	if err != nil {
		return v, err
	}
	pub, err := keys.ResolveKey(ctx, v.VerificationMethod, v.Purpose)
	if err != nil {
		return v, fmt.Errorf("verification method %s: %w", v.VerificationMethod, err)
	}
	if !ed25519.Verify(pub, hash, sig) {
		return v, ErrSignature
	}
	return v, nil
}

func suiteRDFC(config map[string]any) bool { return config["cryptosuite"] == CryptosuiteRDFC }

// hashData is SHA-256(canon(proof configuration)) || SHA-256(canon(document)),
// each without its member named by docOmit and configOmit ("" for none).
func hashData(doc map[string]any, docOmit string, config map[string]any, configOmit string, canon canonicalizer) ([]byte, error) {
	// The canonical forms are hashed and dropped: one pooled buffer holds
	// each in turn.
	buf := canonBufs.Get().(*[]byte)
	defer canonBufs.Put(buf)
	d, err := canon((*buf)[:0], doc, docOmit)
	if err != nil {
		return nil, err
	}
	dh := sha256.Sum256(d)
	c, err := canon(d[:0], config, configOmit)
	if err != nil {
		return nil, err
	}
	*buf = c
	ch := sha256.Sum256(c)
	return append(ch[:], dh[:]...), nil
}

var canonBufs = sync.Pool{New: func() any { return new([]byte) }}

// canonicalizer appends the canonical form of v without its member omit
// ("" for none).
type canonicalizer func(dst []byte, v map[string]any, omit string) ([]byte, error)

// canonicalRDFC appends the RDFC-1.0 canonical N-Quads of a JSON-LD
// document.
func canonicalRDFC(dst []byte, v map[string]any, omit string) ([]byte, error) {
	if omit != "" {
		v = maps.Clone(v)
		delete(v, omit)
	}
	out, err := jsonld.Canonicalize(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return append(dst, out...), nil
}

// canonicalJCS appends the JCS (RFC 8785) form of a decoded document,
// written from the decoded values rather than by encoding them and parsing
// the text again.
func canonicalJCS(dst []byte, v map[string]any, omit string) ([]byte, error) {
	var out []byte
	var err error
	if omit == "" {
		out, err = credential.AppendCanonicalValue(dst, v)
	} else {
		out, err = credential.AppendCanonicalValueWithout(dst, v, omit)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return out, nil
}

// decodeObject decodes one JSON object as strictly as package vc parses
// credentials (no duplicate keys, valid UTF-8, bounded nesting), keeping
// numbers as written so that JCS formats them from their source text. The
// object may be shared with package vc's parse of the same bytes: it must
// not be modified.
func decodeObject(doc []byte) (map[string]any, error) {
	obj, err := vc.ParseObject(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: not a JSON object: %w", ErrMalformed, err)
	}
	return obj, nil
}

// previousProofs returns the proofs of all whose ids refs names, in the
// order of refs. Every reference must name exactly one proof.
func previousProofs(all, refs []any) ([]any, error) {
	if len(refs) == 0 {
		return nil, fmt.Errorf("%w: empty previousProof", ErrMalformed)
	}
	matching := make([]any, 0, len(refs))
	for _, r := range refs {
		id, ok := r.(string)
		if !ok || id == "" {
			return nil, fmt.Errorf("%w: previousProof %v is not a proof id", ErrMalformed, r)
		}
		var found any
		for _, p := range all {
			if m, ok := p.(map[string]any); ok && m["id"] == id {
				if found != nil {
					return nil, fmt.Errorf("%w: two proofs with id %q", ErrMalformed, id)
				}
				found = p
			}
		}
		if found == nil {
			return nil, fmt.Errorf("%w: previousProof %q is not in the proof set", ErrMalformed, id)
		}
		matching = append(matching, found)
	}
	return matching, nil
}

func asList(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	return []any{v}
}

// hasContext reports whether a @context value (a string or an array) lists url.
func hasContext(ctx any, url string) bool {
	if a, ok := ctx.([]any); ok {
		return slices.Contains(a, any(url))
	}
	return ctx == url
}

func isArray(v any) bool {
	_, ok := v.([]any)
	return ok
}

// contextPrefix reports whether proof's @context (a string or an array) is
// a prefix of doc's.
func contextPrefix(proof, doc any) bool {
	p, d := asList(proof), asList(doc)
	if doc == nil || len(p) > len(d) {
		return false
	}
	for i := range p {
		if ps, ok := p[i].(string); ok {
			if ps != d[i] {
				return false
			}
			continue
		}
		pb, perr := credential.AppendCanonicalValue(nil, p[i])
		db, derr := credential.AppendCanonicalValue(nil, d[i])
		if perr != nil || derr != nil || !bytes.Equal(pb, db) {
			return false
		}
	}
	return true
}
