package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

// route is one API operation. routes is the only list of them: New
// registers it on the mux and the tests check it against openapi.json, so
// the document and the server cannot drift apart.
type route struct {
	method string
	path   string // a net/http pattern path, which is also the OpenAPI path
	// auth requires an issuer bearer token.
	auth   bool
	handle func(*Server, http.ResponseWriter, *http.Request) error
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

var routes = []route{
	{http.MethodPost, "/v1/credentials", true, (*Server).submit},
	{http.MethodPost, "/v1/credentials/bulk", true, (*Server).submitBulk},
	{http.MethodGet, "/v1/credentials/{digest}", false, (*Server).credential},
	{http.MethodGet, "/v1/credentials/{digest}/receipt", false, (*Server).receipt},
	{http.MethodPost, "/v1/credentials/{digest}/revoke", true, (*Server).revoke},
	{http.MethodPost, "/v1/credentials/{digest}/suspend", true, (*Server).suspend},
	{http.MethodPost, "/v1/credentials/{digest}/unsuspend", true, (*Server).unsuspend},
	{http.MethodGet, "/v1/status-lists/{listId}", false, (*Server).statusList},
	{http.MethodPost, "/credentials/status", false, (*Server).credentialStatus},
	{http.MethodPost, "/v1/pathways", true, (*Server).definePathway},
	{http.MethodGet, "/v1/pathways", false, (*Server).pathways},
	{http.MethodGet, "/v1/pathways/{id}", false, (*Server).pathway},
	{http.MethodPost, "/v1/pathways/{id}/claim", false, (*Server).claimPathway},
	{http.MethodPost, "/v1/verify", false, (*Server).verify},
	{http.MethodPost, "/v1/issue", true, (*Server).issue},
	{http.MethodPost, "/credentials/issue", true, (*Server).vcapiIssue},
	{http.MethodPost, "/credentials/verify", false, (*Server).vcapiVerify},
	{http.MethodPost, "/presentations/verify", false, (*Server).verifyPresentation},
	{http.MethodPost, "/challenges", false, (*Server).challenge},
	{http.MethodGet, "/v1/batches", false, (*Server).batches},
	{http.MethodGet, "/v1/batches/{root}", false, (*Server).batch},
	{http.MethodGet, "/v1/stats", false, (*Server).stats},
	{http.MethodGet, "/dashboard", false, (*Server).dashboard},
	{http.MethodGet, "/v1/openapi.json", false, (*Server).openAPI},
	{http.MethodGet, "/healthz", false, (*Server).health},
	{http.MethodGet, "/metrics", false, (*Server).serveMetrics},
}

// unmatchedRoute labels the latency of requests that matched no route, so
// that scanners probing random paths add one series, not one per path.
const unmatchedRoute = "unmatched"

// reqState is what the outer handler learns from the route that served a
// request; it travels in the request's context.
type reqState struct {
	route string // the route's path pattern, "" if none matched
}

type stateKey struct{}

// endpoint adapts a route's handler: it marks the request as matched, checks
// the bearer token and sends the handler's error through the one error
// mapper.
func (s *Server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
			st.route = rt.path
		}
		if rt.auth {
			if err := s.authorize(r); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if err := rt.handle(s, w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// serve is the outermost handler: latency, panic recovery, and problem
// details for the mux's own 404 and 405 answers, which are plain text.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := &reqState{}
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	rw := &responseWriter{ResponseWriter: w, s: s, r: r, st: st}
	defer func() {
		route := st.route
		if route == "" {
			route = unmatchedRoute
		}
		code := rw.status
		if code == 0 {
			// A handler that writes nothing answers 200.
			code = http.StatusOK
		}
		s.duration.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(code)).Observe(time.Since(start).Seconds())
	}()
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			// net/http's own signal to abort the connection quietly.
			panic(v)
		}
		s.log.ErrorContext(r.Context(), "panic serving request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
		if rw.status != 0 {
			// Part of an answer is out: abort the connection so the client
			// cannot take a truncated body for a whole one.
			panic(http.ErrAbortHandler)
		}
		s.writeError(rw, r, errPanic)
	}()
	s.mux.ServeHTTP(rw, r)
}

// methodLabel bounds the method label's values: any method can reach the
// unmatched route.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// responseWriter records the status for the latency histogram, and turns the
// mux's plain-text 404 and 405 (written when no route matched) into problem
// details.
type responseWriter struct {
	http.ResponseWriter
	s       *Server
	r       *http.Request
	st      *reqState
	status  int
	swallow bool // the mux's plain-text body is replaced by a problem
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if w.st.route == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		w.swallow = true
		// The mux has set Allow on a 405, which the problem keeps.
		var err error = errNoRoute
		if code == http.StatusMethodNotAllowed {
			err = errMethod
		}
		w.s.writeError(w.ResponseWriter, w.r, err)
		w.status = code
		return
	}
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection, to extend the
// deadlines of bulk submissions.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serveMetrics serves the node's Prometheus registry.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metrics.ServeHTTP(w, r)
	return nil
}
