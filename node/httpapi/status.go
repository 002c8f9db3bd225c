package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
)

// StatusChangeRequest is the optional body of the revoke, suspend and
// unsuspend routes.
type StatusChangeRequest struct {
	// Reason is recorded with the change (at most 1,024 bytes); it is not
	// published.
	Reason string `json:"reason,omitempty"`
}

// StatusChangeResponse is the credential's status after a change.
type StatusChangeResponse struct {
	Digest merkle.Hash       `json:"digest"`
	Status []node.EntryState `json:"status"`
	// Pending: verifiers see the change only once the next version of the
	// list is anchored.
	Pending bool `json:"pending"`
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error {
	return s.changeStatus(w, r, node.ActionRevoke)
}

func (s *Server) suspend(w http.ResponseWriter, r *http.Request) error {
	return s.changeStatus(w, r, node.ActionSuspend)
}

func (s *Server) unsuspend(w http.ResponseWriter, r *http.Request) error {
	return s.changeStatus(w, r, node.ActionUnsuspend)
}

// changeStatus records a status change durably before answering.
func (s *Server) changeStatus(w http.ResponseWriter, r *http.Request, action string) error {
	d, err := pathHash(r, "digest")
	if err != nil {
		return err
	}
	body, err := readBody(w, r, 8<<10)
	if err != nil {
		return err
	}
	var req StatusChangeRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if _, err := mediaType(r, "application/json", func(mt string) bool { return mt == "application/json" }); err != nil {
			return err
		}
		if err := decodeStrict(body, &req, "a status change"); err != nil {
			return err
		}
	}
	st, err := s.node.ChangeStatus(d, action, req.Reason)
	if err != nil {
		return err
	}
	resp := StatusChangeResponse{Digest: d, Status: st}
	for _, e := range st {
		resp.Pending = resp.Pending || e.Pending
	}
	s.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

// StatusListMediaType is the media type status lists are served with.
const StatusListMediaType = "application/vc+ld+json"

// statusList serves the latest anchored version of a status list,
// ?version=N, or ?hash=H: the version whose hash the registry names, which
// may be on its way to being recorded as anchored.
func (s *Server) statusList(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("listId")
	if q := r.URL.Query().Get("hash"); q != "" {
		h, err := merkle.ParseHash(q)
		if err != nil {
			return problemErr(ptInvalidParameter, err, "hash %q is not 32 bytes of hex", truncate(q, 80))
		}
		v, err := s.node.StatusListByHash(id, h)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		writeBody(w, http.StatusOK, StatusListMediaType, v.Credential)
		return nil
	}
	var version uint64
	if q := r.URL.Query().Get("version"); q != "" {
		v, err := strconv.ParseUint(q, 10, 64)
		if err != nil || v == 0 {
			return problemErr(ptInvalidParameter, err, "version %q is not a positive integer", truncate(q, 40))
		}
		version = v
	}
	v, err := s.node.StatusListCredential(id, version)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("ETag", strconv.Quote(fmt.Sprintf("%x", v.Hash)))
	h.Set("X-Status-List-Version", strconv.FormatUint(v.Version, 10))
	if version == 0 {
		// The latest changes with each publication; verifiers check it
		// against the chain anyway.
		h.Set("Cache-Control", "no-cache")
	} else {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	writeBody(w, http.StatusOK, StatusListMediaType, v.Credential)
	return nil
}

// VCAPIStatusRequest is the body of POST /credentials/status: the
// credential whose status to check, and optionally its receipt, without
// which the node uses its own record.
type VCAPIStatusRequest struct {
	VerifiableCredential json.RawMessage     `json:"verifiableCredential"`
	Options              *VCAPIVerifyOptions `json:"options,omitempty"`
}

// VCAPIStatusResponse: each status entry's {status, purpose, valid}, and
// the status check that sums them up (absent for a credential without
// credentialStatus).
type VCAPIStatusResponse struct {
	Status []node.StatusResult `json:"status"`
	Check  *node.Check         `json:"check,omitempty"`
}

// credentialStatus checks a credential's status entries: the lists are
// fetched and verified, and for a consortium member's credential checked
// against the member's latest anchor.
func (s *Server) credentialStatus(w http.ResponseWriter, r *http.Request) error {
	if _, err := mediaType(r, "application/json", func(mt string) bool { return mt == "application/json" }); err != nil {
		return err
	}
	body, err := readBody(w, r, s.maxBody+anchor.MaxReceiptSize)
	if err != nil {
		return err
	}
	var req VCAPIStatusRequest
	if err := decodeStrict(body, &req, "a VC-API status request"); err != nil {
		return err
	}
	data, form, err := vcapiCredential(req.VerifiableCredential)
	if err != nil {
		return err
	}
	var rc *anchor.Receipt
	if req.Options != nil && len(req.Options.Receipt) > 0 && !bytes.Equal(req.Options.Receipt, []byte("null")) {
		if rc, err = anchor.ParseReceipt(req.Options.Receipt); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), verifyTimeout)
	defer cancel()
	v, err := s.node.Verify(ctx, data, form, rc)
	if err != nil {
		return fmt.Errorf("httpapi: status: %w", err)
	}
	resp := VCAPIStatusResponse{Status: v.Status}
	if resp.Status == nil {
		resp.Status = []node.StatusResult{}
	}
	for _, c := range v.Checks {
		if c.Check == node.CheckStatus {
			resp.Check = &c
		}
	}
	s.writeJSON(w, r, http.StatusOK, resp)
	return nil
}
