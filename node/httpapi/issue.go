package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/vc"
	"github.com/credanchor/credanchor/node/vcjwt"
)

// IssueResponse is the answer to POST /v1/issue.
type IssueResponse struct {
	// Credential is the signed credential: a JSON object, or a VC-JWT
	// string.
	Credential json.RawMessage `json:"credential"`
	Digest     merkle.Hash     `json:"digest"`
	State      node.State      `json:"state"`
}

const jsonAccept = "application/json, application/ld+json, application/vc+ld+json, application/vc"

func isJSONCredentialType(mt string) bool {
	f, ok := credentialTypes[mt]
	return ok && f == credential.FormJSON
}

// issue signs an unsigned credential as this node's institution and submits
// it: 201 with the signed credential, its digest and state.
func (s *Server) issue(w http.ResponseWriter, r *http.Request) error {
	if _, err := mediaType(r, jsonAccept, isJSONCredentialType); err != nil {
		return err
	}
	q := r.URL.Query()
	opts := node.IssueOptions{Format: q.Get("format"), Cryptosuite: q.Get("cryptosuite")}
	body, err := readBody(w, r, s.maxBody)
	if err != nil {
		return err
	}
	iss, err := s.node.Issue(r.Context(), body, opts)
	if err != nil {
		return err
	}
	cred, err := issuedJSON(iss)
	if err != nil {
		return err
	}
	w.Header().Set("Location", credentialPath(iss.Submission.Digest))
	s.writeJSON(w, r, http.StatusCreated, IssueResponse{Credential: cred, Digest: iss.Submission.Digest, State: iss.Submission.Record.State})
	return nil
}

// issuedJSON is the signed credential as JSON: the object itself, or the
// VC-JWT as a string.
func issuedJSON(iss *node.Issued) (json.RawMessage, error) {
	if iss.Form == credential.FormJWT {
		return json.Marshal(string(iss.Credential))
	}
	return iss.Credential, nil
}

// VCAPIIssueRequest is the body of POST /credentials/issue (W3C VC-API).
type VCAPIIssueRequest struct {
	Credential json.RawMessage `json:"credential"`
	Options    *VCAPIOptions   `json:"options,omitempty"`
}

// VCAPIOptions are the VC-API options the node understands. Format
// ("jwt") is credanchor's extension; cryptosuite is VC-API's.
type VCAPIOptions struct {
	Cryptosuite string `json:"cryptosuite,omitempty"`
	Format      string `json:"format,omitempty"`
}

// VCAPIIssueResponse is the answer of POST /credentials/issue.
type VCAPIIssueResponse struct {
	VerifiableCredential json.RawMessage `json:"verifiableCredential"`
}

// decodeStrict decodes one JSON object into v, refusing unknown members and
// trailing data.
func decodeStrict(body []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return problemErr(ptMalformedJSON, err, "the body is not %s: %v", what, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problemErr(ptMalformedJSON, err, "trailing data after %s", what)
	}
	return nil
}

// vcapiIssue is VC-API's issue: 201 {"verifiableCredential": …}; a VC-JWT
// comes back as an EnvelopedVerifiableCredential.
func (s *Server) vcapiIssue(w http.ResponseWriter, r *http.Request) error {
	if _, err := mediaType(r, "application/json", func(mt string) bool { return mt == "application/json" }); err != nil {
		return err
	}
	body, err := readBody(w, r, s.maxBody)
	if err != nil {
		return err
	}
	var req VCAPIIssueRequest
	if err := decodeStrict(body, &req, "a VC-API issue request"); err != nil {
		return err
	}
	if t := bytes.TrimSpace(req.Credential); len(t) == 0 || t[0] != '{' {
		return problemErr(ptMalformedCredential, nil, "credential must be a JSON object")
	}
	var opts node.IssueOptions
	if req.Options != nil {
		opts = node.IssueOptions{Format: req.Options.Format, Cryptosuite: req.Options.Cryptosuite}
	}
	iss, err := s.node.Issue(r.Context(), req.Credential, opts)
	if err != nil {
		return err
	}
	out := json.RawMessage(iss.Credential)
	if iss.Form == credential.FormJWT {
		env, err := json.Marshal(map[string]any{
			"@context": vc.ContextV2,
			"id":       "data:application/vc+jwt," + string(iss.Credential),
			"type":     vc.TypeEnvelopedVerifiableCredential,
		})
		if err != nil {
			return err
		}
		out = env
	}
	w.Header().Set("Location", credentialPath(iss.Submission.Digest))
	s.writeJSON(w, r, http.StatusCreated, VCAPIIssueResponse{VerifiableCredential: out})
	return nil
}

// VCAPIVerifyRequest is the body of POST /credentials/verify (W3C VC-API).
type VCAPIVerifyRequest struct {
	// VerifiableCredential is a credential object, an
	// EnvelopedVerifiableCredential holding a VC-JWT, or a VC-JWT string.
	VerifiableCredential json.RawMessage     `json:"verifiableCredential"`
	Options              *VCAPIVerifyOptions `json:"options,omitempty"`
}

// VCAPIVerifyOptions: Receipt (credanchor's extension) is the credential's
// receipt; without it the node uses its own record. Checks, the checks a
// VC-API client asks for (the W3C test suites send ["proof"]), is accepted
// and does not narrow the verification: the node always makes every check.
type VCAPIVerifyOptions struct {
	Receipt json.RawMessage `json:"receipt,omitempty"`
	Checks  []string        `json:"checks,omitempty"`
}

// VCAPIVerifyResponse is the answer of POST /credentials/verify: Checks
// names the checks that passed, Errors describes those that failed. A
// failed verification is a 400 problem with the same members.
type VCAPIVerifyResponse struct {
	Verified bool              `json:"verified"`
	Checks   []string          `json:"checks"`
	Warnings []CheckProblem    `json:"warnings"`
	Errors   []CheckProblem    `json:"errors"`
	Digest   *merkle.Hash      `json:"digest,omitempty"`
	Anchor   *node.AnchorFacts `json:"anchor,omitempty"`
}

// vcapiFailure is the 400 problem of a credential that did not verify.
type vcapiFailure struct {
	Problem
	VCAPIVerifyResponse
}

// vcapiVerify is VC-API's verify: 200 with verified true, or a 400 problem
// with verified false and the failed checks.
func (s *Server) vcapiVerify(w http.ResponseWriter, r *http.Request) error {
	v, err := s.vcapiVerdict(w, r)
	s.countVerify(r, node.ChannelVCAPI, v, err)
	if err != nil {
		return err
	}
	resp := VCAPIVerifyResponse{Verified: v.Verified, Checks: []string{}, Warnings: []CheckProblem{}, Errors: []CheckProblem{}, Anchor: v.Anchor}
	if v.Digest != (merkle.Hash{}) {
		d := v.Digest
		resp.Digest = &d
	}
	for _, c := range v.Checks {
		if c.OK {
			resp.Checks = append(resp.Checks, c.Check)
		}
	}
	resp.Errors = append(resp.Errors, checkProblems(v)...)
	if v.Verified {
		s.writeJSON(w, r, http.StatusOK, resp)
		return nil
	}
	failed := make([]string, len(resp.Errors))
	for i, e := range resp.Errors {
		failed[i] = e.Check
	}
	p := Problem{Type: ptNotVerified.uri(), Title: ptNotVerified.title, Status: ptNotVerified.status,
		Detail: "failed checks: " + strings.Join(failed, ", "), Instance: r.URL.Path}
	if slices.Contains(failed, node.CheckProof) || slices.Contains(failed, node.CheckIssuer) {
		p.VCError = vc.CodeCryptographicSecurity
	}
	s.write(w, r, p.Status, ProblemContentType, vcapiFailure{Problem: p, VCAPIVerifyResponse: resp})
	return nil
}

func (s *Server) vcapiVerdict(w http.ResponseWriter, r *http.Request) (*node.Verification, error) {
	if _, err := mediaType(r, "application/json", func(mt string) bool { return mt == "application/json" }); err != nil {
		return nil, err
	}
	body, err := readBody(w, r, s.maxBody+anchor.MaxReceiptSize)
	if err != nil {
		return nil, err
	}
	var req VCAPIVerifyRequest
	if err := decodeStrict(body, &req, "a VC-API verify request"); err != nil {
		return nil, err
	}
	data, form, err := vcapiCredential(req.VerifiableCredential)
	if err != nil {
		return nil, err
	}
	var rc *anchor.Receipt
	if req.Options != nil && len(req.Options.Receipt) > 0 && !bytes.Equal(req.Options.Receipt, []byte("null")) {
		if rc, err = anchor.ParseReceipt(req.Options.Receipt); err != nil {
			return nil, err
		}
	}
	return s.check(r.Context(), data, form, rc)
}

// vcapiCredential unwraps an EnvelopedVerifiableCredential to its VC-JWT;
// anything else is read as by /v1/verify.
func vcapiCredential(raw json.RawMessage) ([]byte, credential.Form, error) {
	var env struct {
		Type any    `json:"type"`
		ID   string `json:"id"`
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' && json.Unmarshal(t, &env) == nil &&
		(env.Type == vc.TypeEnvelopedVerifiableCredential || slices.Contains(asStrings(env.Type), vc.TypeEnvelopedVerifiableCredential)) {
		tok, err := vcjwt.ParseEnvelope(env.ID)
		if err != nil {
			return nil, 0, problemErr(ptMalformedCredential, err, "enveloped credential: %v", err)
		}
		return []byte(tok), credential.FormJWT, nil
	}
	return requestCredential(raw)
}

func asStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
