package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
)

// verifyTimeout bounds the chain calls of one verification, so that a slow
// RPC turns into a 503 rather than a request held until the write timeout.
const verifyTimeout = 15 * time.Second

// VerifyRequest is the body of POST /v1/verify.
type VerifyRequest struct {
	// Credential is a credential object, or a JSON string holding a VC-JWT.
	// An object's digest is taken over the bytes as sent (JCS makes their
	// formatting irrelevant).
	Credential json.RawMessage `json:"credential"`
	// Receipt is the credential's receipt, if the verifier has one; without
	// it the node uses its own record.
	Receipt json.RawMessage `json:"receipt,omitempty"`
}

// VerifyResponse is the node's verdict. A credential that fails a check is
// a 200 with Verified false: the request succeeded, the credential did not.
type VerifyResponse struct {
	Verified bool         `json:"verified"`
	Digest   *merkle.Hash `json:"digest,omitempty"`
	// Issuer is the credential's issuer id, when it names one.
	Issuer  string            `json:"issuer,omitempty"`
	Checks  []node.Check      `json:"checks"`
	Anchor  *node.AnchorFacts `json:"anchor,omitempty"`
	Receipt *anchor.Receipt   `json:"receipt,omitempty"`
	// Status is what each status entry says, for a credential with a
	// credentialStatus.
	Status []node.StatusResult `json:"status,omitempty"`
	// ProblemDetails has one RFC 9457-shaped entry per failed check.
	ProblemDetails []CheckProblem `json:"problemDetails"`
}

// CheckProblem describes a failed check in problem-details form.
type CheckProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Check  string `json:"check"`
}

var checkTitles = map[string]string{
	node.CheckDigest:         "The credential's digest cannot be computed",
	node.CheckStructure:      "The credential is not a well-formed verifiable credential",
	node.CheckProof:          "The credential's proof does not verify",
	node.CheckIssuer:         "The credential was not signed by its issuer's DID",
	node.CheckValidity:       "The credential is outside its validity period",
	node.CheckInclusion:      "The credential is not included in an anchored batch",
	node.CheckAnchored:       "The batch root is not anchored on chain as the receipt says",
	node.CheckMemberAtAnchor: "The anchor was not made by the consortium member that issued the credential",
	node.CheckStatus:         "The credential is revoked or suspended, or its status cannot be checked",
}

// ChannelHeader is the request header with which the node's own web page
// marks its verification requests, so that the stats count them under the
// page channel. Only the value ChannelHeaderPage is honoured; any other is
// ignored, and the request counts under its route's channel.
const (
	ChannelHeader     = "X-Credanchor-Channel"
	ChannelHeaderPage = "page"
)

// verify checks a credential, with or without its receipt. Every request
// counts in the verify metric: verified or failed for a verdict, error for
// a request that got none (bad input or a node failure).
func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	v, err := s.verdict(r, w)
	s.countVerify(r, node.ChannelHTTP, v, err)
	if err != nil {
		return err
	}
	resp := VerifyResponse{Verified: v.Verified, Issuer: v.Issuer, Checks: v.Checks, Anchor: v.Anchor, Receipt: v.Receipt, Status: v.Status, ProblemDetails: []CheckProblem{}}
	if v.Digest != (merkle.Hash{}) {
		d := v.Digest
		resp.Digest = &d
	}
	resp.ProblemDetails = append(resp.ProblemDetails, checkProblems(v)...)
	s.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

// checkProblems has one problem-details entry per failed check.
func checkProblems(v *node.Verification) []CheckProblem {
	var out []CheckProblem
	for _, c := range v.Checks {
		if c.OK {
			continue
		}
		title, ok := checkTitles[c.Check]
		if !ok {
			title = "Check " + c.Check + " failed"
		}
		out = append(out, CheckProblem{
			Type: ProblemTypeBase + "check-failed/" + c.Check, Title: title, Detail: c.Detail, Check: c.Check,
		})
	}
	return out
}

// countVerify counts a request in the node's stats and verify metric:
// verified or failed for a verdict, error for a request that got none; on
// its route's channel, or the page's when the page says so.
func (s *Server) countVerify(r *http.Request, ch node.Channel, v *node.Verification, err error) {
	outcome := node.OutcomeError
	switch {
	case err != nil:
	case v.Verified:
		outcome = node.OutcomeVerified
	default:
		outcome = node.OutcomeFailed
	}
	if r.Header.Get(ChannelHeader) == ChannelHeaderPage {
		ch = node.ChannelPage
	}
	s.node.CountVerification(ch, outcome)
}

// check verifies a credential with the chain calls bounded by
// verifyTimeout.
func (s *Server) check(ctx context.Context, data []byte, form credential.Form, rc *anchor.Receipt) (*node.Verification, error) {
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	v, err := s.node.Verify(ctx, data, form, rc)
	if err != nil {
		return nil, fmt.Errorf("httpapi: verify: %w", err)
	}
	return v, nil
}

func (s *Server) verdict(r *http.Request, w http.ResponseWriter) (*node.Verification, error) {
	if _, err := mediaType(r, "application/json", func(mt string) bool { return mt == "application/json" }); err != nil {
		return nil, err
	}
	body, err := readBody(w, r, s.maxBody+anchor.MaxReceiptSize)
	if err != nil {
		return nil, err
	}
	req, err := decodeVerifyRequest(body)
	if err != nil {
		return nil, err
	}
	data, form, err := requestCredential(req.Credential)
	if err != nil {
		return nil, err
	}
	var rc *anchor.Receipt
	if len(req.Receipt) > 0 && !bytes.Equal(req.Receipt, []byte("null")) {
		if rc, err = anchor.ParseReceipt(req.Receipt); err != nil {
			return nil, err
		}
	}
	return s.check(r.Context(), data, form, rc)
}

// decodeVerifyRequest decodes strictly: an unknown member (a misspelt
// "receipt") or trailing data is a 400, not silently ignored.
func decodeVerifyRequest(body []byte) (*VerifyRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req VerifyRequest
	if err := dec.Decode(&req); err != nil {
		return nil, problemErr(ptMalformedJSON, err, "the body is not a verification request: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, problemErr(ptMalformedJSON, err, "trailing data after the verification request")
	}
	return &req, nil
}

// requestCredential returns the credential bytes and form of the request's
// credential member.
func requestCredential(raw json.RawMessage) ([]byte, credential.Form, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, 0, problemErr(ptMalformedCredential, nil, "the request has no credential")
	}
	switch raw[0] {
	case '{':
		return raw, credential.FormJSON, nil
	case '"':
		var jwt string
		if err := json.Unmarshal(raw, &jwt); err != nil {
			return nil, 0, problemErr(ptMalformedJSON, err, "credential: %v", err)
		}
		return []byte(jwt), credential.FormJWT, nil
	}
	return nil, 0, problemErr(ptMalformedCredential, nil, "credential is an object or a VC-JWT string")
}
