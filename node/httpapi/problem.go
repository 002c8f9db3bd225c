package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/vc"
)

// ProblemContentType is the media type of every error response (RFC 9457).
const ProblemContentType = "application/problem+json"

// ProblemTypeBase prefixes the type URI of every problem specific to this
// API. Types are tag URIs (RFC 4151), which RFC 9457 §4 suggests for type
// identifiers that are not meant to be dereferenced. Problems that say no
// more than their HTTP status have type "about:blank".
const ProblemTypeBase = "tag:credanchor.dev,2026:problem/"

// Problem is an RFC 9457 problem details object, the body of every error
// response.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// VCError is the VC Data Model error code (MALFORMED_VALUE_ERROR, …) of
	// a problem about a credential, an extension member.
	VCError string `json:"vcError,omitempty"`
}

// problemType is a kind of problem: a type URI with its fixed title and
// status.
type problemType struct {
	slug   string // "" means about:blank
	title  string
	status int
}

func (pt problemType) uri() string {
	if pt.slug == "" {
		return "about:blank"
	}
	return ProblemTypeBase + pt.slug
}

// The problems the API answers with. The OpenAPI document lists the same
// slugs.
var (
	ptMalformedJSON           = problemType{"malformed-json", "Malformed JSON", http.StatusBadRequest}
	ptMalformedCredential     = problemType{"malformed-credential", "Malformed credential", http.StatusBadRequest}
	ptMalformedReceipt        = problemType{"malformed-receipt", "Malformed receipt", http.StatusBadRequest}
	ptInvalidHash             = problemType{"invalid-hash", "Invalid hash", http.StatusBadRequest}
	ptInvalidParameter        = problemType{"invalid-parameter", "Invalid query parameter", http.StatusBadRequest}
	ptUnreadableBody          = problemType{"unreadable-body", "Unreadable request body", http.StatusBadRequest}
	ptUnauthorized            = problemType{"unauthorized", "Missing or invalid issuer token", http.StatusUnauthorized}
	ptNotFound                = problemType{"not-found", "Not found", http.StatusNotFound}
	ptNotAnchored             = problemType{"not-anchored", "Not anchored yet", http.StatusNotFound}
	ptNoRoute                 = problemType{"", "Not Found", http.StatusNotFound}
	ptMethod                  = problemType{"", "Method Not Allowed", http.StatusMethodNotAllowed}
	ptTooLarge                = problemType{"body-too-large", "Request body too large", http.StatusRequestEntityTooLarge}
	ptMediaType               = problemType{"unsupported-media-type", "Unsupported media type", http.StatusUnsupportedMediaType}
	ptInternal                = problemType{"", "Internal Server Error", http.StatusInternalServerError}
	ptUnavailable             = problemType{"unavailable", "Service unavailable", http.StatusServiceUnavailable}
	ptInvalidCredential       = problemType{"invalid-credential", "Invalid credential", http.StatusBadRequest}
	ptIssuerMismatch          = problemType{"issuer-mismatch", "The credential names another issuer", http.StatusBadRequest}
	ptNoIssuer                = problemType{"no-issuer-identity", "This node cannot issue", http.StatusConflict}
	ptNotOwnCredential        = problemType{"not-own-credential", "Not a credential of this node's institution", http.StatusUnprocessableEntity}
	ptNotVerified             = problemType{"not-verified", "The credential did not verify", http.StatusBadRequest}
	ptMalformedPresentation   = problemType{"malformed-presentation", "Malformed presentation", http.StatusBadRequest}
	ptPresentationNotVerified = problemType{"presentation-not-verified", "The presentation did not verify", http.StatusBadRequest}
	ptNoStatus                = problemType{"no-status", "No status kept for this credential", http.StatusNotFound}
	ptRevocationFinal         = problemType{"revocation-final", "The credential is revoked, which is final", http.StatusConflict}
	ptInvalidStatusChange     = problemType{"invalid-status-change", "Invalid status change", http.StatusBadRequest}
	ptInvalidPathway          = problemType{"invalid-pathway", "Invalid pathway", http.StatusBadRequest}
	ptPathwayExists           = problemType{"pathway-exists", "A pathway of this id is already defined", http.StatusConflict}
	ptClaimRefused            = problemType{"claim-refused", "The presentation does not earn the pathway", http.StatusUnprocessableEntity}
)

// problemTypes lists every problem type above. The OpenAPI document lists
// the same ones in the Problem schema's x-problem-types, which a test checks.
var problemTypes = []problemType{
	ptMalformedJSON, ptMalformedCredential, ptMalformedReceipt, ptInvalidHash, ptInvalidParameter,
	ptUnreadableBody, ptUnauthorized, ptNotFound, ptNotAnchored, ptNoRoute, ptMethod, ptTooLarge,
	ptMediaType, ptInternal, ptUnavailable, ptInvalidCredential, ptIssuerMismatch, ptNoIssuer,
	ptNotOwnCredential, ptNotVerified, ptMalformedPresentation, ptPresentationNotVerified,
	ptNoStatus, ptRevocationFinal, ptInvalidStatusChange, ptInvalidPathway, ptPathwayExists, ptClaimRefused,
}

// apiError is an error that knows its problem. Detail is sent to the client;
// cause is only logged, since it may hold internal detail (an RPC URL with
// an API key, a file path).
type apiError struct {
	pt     problemType
	detail string
	cause  error
	header map[string]string
}

func (e *apiError) Error() string {
	msg := e.pt.title
	if e.detail != "" {
		msg += ": " + e.detail
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

func (e *apiError) Unwrap() error { return e.cause }

func problemErr(pt problemType, cause error, format string, args ...any) *apiError {
	return &apiError{pt: pt, detail: fmt.Sprintf(format, args...), cause: cause}
}

var (
	errNoRoute = &apiError{pt: ptNoRoute, detail: "no such route; GET /v1/openapi.json lists them"}
	errMethod  = &apiError{pt: ptMethod, detail: "the route does not take this method; the Allow header lists those it takes"}
	errPanic   = errors.New("httpapi: handler panicked")
)

// problem is the one error mapper: it picks the problem, the extra headers
// and the log level for err.
func problem(err error) (pt problemType, detail string, header map[string]string) {
	var (
		ae  *apiError
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
		ne  net.Error
	)
	switch {
	case errors.As(err, &ae):
		return ae.pt, ae.detail, ae.header
	case errors.As(err, &mbe):
		return ptTooLarge, fmt.Sprintf("the body is over the limit of %d bytes", mbe.Limit), nil
	case errors.Is(err, node.ErrInvalidCredential):
		return ptInvalidCredential, err.Error(), nil
	case errors.Is(err, node.ErrIssuerMismatch):
		return ptIssuerMismatch, err.Error(), nil
	case errors.Is(err, node.ErrNoIssuer):
		return ptNoIssuer, err.Error(), nil
	case errors.Is(err, node.ErrUnsupportedFormat):
		return ptInvalidParameter, err.Error(), nil
	case errors.Is(err, node.ErrNotOwnCredential):
		return ptNotOwnCredential, err.Error(), nil
	case errors.Is(err, node.ErrInvalidPathway):
		return ptInvalidPathway, err.Error(), nil
	case errors.Is(err, node.ErrPathwayExists):
		return ptPathwayExists, err.Error(), nil
	case errors.Is(err, node.ErrNoStatus):
		return ptNoStatus, err.Error() + ": only a credential this node issued with status lists can change status", nil
	case errors.Is(err, node.ErrRevocationFinal):
		return ptRevocationFinal, err.Error(), nil
	case errors.Is(err, node.ErrInvalidStatusChange):
		return ptInvalidStatusChange, err.Error(), nil
	case errors.Is(err, node.ErrPending):
		return ptNotAnchored, err.Error() + "; retry later", nil
	case errors.Is(err, node.ErrNotFound):
		return ptNotFound, err.Error(), nil
	case errors.Is(err, credential.ErrMalformed):
		return ptMalformedCredential, err.Error(), nil
	case errors.Is(err, anchor.ErrMalformedReceipt):
		return ptMalformedReceipt, err.Error(), nil
	case errors.Is(err, merkle.ErrInvalidHash):
		return ptInvalidHash, err.Error(), nil
	case errors.As(err, &se), errors.As(err, &ute):
		return ptMalformedJSON, err.Error(), nil
	case errors.Is(err, context.DeadlineExceeded):
		return ptUnavailable, "the chain RPC did not answer in time", map[string]string{"Retry-After": "5"}
	case errors.Is(err, context.Canceled):
		return ptUnavailable, "the request was cancelled", nil
	case errors.As(err, &ne):
		// The only network peer of a handler is the chain RPC (the store is
		// local), so a network error means it is down: the node is fine.
		return ptUnavailable, "the chain RPC is unreachable", map[string]string{"Retry-After": "5"}
	}
	return ptInternal, "the node could not answer; its log has the details", nil
}

// writeError answers err as a problem and logs it: 5xx at error, 404 and 405
// at debug (clients poll for receipts, scanners probe paths), other 4xx at
// warn.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	pt, detail, header := problem(err)
	level := slog.LevelWarn
	switch {
	case pt.status >= 500 && !errors.Is(err, context.Canceled):
		level = slog.LevelError
	case pt.status == http.StatusNotFound, pt.status == http.StatusMethodNotAllowed, errors.Is(err, context.Canceled):
		level = slog.LevelDebug
	}
	s.log.Log(r.Context(), level, "request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", pt.status), slog.Any("error", err))
	for k, v := range header {
		w.Header().Set(k, v)
	}
	writeProblem(w, &Problem{Type: pt.uri(), Title: pt.title, Status: pt.status, Detail: detail, Instance: r.URL.Path, VCError: vcErrorCode(err)})
}

// vcErrorCode is the VC Data Model error code of an error about a
// credential, or "".
func vcErrorCode(err error) string {
	var (
		ce *node.CredentialError
		no *node.NotOwnError
	)
	switch {
	case errors.As(err, &ce):
		return ce.Code()
	case errors.As(err, &no):
		return no.Code()
	case errors.Is(err, node.ErrIssuerMismatch):
		return vc.CodeMalformedValue
	}
	return ""
}

func writeProblem(w http.ResponseWriter, p *Problem) {
	// A Problem of strings and an int always encodes.
	body, _ := json.Marshal(p)
	writeBody(w, p.Status, ProblemContentType, body)
}

// writeJSON answers status with v as JSON.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	s.write(w, r, status, "application/json", v)
}

// write encodes v before writing anything, so that an encoding failure can
// still become a 500 problem.
func (s *Server) write(w http.ResponseWriter, r *http.Request, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("httpapi: encode response: %w", err))
		return
	}
	writeBody(w, status, contentType, body)
}

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
