package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/node/vc"
	"github.com/credanchor/credanchor/node/vcjwt"
)

// securityChecks is the outcome of the checks on the credential itself.
type securityChecks struct {
	checks []Check
	// issuer is the credential's issuer id ("" if none).
	issuer string
	// signer is the issuer's DID when its key verifiably signed the
	// credential, else "".
	signer string
	// cred is the credential as decoded, nil if it did not parse; the
	// status check reads it rather than decode the document again.
	cred *vc.Credential
}

func (s *securityChecks) pass(check, detail string) {
	s.checks = append(s.checks, Check{Check: check, OK: true, Detail: detail})
}

func (s *securityChecks) fail(check, detail string) {
	s.checks = append(s.checks, Check{Check: check, OK: false, Detail: detail})
}

// checkCredential makes the structure, proof, issuer and validity checks, in
// that order, always all four.
func checkCredential(ctx context.Context, keys *DIDKeys, data []byte, form credential.Form, now time.Time) *securityChecks {
	s := &securityChecks{}
	var (
		c          *vc.Credential
		jwt        string
		jwtRange   string // a verified JWT's exp/nbf failure
		proofVMs   []string
		proofOK    bool
		proofWhy   string
		notChecked = "not checked: "
	)
	// Structure.
	credJSON := data
	if form == credential.FormJWT {
		jwt = strings.TrimSpace(string(data))
		tok, err := vcjwt.Parse(jwt)
		if err == nil {
			credJSON, err = tok.Credential()
		}
		if err != nil {
			s.fail(CheckStructure, codeOr(vcjwt.Code(err), vc.CodeParsing)+": "+err.Error())
			credJSON = nil
		}
	}
	if credJSON != nil {
		var err error
		if c, err = vc.ParseCredential(credJSON); err != nil {
			s.fail(CheckStructure, vc.CodeParsing+": "+err.Error())
		} else if probs := structureProblems(c, vc.CheckOptions{}); len(probs) > 0 {
			s.fail(CheckStructure, problemsDetail(probs))
		} else {
			s.pass(CheckStructure, describe(c))
		}
	}
	s.cred = c
	if c == nil {
		s.fail(CheckProof, notChecked+"the credential does not parse")
		s.fail(CheckIssuer, notChecked+"the credential does not parse")
		s.fail(CheckValidity, notChecked+"the credential does not parse")
		return s
	}
	iss, _ := c.Issuer()
	s.issuer = iss.ID

	// Proof.
	switch {
	case form == credential.FormJWT:
		tok, err := vcjwt.Verify(ctx, jwt, keys.JWT(), vcjwt.VerifyOptions{Now: now, Kind: vcjwt.KindCredential})
		if errors.Is(err, vcjwt.ErrExpired) || errors.Is(err, vcjwt.ErrNotYetValid) {
			// The signature verified before the time claims were checked.
			jwtRange, err = err.Error(), nil
			if t, perr := vcjwt.Parse(jwt); perr == nil {
				tok = t
			}
		}
		if err == nil && tok == nil {
			err = errors.New("node: vcjwt.Verify returned no token")
		}
		if err != nil {
			proofWhy = codeOr(vcjwt.Code(err), vc.CodeCryptographicSecurity) + ": " + err.Error()
			break
		}
		kid := tok.Kid()
		if strings.HasPrefix(kid, "#") {
			// A bare fragment is relative to the issuer's DID, as vcjwt
			// resolved it.
			kid = tok.Issuer() + kid
		}
		proofOK, proofVMs = true, []string{kid}
		if s.issuer == "" {
			s.issuer = tok.Issuer()
		}
		s.pass(CheckProof, fmt.Sprintf("VC-JWT (%s) signed by %s", tok.Alg(), kid))
	case len(c.Proof()) == 0:
		proofWhy = "no proof: the credential is not secured"
	default:
		vs, err := dataintegrity.Verify(ctx, data, keys, dataintegrity.VerifyOptions{Purpose: string(did.AssertionMethod), Now: now})
		if errors.Is(err, dataintegrity.ErrUnsupported) {
			proofWhy = unsupportedDetail(c.Proof(), err)
			break
		}
		if err != nil {
			proofWhy = vc.CodeCryptographicSecurity + ": " + err.Error()
			break
		}
		proofOK = true
		var kinds []string
		for _, p := range vs {
			proofVMs = append(proofVMs, p.VerificationMethod)
			kind := p.Cryptosuite
			if kind == "" {
				kind = p.Type
			}
			if !slices.Contains(kinds, kind) {
				kinds = append(kinds, kind)
			}
		}
		s.pass(CheckProof, fmt.Sprintf("%s (%s) by %s", plural(uint64(len(vs)), "proof"), strings.Join(kinds, ", "), strings.Join(proofVMs, ", ")))
	}
	if !proofOK {
		s.fail(CheckProof, proofWhy)
	}

	// Issuer.
	switch {
	case s.issuer == "":
		s.fail(CheckIssuer, "the credential names no issuer")
	case !isDID(s.issuer):
		s.fail(CheckIssuer, fmt.Sprintf("the issuer %q is not a DID", s.issuer))
	case !proofOK:
		s.fail(CheckIssuer, notChecked+"no proof verified")
	default:
		if vm, ok := foreignKey(proofVMs, s.issuer); !ok {
			s.fail(CheckIssuer, fmt.Sprintf("the proof was made with %s, which is not a key of the issuer %s", vm, s.issuer))
			break
		}
		s.signer = s.issuer
		name := ""
		if n := iss.Name(); n != "" {
			name = " (" + n + ")"
		}
		s.pass(CheckIssuer, fmt.Sprintf("issued by %s%s, whose key signed it", s.issuer, name))
	}

	// Validity.
	if probs := c.CheckValidity(now); len(probs) > 0 {
		s.fail(CheckValidity, problemsDetail(probs))
	} else if jwtRange != "" {
		s.fail(CheckValidity, vc.CodeRange+": "+jwtRange)
	} else {
		s.pass(CheckValidity, "valid at "+now.UTC().Format(time.RFC3339))
	}
	return s
}

// structureProblems runs the data model checks, and the Open Badges 3.0
// ones for a credential that says it is one.
func structureProblems(c *vc.Credential, opts vc.CheckOptions) []vc.Problem {
	probs := c.Check(opts)
	if c.IsOpenBadge() {
		probs = append(probs, c.CheckOpenBadge()...)
	}
	return probs
}

// describe says what kind of credential passed the structure check.
func describe(c *vc.Credential) string {
	d := "VC Data Model " + c.Version().String() + " credential"
	if c.IsOpenBadge() {
		d += " (Open Badges 3.0)"
	}
	return d
}

// problemsDetail joins problems into one detail: "CODE at PATH: detail; …".
func problemsDetail(probs []vc.Problem) string {
	parts := make([]string, len(probs))
	for i, p := range probs {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "; ")
}

// unsupportedDetail names the cryptosuites of proofs this node cannot check
// yet.
func unsupportedDetail(proofs []map[string]any, err error) string {
	var names []string
	for _, p := range proofs {
		t, _ := p["type"].(string)
		cs, _ := p["cryptosuite"].(string)
		if t == dataintegrity.ProofType && (cs == dataintegrity.CryptosuiteJCS || cs == dataintegrity.CryptosuiteRDFC) {
			continue
		}
		name := t
		if cs != "" {
			name = cs
		}
		if name == "" {
			name = "(untyped)"
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "not supported yet: " + err.Error()
	}
	return fmt.Sprintf("cryptosuite %s is not supported yet", strings.Join(names, ", "))
}

func codeOr(code, def string) string {
	if code == "" {
		return def
	}
	return code
}

func isDID(s string) bool {
	_, err := did.Parse(s)
	return err == nil
}

// foreignKey returns the first verification method that is not a key of
// issuer, and false; or "", true when all are the issuer's.
func foreignKey(vms []string, issuer string) (string, bool) {
	for _, vm := range vms {
		u, err := did.ParseURL(vm)
		if err != nil || u.DID.String() != issuer {
			return vm, false
		}
	}
	return "", true
}
