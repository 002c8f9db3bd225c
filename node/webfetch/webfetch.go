// Package webfetch fetches documents that credentials point at (status list
// credentials, DID documents) without letting a credential turn the node
// into a probe of its own network: by default it connects only to public
// unicast addresses, directly, and reads a bounded number of bytes.
package webfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Defaults of Config.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultMaxBytes = 1 << 20
	maxRedirects    = 3
)

var (
	// ErrRefused: the URL, an address it resolved to or a redirect is not
	// one the fetcher may reach.
	ErrRefused = errors.New("webfetch: refused")
	// ErrNotFound: the server answered 404 or 410.
	ErrNotFound = errors.New("webfetch: not found")
	// ErrUnavailable: the server could not be reached or answered an error.
	ErrUnavailable = errors.New("webfetch: unavailable")
	// ErrTooLarge: the document is over the size limit.
	ErrTooLarge = errors.New("webfetch: document too large")
)

// Config configures a Fetcher. The zero value fetches https and http URLs
// of public addresses only.
type Config struct {
	// AllowPrivate lets the fetcher reach loopback and private addresses:
	// for a dev network and tests, whose status lists live on 127.0.0.1.
	AllowPrivate bool
	// Timeout bounds one fetch, redirects included. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxBytes bounds a document. Zero means DefaultMaxBytes.
	MaxBytes int64
	// Client, when set, sends the requests as given, AllowPrivate aside:
	// tests route public URLs to a loopback server with it.
	Client *http.Client
}

// Fetcher gets documents over HTTP(S). It is safe for concurrent use.
type Fetcher struct {
	client   *http.Client
	timeout  time.Duration
	maxBytes int64
}

// New returns a Fetcher.
func New(cfg Config) (*Fetcher, error) {
	if cfg.Timeout < 0 || cfg.MaxBytes < 0 {
		return nil, fmt.Errorf("webfetch: negative Timeout %v or MaxBytes %d", cfg.Timeout, cfg.MaxBytes)
	}
	f := &Fetcher{timeout: cfg.Timeout, maxBytes: cfg.MaxBytes}
	if f.timeout == 0 {
		f.timeout = DefaultTimeout
	}
	if f.maxBytes == 0 {
		f.maxBytes = DefaultMaxBytes
	}
	if cfg.Client != nil {
		f.client = cfg.Client
		return f, nil
	}
	var control func(network, address string, c syscall.RawConn) error
	if !cfg.AllowPrivate {
		control = PublicOnly
	}
	tr := NewTransport(f.timeout, control)
	f.client = &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("%w: more than %d redirects", ErrRefused, maxRedirects)
		}
		if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("%w: redirect from https to %s", ErrRefused, req.URL.Redacted())
		}
		return nil
	}}
	return f, nil
}

// Get fetches rawURL (http or https) and returns its body and media type.
// accept is the Accept header.
func (f *Fetcher) Get(ctx context.Context, rawURL, accept string) ([]byte, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, "", fmt.Errorf("%w: %q is not an http(s) URL", ErrRefused, rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrRefused, err)
	}
	req.Header.Set("Accept", accept)
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("%w: %s: %v", ErrUnavailable, u.Redacted(), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, "", fmt.Errorf("%w: %s answered %s", ErrNotFound, u.Redacted(), resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, "", fmt.Errorf("%w: %s answered %s", ErrUnavailable, u.Redacted(), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrUnavailable, u.Redacted(), err)
	}
	if int64(len(body)) > f.maxBytes {
		return nil, "", fmt.Errorf("%w: %s is over %d bytes", ErrTooLarge, u.Redacted(), f.maxBytes)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// NewTransport returns a transport that dials directly (no proxy: a proxy
// would be the address dialled, defeating control) with control as the
// dialer's check of each address, nil for none. It is built from scratch
// rather than cloned from http.DefaultTransport, which a program may have
// replaced.
func NewTransport(timeout time.Duration, control func(network, address string, c syscall.RawConn) error) *http.Transport {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: control}
	return &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
}

// nonPublic lists special-purpose IPv4 ranges that netip does not classify as
// private but that are not on the public internet either (RFC 6598 shared
// address space, RFC 2544 benchmarking, RFC 6890 IETF protocol assignments).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("192.0.0.0/24"),
}

// PublicOnly is a dialer Control that refuses every address but a public
// unicast one, with an error wrapping ErrRefused. It runs on the address
// actually dialled, after DNS resolution, so a name that resolves to a
// private address is refused too.
func PublicOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot check address %q: %w", ErrRefused, address, err)
	}
	a := ap.Addr().Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return fmt.Errorf("%w: %s is not a public unicast address", ErrRefused, a)
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return fmt.Errorf("%w: %s is in special-purpose range %s", ErrRefused, a, p)
		}
	}
	return nil
}
