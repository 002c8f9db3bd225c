package node

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/vc"
	"github.com/credanchor/credanchor/node/vcjwt"
	"github.com/credanchor/credanchor/store"
)

// Requirement kinds of a pathway.
const (
	// RequireAllOf: every component.
	RequireAllOf = "allOf"
	// RequireKOf: at least K of the components.
	RequireKOf = "kOf"
)

// maxComponents bounds a pathway's components.
const maxComponents = 32

var (
	// ErrInvalidPathway: a pathway definition that breaks the rules.
	ErrInvalidPathway = errors.New("node: invalid pathway")
	// ErrPathwayExists: a pathway of that id is already defined.
	ErrPathwayExists = errors.New("node: pathway already defined")
	// ErrClaimRefused: the presentation does not meet the pathway; a
	// *ClaimError says which component fails and why.
	ErrClaimRefused = errors.New("node: pathway claim refused")
)

// Pathway is a stackable credential: an Open Badges Achievement earned by
// holding component achievements, from any consortium member.
type Pathway struct {
	// ID names the pathway in URLs; the node assigns one when empty.
	ID string `json:"id"`
	// Achievement is the roll-up's Open Badges 3.0 Achievement (id, type,
	// name, description, criteria, and image if any).
	Achievement map[string]any `json:"achievement"`
	Requirement Requirement    `json:"requirement"`
	// Issuer is the DID of the institution that defined it, which issues
	// the roll-up; set by the node.
	Issuer    string    `json:"issuer"`
	CreatedAt time.Time `json:"createdAt"`
}

// Requirement says which components earn the roll-up.
type Requirement struct {
	// Kind is RequireAllOf or RequireKOf.
	Kind string `json:"kind"`
	// K is how many components a RequireKOf needs.
	K          int         `json:"k,omitempty"`
	Components []Component `json:"components"`
}

// Component is an achievement the roll-up requires.
type Component struct {
	// AchievementID is the component credential's
	// credentialSubject.achievement.id.
	AchievementID string `json:"achievementId"`
	// Issuer, when set, is the DID of the member that must have issued it;
	// empty means any consortium member.
	Issuer string `json:"issuer,omitempty"`
}

// ComponentOutcome is what a claim found for one component.
type ComponentOutcome struct {
	AchievementID string `json:"achievementId"`
	// Met: a presented credential earns it.
	Met bool `json:"met"`
	// Digest is the credential that earns it, or that was presented for
	// it and fails.
	Digest *merkle.Hash `json:"digest,omitempty"`
	// Reason says why it is not met: "missing", "revoked or suspended",
	// "not issued by a consortium member", "not anchored", or the check
	// that failed.
	Reason string `json:"reason,omitempty"`
}

// ClaimError is a refused claim, with each component's outcome.
type ClaimError struct {
	Pathway    string
	Detail     string
	Components []ComponentOutcome
}

func (e *ClaimError) Error() string {
	var failed []string
	for _, c := range e.Components {
		if !c.Met {
			failed = append(failed, c.AchievementID+": "+c.Reason)
		}
	}
	msg := "pathway " + e.Pathway + ": " + e.Detail
	if len(failed) > 0 {
		msg += " (" + strings.Join(failed, "; ") + ")"
	}
	return msg
}

func (e *ClaimError) Unwrap() error { return ErrClaimRefused }

// Claim is an earned roll-up.
type Claim struct {
	Issued     *Issued
	Components []ComponentOutcome
}

// DefinePathway checks a pathway and stores it, durably, as this node's
// institution's.
func (n *Node) DefinePathway(p Pathway) (*Pathway, error) {
	if n.cfg.Issuer == nil {
		return nil, ErrNoIssuer
	}
	if p.ID == "" {
		id, err := newUUID()
		if err != nil {
			return nil, err
		}
		p.ID = id
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	p.Issuer, p.CreatedAt = n.cfg.Issuer.DID, time.Now().UTC().Truncate(time.Second)
	def, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	if err := n.st.PutPathway(p.ID, def); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, fmt.Errorf("%w: %s", ErrPathwayExists, p.ID)
		}
		return nil, err
	}
	return &p, nil
}

// check applies the rules of a definition.
func (p *Pathway) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidPathway, fmt.Sprintf(format, args...))
	}
	if len(p.ID) > 64 || strings.ContainsFunc(p.ID, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		return bad("id %q: up to 64 letters, digits, '-', '_' or '.'", truncate(p.ID, 80))
	}
	a := p.Achievement
	id, _ := a["id"].(string)
	if id == "" || !strings.Contains(id, ":") {
		return bad("the achievement needs an id (a URL)")
	}
	if !slices.Contains(anyStrings(a["type"]), "Achievement") && a["type"] != "Achievement" {
		return bad("the achievement's type must include Achievement")
	}
	for _, k := range []string{"name", "description"} {
		if s, _ := a[k].(string); s == "" {
			return bad("the achievement needs a %s", k)
		}
	}
	if _, ok := a["criteria"].(map[string]any); !ok {
		return bad("the achievement needs criteria (an object with a narrative or an id)")
	}
	r := p.Requirement
	if len(r.Components) == 0 || len(r.Components) > maxComponents {
		return bad("%d components; from 1 to %d", len(r.Components), maxComponents)
	}
	seen := map[string]bool{}
	for _, c := range r.Components {
		if c.AchievementID == "" || seen[c.AchievementID] {
			return bad("component achievement ids must be set and distinct (%q)", truncate(c.AchievementID, 80))
		}
		if c.AchievementID == id {
			return bad("the roll-up cannot be its own component")
		}
		if c.Issuer != "" && !isDID(c.Issuer) {
			return bad("component issuer %q is not a DID", truncate(c.Issuer, 80))
		}
		seen[c.AchievementID] = true
	}
	switch r.Kind {
	case RequireAllOf:
		if r.K != 0 {
			return bad("k goes with %s", RequireKOf)
		}
	case RequireKOf:
		if r.K < 1 || r.K > len(r.Components) {
			return bad("k = %d; from 1 to the %d components", r.K, len(r.Components))
		}
	default:
		return bad("requirement kind %q; %s or %s", truncate(r.Kind, 40), RequireAllOf, RequireKOf)
	}
	return nil
}

// Pathway returns the pathway of id, or ErrNotFound.
func (n *Node) Pathway(id string) (*Pathway, error) {
	def, err := n.st.Pathway(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: pathway %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	var p Pathway
	if err := json.Unmarshal(def, &p); err != nil {
		return nil, fmt.Errorf("node: stored pathway %s: %w", id, err)
	}
	return &p, nil
}

// Pathways returns the pathways this node defined.
func (n *Node) Pathways() ([]*Pathway, error) {
	defs, err := n.st.Pathways()
	if err != nil {
		return nil, err
	}
	out := make([]*Pathway, 0, len(defs))
	for _, def := range defs {
		var p Pathway
		if err := json.Unmarshal(def, &p); err != nil {
			return nil, fmt.Errorf("node: stored pathway: %w", err)
		}
		out = append(out, &p)
	}
	return out, nil
}

// ClaimPathway checks a learner's presentation against a pathway and, if it
// earns the roll-up, issues it to the holder: signed by this node's
// institution, anchored, with each component credential as evidence (its
// id and digest). The presentation must verify as VerifyPresentation says,
// over a challenge of this node; each component must be met by a presented
// credential that verifies in full (issued and anchored by a consortium
// member, not revoked or suspended, valid now, about the holder).
func (n *Node) ClaimPathway(ctx context.Context, id string, vp []byte, opts PresentationOptions) (*Claim, error) {
	p, err := n.Pathway(id)
	if err != nil {
		return nil, err
	}
	pv, err := n.VerifyPresentation(ctx, vp, opts)
	if err != nil {
		return nil, err
	}
	for _, c := range pv.Checks {
		if !c.OK {
			return nil, &ClaimError{Pathway: p.ID, Detail: "the presentation fails its " + c.Check + " check: " + c.Detail}
		}
	}
	creds, _, _, err := presentedParts(vp)
	if err != nil {
		return nil, &ClaimError{Pathway: p.ID, Detail: err.Error()}
	}
	type found struct {
		v           *Verification
		achievement string
		name        string
		credID      string
	}
	var presented []found
	for i, pc := range creds {
		if i >= len(pv.Credentials) || pc.err != nil {
			continue
		}
		a, name, credID := achievementOf(pc.data, pc.form)
		presented = append(presented, found{pv.Credentials[i], a, name, credID})
	}
	var (
		outcomes []ComponentOutcome
		met      []found
	)
	for _, c := range p.Requirement.Components {
		o := ComponentOutcome{AchievementID: c.AchievementID, Reason: "missing: no presented credential is of this achievement"}
		for _, f := range presented {
			if f.achievement != c.AchievementID {
				continue
			}
			d := f.v.Digest
			o.Digest = &d
			switch {
			case !f.v.Verified:
				o.Reason = componentReason(f.v)
			case c.Issuer != "" && f.v.Issuer != c.Issuer:
				o.Reason = fmt.Sprintf("issued by %s, not by the member the pathway names, %s", f.v.Issuer, c.Issuer)
			default:
				o.Met, o.Reason = true, ""
				met = append(met, f)
			}
			if o.Met {
				break
			}
		}
		outcomes = append(outcomes, o)
	}
	need := len(p.Requirement.Components)
	if p.Requirement.Kind == RequireKOf {
		need = p.Requirement.K
	}
	if len(met) < need {
		return nil, &ClaimError{Pathway: p.ID, Detail: fmt.Sprintf("%d of the %d components it needs are met", len(met), need), Components: outcomes}
	}
	evidence := make([]any, 0, len(met))
	for _, f := range met {
		ev := map[string]any{
			"type":        []string{"Evidence"},
			"name":        f.name,
			"description": "Component credential of achievement " + f.achievement + ", digest " + f.v.Digest.String(),
			"digestSRI":   "sha256-" + base64.StdEncoding.EncodeToString(f.v.Digest[:]),
		}
		if f.credID != "" {
			ev["id"] = f.credID
		}
		evidence = append(evidence, ev)
	}
	unsigned, err := json.Marshal(map[string]any{
		"@context": []string{vc.ContextV2, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"},
		"type":     []string{"VerifiableCredential", "OpenBadgeCredential"},
		"name":     p.Achievement["name"],
		"credentialSubject": map[string]any{
			"id":          pv.Holder,
			"type":        []string{"AchievementSubject"},
			"achievement": p.Achievement,
		},
		"evidence": evidence,
	})
	if err != nil {
		return nil, err
	}
	iss, err := n.Issue(ctx, unsigned, IssueOptions{})
	if err != nil {
		return nil, err
	}
	n.log.Info("pathway claimed", "pathway", p.ID, "digest", iss.Submission.Digest.String(), "components", len(met))
	return &Claim{Issued: iss, Components: outcomes}, nil
}

// componentReason names why a presented component does not verify.
func componentReason(v *Verification) string {
	for _, c := range v.Checks {
		if c.OK {
			continue
		}
		switch c.Check {
		case CheckStatus:
			return "revoked or suspended: " + c.Detail
		case CheckMemberAtAnchor:
			return "not issued by a consortium member: " + c.Detail
		case CheckInclusion, CheckAnchored:
			return "not anchored: " + c.Detail
		case CheckIssuer:
			return "not signed by its issuer: " + c.Detail
		}
		return c.Check + ": " + c.Detail
	}
	return "not verified"
}

// achievementOf returns a credential's credentialSubject.achievement id and
// name, and the credential's id.
func achievementOf(data []byte, form credential.Form) (id, name, credID string) {
	credJSON := data
	if form == credential.FormJWT {
		tok, err := vcjwt.Parse(strings.TrimSpace(string(data)))
		if err != nil {
			return "", "", ""
		}
		if credJSON, err = tok.Credential(); err != nil {
			return "", "", ""
		}
	}
	c, err := vc.ParseCredential(credJSON)
	if err != nil {
		return "", "", ""
	}
	for _, s := range c.CredentialSubject() {
		if a, ok := s["achievement"].(map[string]any); ok {
			id, _ = a["id"].(string)
			name, _ = a["name"].(string)
			break
		}
	}
	return id, name, c.ID()
}

// ComponentRef is a component a roll-up names as evidence, as found in the
// presentation that carries it.
type ComponentRef struct {
	Digest merkle.Hash `json:"digest"`
	// Presented: the presentation carries the component; Verified: it
	// verified in full.
	Presented bool `json:"presented"`
	Verified  bool `json:"verified"`
}

// evidenceDigests returns the digests a credential's evidence names with
// digestSRI (sha256-).
func evidenceDigests(data []byte, form credential.Form) []merkle.Hash {
	if form != credential.FormJSON {
		return nil
	}
	var c struct {
		Evidence json.RawMessage `json:"evidence"`
	}
	if json.Unmarshal(data, &c) != nil || len(c.Evidence) == 0 {
		return nil
	}
	var evs []struct {
		DigestSRI string `json:"digestSRI"`
	}
	if json.Unmarshal(c.Evidence, &evs) != nil {
		var one struct {
			DigestSRI string `json:"digestSRI"`
		}
		if json.Unmarshal(c.Evidence, &one) != nil {
			return nil
		}
		evs = append(evs, one)
	}
	var out []merkle.Hash
	for _, e := range evs {
		b64, ok := strings.CutPrefix(e.DigestSRI, "sha256-")
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != sha256.Size {
			continue
		}
		out = append(out, merkle.Hash(raw))
	}
	return out
}
