package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// healthTimeout bounds the chain probe of a health check.
const healthTimeout = 2 * time.Second

// Health answers GET /healthz. When the node is unhealthy, its chain, store
// and pending members come inside a 503 problem instead.
type Health struct {
	Status  string      `json:"status"`
	Chain   ChainHealth `json:"chain"`
	Store   string      `json:"store"`
	Pending int         `json:"pending"`
}

// ChainHealth is what the health check learnt of the chain.
type ChainHealth struct {
	Reachable bool   `json:"reachable"`
	ChainID   uint64 `json:"chainId"`
	Head      uint64 `json:"head,omitempty"`
}

// healthProblem is a 503 problem extended with the health members
// (RFC 9457 §3.2 allows extension members).
type healthProblem struct {
	Problem
	Chain   ChainHealth `json:"chain"`
	Store   string      `json:"store"`
	Pending int         `json:"pending"`
}

// health probes the chain (its head, within 2 s) and the store. Why a probe
// failed goes to the log only: an RPC error can carry the RPC URL, and with
// it an API key.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	h := Health{Status: "ok", Store: "open", Pending: s.node.PendingCount()}
	h.Chain.ChainID = s.node.ChainID().Uint64()
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	head, chainErr := s.node.ChainHead(ctx)
	if chainErr == nil {
		h.Chain.Reachable, h.Chain.Head = true, head
	}
	storeErr := s.node.CheckStore()
	if storeErr != nil {
		h.Store = "unavailable"
	}
	w.Header().Set("Cache-Control", "no-store")
	if chainErr == nil && storeErr == nil {
		s.writeJSON(w, r, http.StatusOK, h)
		return nil
	}
	detail := "the chain RPC does not answer"
	switch {
	case chainErr != nil && storeErr != nil:
		detail = "the chain RPC does not answer and the store is unavailable"
	case storeErr != nil:
		detail = "the store is unavailable"
	}
	s.log.WarnContext(r.Context(), "health check failed", slog.Any("chain", chainErr), slog.Any("store", storeErr))
	s.write(w, r, ptUnavailable.status, ProblemContentType, healthProblem{
		Problem: Problem{Type: ptUnavailable.uri(), Title: ptUnavailable.title, Status: ptUnavailable.status, Detail: detail, Instance: r.URL.Path},
		Chain:   h.Chain,
		Store:   h.Store,
		Pending: h.Pending,
	})
	return nil
}
