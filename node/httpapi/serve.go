package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts of the http.Server that NewHTTPServer returns. Bulk submissions
// extend the read and write deadlines of their own connection.
const (
	// ReadHeaderTimeout bounds a request's headers: slow-header clients
	// (Slowloris) lose their connection.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout = 30 * time.Second
	// WriteTimeout bounds a request from the end of its headers to the end
	// of the response; it is above the verify timeout (15 s) so that a slow
	// chain still gets its 503 out.
	WriteTimeout = 60 * time.Second
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout = 120 * time.Second
	// ShutdownTimeout bounds a graceful shutdown; requests still running
	// after it are cut.
	ShutdownTimeout = 10 * time.Second
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes = 64 << 10
)

// NewHTTPServer returns an http.Server for h with the timeouts above. Every
// server of the API should be made by it: a zero http.Server has no
// timeouts at all.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// Serving is an HTTP server started by ListenAndServe.
type Serving struct {
	srv  *http.Server
	addr string
	done chan struct{} // closed when Serve has returned and shutdown is over

	closeOnce sync.Once
	closeErr  error
	serveErr  error
}

// ListenAndServe listens on addr (port 0 picks a free port) and serves h
// with NewHTTPServer's timeouts until ctx ends or Close is called; then it
// shuts down gracefully, for at most ShutdownTimeout. It returns once the
// listener is open, so Addr is the address clients can dial.
func ListenAndServe(ctx context.Context, addr string, h http.Handler) (*Serving, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("httpapi: listen on %s: %w", addr, err)
	}
	return Serve(ctx, ln, h), nil
}

// Serve is ListenAndServe on a listener the caller opened: one whose
// address the node must know before it starts (it names it in the status
// entries it issues).
func Serve(ctx context.Context, ln net.Listener, h http.Handler) *Serving {
	s := &Serving{srv: NewHTTPServer(ln.Addr().String(), h), addr: ln.Addr().String(), done: make(chan struct{})}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = err
		}
	}()
	go func() {
		defer close(s.done)
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-served:
		}
		<-served
	}()
	return s
}

// ListenAndServe serves the server's handler as the package's
// ListenAndServe does.
func (s *Server) ListenAndServe(ctx context.Context, addr string) (*Serving, error) {
	return ListenAndServe(ctx, addr, s.Handler())
}

// Addr is the address the server listens on, with the real port.
func (s *Serving) Addr() string { return s.addr }

// URL is the server's base URL, http://host:port.
func (s *Serving) URL() string { return "http://" + s.addr }

// Close shuts the server down gracefully: it stops listening, then waits
// up to ShutdownTimeout for running requests before cutting them. It is
// safe to call more than once and returns the first call's result.
func (s *Serving) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.closeErr = errors.Join(fmt.Errorf("httpapi: shutdown: %w", err), s.srv.Close())
		}
	})
	return s.closeErr
}

// Wait blocks until the server has stopped, and returns why it stopped on
// its own (nil after ctx ended or Close).
func (s *Serving) Wait() error {
	<-s.done
	return s.serveErr
}
