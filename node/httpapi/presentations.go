package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/node"
)

// maxPresentationReceipts bounds the receipts a presentation may add to the
// body limit.
const maxPresentationReceipts = 8

// ChallengeResponse is the answer of POST /challenges.
type ChallengeResponse struct {
	// Challenge is single-use: the holder's proof must carry it.
	Challenge string `json:"challenge"`
	// Expires is when it can no longer be used.
	Expires time.Time `json:"expires"`
}

// challenge issues a presentation challenge (VC-API).
func (s *Server) challenge(w http.ResponseWriter, r *http.Request) error {
	ch, exp, err := s.node.Challenges().New(time.Now())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusCreated, ChallengeResponse{Challenge: ch, Expires: exp.UTC()})
	return nil
}

// VCAPIPresentationRequest is the body of POST /presentations/verify.
type VCAPIPresentationRequest struct {
	VerifiablePresentation json.RawMessage           `json:"verifiablePresentation"`
	Options                *VCAPIPresentationOptions `json:"options,omitempty"`
}

// VCAPIPresentationOptions: the challenge and domain the verifier expects.
// Without a challenge the proof's own is taken, which must be one this node
// issued and not yet used.
type VCAPIPresentationOptions struct {
	Challenge string `json:"challenge,omitempty"`
	Domain    string `json:"domain,omitempty"`
}

// PresentationCredentialResult is the verdict on one credential of a
// presentation.
type PresentationCredentialResult struct {
	Verified bool           `json:"verified"`
	Checks   []node.Check   `json:"checks"`
	Errors   []CheckProblem `json:"errors"`
	VerifyResponseFacts
	// Components are those a roll-up names as evidence, and whether they
	// are presented with it and verified.
	Components []node.ComponentRef `json:"components,omitempty"`
}

// VerifyResponseFacts are what the chain and the credential say, as in
// /v1/verify's answer.
type VerifyResponseFacts struct {
	Digest  string            `json:"digest,omitempty"`
	Issuer  string            `json:"issuer,omitempty"`
	Anchor  *node.AnchorFacts `json:"anchor,omitempty"`
	Receipt *anchor.Receipt   `json:"receipt,omitempty"`
}

// VCAPIPresentationResponse is the answer of POST /presentations/verify:
// Checks names the presentation's checks that passed, Errors describes
// those that failed (its own and its credentials'), Credentials has each
// credential's verdict. A failed verification is a 400 problem with the
// same members.
type VCAPIPresentationResponse struct {
	Verified    bool                           `json:"verified"`
	Holder      string                         `json:"holder,omitempty"`
	Checks      []string                       `json:"checks"`
	Warnings    []CheckProblem                 `json:"warnings"`
	Errors      []CheckProblem                 `json:"errors"`
	Credentials []PresentationCredentialResult `json:"credentials"`
}

type presentationFailure struct {
	Problem
	VCAPIPresentationResponse
}

var presentationCheckTitles = map[string]string{
	node.CheckPresentation:    "The presentation is not well formed",
	node.CheckHolderProof:     "The presentation was not signed by its holder",
	node.CheckChallenge:       "The presentation does not answer a fresh challenge",
	node.CheckHolderIsSubject: "A credential is not about the holder",
}

// verifyPresentation is VC-API's presentation verify: 200 with verified
// true, or a 400 problem with verified false and the failed checks.
func (s *Server) verifyPresentation(w http.ResponseWriter, r *http.Request) error {
	pv, err := s.presentationVerdict(w, r)
	s.countVerify(r, node.ChannelVCAPI, presentationOutcome(pv), err)
	if err != nil {
		return err
	}
	resp := VCAPIPresentationResponse{Verified: pv.Verified, Holder: pv.Holder, Checks: []string{},
		Warnings: []CheckProblem{}, Errors: []CheckProblem{}, Credentials: []PresentationCredentialResult{}}
	var failed []string
	for _, c := range pv.Checks {
		if c.OK {
			resp.Checks = append(resp.Checks, c.Check)
			continue
		}
		failed = append(failed, c.Check)
		resp.Errors = append(resp.Errors, CheckProblem{
			Type: ProblemTypeBase + "check-failed/" + c.Check, Title: presentationCheckTitles[c.Check], Detail: c.Detail, Check: c.Check,
		})
	}
	for i, v := range pv.Credentials {
		res := PresentationCredentialResult{Verified: v.Verified, Checks: v.Checks, Errors: []CheckProblem{}}
		res.Issuer, res.Anchor, res.Receipt, res.Components = v.Issuer, v.Anchor, v.Receipt, v.Components
		if v.Digest != [32]byte{} {
			res.Digest = v.Digest.String()
		}
		for _, p := range checkProblems(v) {
			res.Errors = append(res.Errors, p)
			p.Detail = fmt.Sprintf("credential %d: %s", i, p.Detail)
			resp.Errors = append(resp.Errors, p)
			failed = append(failed, fmt.Sprintf("credential %d %s", i, p.Check))
		}
		resp.Credentials = append(resp.Credentials, res)
	}
	if pv.Verified {
		s.writeJSON(w, r, http.StatusOK, resp)
		return nil
	}
	p := Problem{Type: ptPresentationNotVerified.uri(), Title: ptPresentationNotVerified.title, Status: ptPresentationNotVerified.status,
		Detail: "failed checks: " + strings.Join(failed, ", "), Instance: r.URL.Path}
	s.write(w, r, p.Status, ProblemContentType, presentationFailure{Problem: p, VCAPIPresentationResponse: resp})
	return nil
}

// presentationOutcome maps a presentation verdict to the verify metric's.
func presentationOutcome(pv *node.PresentationVerification) *node.Verification {
	if pv == nil {
		return nil
	}
	return &node.Verification{Verified: pv.Verified}
}

func (s *Server) presentationVerdict(w http.ResponseWriter, r *http.Request) (*node.PresentationVerification, error) {
	if _, err := mediaType(r, "application/json", func(mt string) bool { return mt == "application/json" }); err != nil {
		return nil, err
	}
	body, err := readBody(w, r, s.maxBody+maxPresentationReceipts*anchor.MaxReceiptSize)
	if err != nil {
		return nil, err
	}
	var req VCAPIPresentationRequest
	if err := decodeStrict(body, &req, "a VC-API presentation verify request"); err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(req.VerifiablePresentation); len(t) == 0 || t[0] != '{' {
		return nil, problemErr(ptMalformedPresentation, nil, "verifiablePresentation must be a JSON object")
	}
	var opts node.PresentationOptions
	if req.Options != nil {
		opts.Challenge, opts.Domain = req.Options.Challenge, req.Options.Domain
	}
	ctx, cancel := context.WithTimeout(r.Context(), verifyTimeout)
	defer cancel()
	pv, err := s.node.VerifyPresentation(ctx, req.VerifiablePresentation, opts)
	if err != nil {
		return nil, fmt.Errorf("httpapi: verify presentation: %w", err)
	}
	return pv, nil
}
