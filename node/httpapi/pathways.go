package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
)

// maxPathwayBody bounds a pathway definition.
const maxPathwayBody = 64 << 10

// definePathway stores a pathway of this node's institution: 201 with the
// stored definition.
func (s *Server) definePathway(w http.ResponseWriter, r *http.Request) error {
	if _, err := mediaType(r, "application/json", func(mt string) bool { return mt == "application/json" }); err != nil {
		return err
	}
	body, err := readBody(w, r, maxPathwayBody)
	if err != nil {
		return err
	}
	var p node.Pathway
	if err := decodeStrict(body, &p, "a pathway"); err != nil {
		return err
	}
	if p.Issuer != "" || !p.CreatedAt.IsZero() {
		return problemErr(ptInvalidPathway, nil, "issuer and createdAt are the node's to set")
	}
	out, err := s.node.DefinePathway(p)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/pathways/"+out.ID)
	s.writeJSON(w, r, http.StatusCreated, out)
	return nil
}

func (s *Server) pathways(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.node.Pathways()
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []*node.Pathway{}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"pathways": ps})
	return nil
}

func (s *Server) pathway(w http.ResponseWriter, r *http.Request) error {
	p, err := s.node.Pathway(r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, p)
	return nil
}

// ClaimResponse is the answer of a successful claim: the roll-up credential
// issued to the holder (anchored like every credential the node issues) and
// what met each component.
type ClaimResponse struct {
	Credential json.RawMessage         `json:"credential"`
	Digest     merkle.Hash             `json:"digest"`
	State      node.State              `json:"state"`
	Components []node.ComponentOutcome `json:"components"`
}

// claimFailure is the 422 problem of a refused claim, with each component's
// outcome.
type claimFailure struct {
	Problem
	Components []node.ComponentOutcome `json:"components"`
}

// claimPathway checks a learner's presentation against a pathway and issues
// the roll-up (VC-API's presentation verify body: verifiablePresentation and
// options with the challenge).
func (s *Server) claimPathway(w http.ResponseWriter, r *http.Request) error {
	if _, err := mediaType(r, "application/json", func(mt string) bool { return mt == "application/json" }); err != nil {
		return err
	}
	body, err := readBody(w, r, s.maxBody+maxPresentationReceipts*maxPathwayBody)
	if err != nil {
		return err
	}
	var req VCAPIPresentationRequest
	if err := decodeStrict(body, &req, "a pathway claim"); err != nil {
		return err
	}
	if t := bytes.TrimSpace(req.VerifiablePresentation); len(t) == 0 || t[0] != '{' {
		return problemErr(ptMalformedPresentation, nil, "verifiablePresentation must be a JSON object")
	}
	var opts node.PresentationOptions
	if req.Options != nil {
		opts.Challenge, opts.Domain = req.Options.Challenge, req.Options.Domain
	}
	ctx, cancel := context.WithTimeout(r.Context(), verifyTimeout)
	defer cancel()
	c, err := s.node.ClaimPathway(ctx, r.PathValue("id"), req.VerifiablePresentation, opts)
	var ce *node.ClaimError
	if errors.As(err, &ce) {
		p := Problem{Type: ptClaimRefused.uri(), Title: ptClaimRefused.title, Status: ptClaimRefused.status, Detail: ce.Error(), Instance: r.URL.Path}
		comps := ce.Components
		if comps == nil {
			comps = []node.ComponentOutcome{}
		}
		s.write(w, r, p.Status, ProblemContentType, claimFailure{Problem: p, Components: comps})
		return nil
	}
	if err != nil {
		return err
	}
	out, err := issuedJSON(c.Issued)
	if err != nil {
		return err
	}
	w.Header().Set("Location", credentialPath(c.Issued.Submission.Digest))
	s.writeJSON(w, r, http.StatusCreated, ClaimResponse{Credential: out, Digest: c.Issued.Submission.Digest, State: c.Issued.Submission.Record.State, Components: c.Components})
	return nil
}
