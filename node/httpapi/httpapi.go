// Package httpapi is a credanchor node's HTTP API: JSON over net/http, errors
// as RFC 9457 problem details, described by the OpenAPI 3.1 document it
// serves at /v1/openapi.json.
package httpapi

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/credanchor/credanchor/node"
)

// Defaults for the zero values of Config.
const (
	// DefaultMaxBodyBytes bounds the body of a request that carries one
	// credential; it is the node's own limit on a credential
	// (credential.MaxSize).
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxBulkBytes bounds the body of a bulk submission.
	DefaultMaxBulkBytes = 64 << 20
)

// Config configures a Server.
type Config struct {
	// Node answers every request. Required.
	Node *node.Node
	// IssuerTokens are the bearer tokens allowed to submit credentials. The
	// server keeps only their SHA-256 hashes. Empty means that submission is
	// closed: every submission is answered 401. An empty string is refused,
	// since it would let an empty Authorization header in.
	IssuerTokens []string
	// MaxBodyBytes bounds a request body that carries one credential (a
	// submission, a verification, a bulk line). Zero means
	// DefaultMaxBodyBytes. Raising it past credential.MaxSize only turns the
	// 413 for a larger credential into the node's 400.
	MaxBodyBytes int64
	// MaxBulkBytes bounds the body of a bulk submission. Zero means
	// DefaultMaxBulkBytes.
	MaxBulkBytes int64
	// Logger receives one record per failed request (5xx at error, 4xx at
	// warn or debug) and each recovered panic. Nil means slog.Default().
	Logger *slog.Logger
}

// Server is the HTTP API of one node. Its Handler is safe for concurrent use.
type Server struct {
	node     *node.Node
	tokens   [][sha256.Size]byte
	maxBody  int64
	maxBulk  int64
	log      *slog.Logger
	mux      *http.ServeMux
	metrics  http.Handler
	duration *prometheus.HistogramVec
	handler  http.Handler
}

// New checks cfg and builds the server's routes.
func New(cfg Config) (*Server, error) {
	if cfg.Node == nil {
		return nil, errors.New("httpapi: Config.Node is required")
	}
	if cfg.MaxBodyBytes < 0 || cfg.MaxBulkBytes < 0 {
		return nil, fmt.Errorf("httpapi: negative body limit (MaxBodyBytes %d, MaxBulkBytes %d)", cfg.MaxBodyBytes, cfg.MaxBulkBytes)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxBulkBytes == 0 {
		cfg.MaxBulkBytes = DefaultMaxBulkBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		node:    cfg.Node,
		maxBody: cfg.MaxBodyBytes,
		maxBulk: cfg.MaxBulkBytes,
		log:     cfg.Logger.With("component", "httpapi"),
		mux:     http.NewServeMux(),
	}
	for i, tok := range cfg.IssuerTokens {
		if tok == "" {
			return nil, fmt.Errorf("httpapi: IssuerTokens[%d] is empty", i)
		}
		s.tokens = append(s.tokens, sha256.Sum256([]byte(tok)))
	}
	if len(s.tokens) == 0 {
		s.log.Warn("no issuer tokens configured: credential submission is closed")
	}

	reg := cfg.Node.Metrics().Registry
	var err error
	if s.duration, err = registerDuration(reg); err != nil {
		return nil, err
	}
	s.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// A collector that fails should not hide all the others.
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelError),
	})

	for _, rt := range routes {
		s.mux.Handle(rt.pattern(), s.endpoint(rt))
	}
	s.mountWeb() // the verifier page: not an API route, so not in routes
	s.handler = http.HandlerFunc(s.serve)
	return s, nil
}

// Handler returns the API's handler: every route, with problem-details
// errors, panic recovery and the request latency histogram.
func (s *Server) Handler() http.Handler { return s.handler }

// registerDuration registers the request latency histogram in reg, or
// returns the one already there: a second Server over the same node shares
// it rather than failing.
func registerDuration(reg *prometheus.Registry) (*prometheus.HistogramVec, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "credanchor_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern, method and status code.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"route", "method", "code"})
	err := reg.Register(h)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(*prometheus.HistogramVec); ok {
			return existing, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("httpapi: register metrics: %w", err)
	}
	return h, nil
}
