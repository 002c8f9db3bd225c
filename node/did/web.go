package did

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/credanchor/credanchor/node/webfetch"
)

// Defaults of [WebConfig].
const (
	// DefaultWebTimeout bounds one did:web resolution, redirects included.
	DefaultWebTimeout = 10 * time.Second
	// DefaultWebMaxBytes bounds a did:web document. Real ones are a few KiB;
	// the bound keeps a hostile host from making a verifier buffer much.
	DefaultWebMaxBytes = 64 << 10
	// maxWebRedirects is how many https redirects a resolution follows.
	maxWebRedirects = 3
)

// WebURL returns the https URL of a did:web DID's document, as the did:web
// method specifies: did:web:example.com → https://example.com/.well-known/did.json,
// did:web:example.com:user:alice → https://example.com/user/alice/did.json,
// did:web:localhost%3A8443 → https://localhost:8443/.well-known/did.json.
//
// The host must be a DNS name or IPv4 address (IPv6 literals cannot be
// written in a did:web), the only percent-encoding allowed in it is the
// port's colon, and path segments may not be empty, "." or "..", or decode to
// something holding "/" or "\". Errors wrap [ErrInvalidDID], or
// [ErrUnsupportedMethod] for a DID that is not did:web.
func WebURL(did string) (string, error) {
	d, err := Parse(did)
	if err != nil {
		return "", err
	}
	if d.Method != "web" {
		return "", fmt.Errorf("%w: %s is not a did:web", ErrUnsupportedMethod, quote(did))
	}
	parts := strings.Split(d.ID, ":")
	host, port := parts[0], ""
	if i := strings.Index(strings.ToLower(host), "%3a"); i >= 0 {
		host, port = host[:i], host[i+3:]
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 || port[0] == '0' {
			return "", invalidDID(did, "has an invalid port")
		}
	}
	if !validHost(host) {
		return "", invalidDID(did, "has an invalid host name")
	}
	var b strings.Builder
	b.WriteString("https://")
	b.WriteString(strings.ToLower(host))
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	if len(parts) == 1 {
		b.WriteString("/.well-known/did.json")
		return b.String(), nil
	}
	for _, seg := range parts[1:] {
		dec, err := url.PathUnescape(seg)
		if err != nil || dec == "" || dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\") {
			return "", invalidDID(did, "has an invalid path segment")
		}
		b.WriteByte('/')
		b.WriteString(url.PathEscape(dec))
	}
	b.WriteString("/did.json")
	return b.String(), nil
}

// validHost reports whether h is a DNS name of letters, digits and hyphens
// (labels of 1–63 characters, neither starting nor ending with a hyphen, 253
// characters at most), which includes dotted IPv4 addresses.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

// WebConfig configures a [WebResolver]. The zero value is usable.
type WebConfig struct {
	// Client sends the requests. Nil means a client of the resolver's own
	// that connects directly (no proxy) and only to public unicast
	// addresses, so a credential naming did:web:10.0.0.1 or did:web:localhost
	// cannot make the node probe its own network. A non-nil client is used
	// as given (tests pass an httptest TLS server's client) except that
	// redirects must stay on https and are limited to 3.
	Client *http.Client
	// Timeout bounds one resolution. Zero means DefaultWebTimeout.
	Timeout time.Duration
	// MaxBytes bounds the document size. Zero means DefaultWebMaxBytes.
	MaxBytes int64
}

// WebResolver resolves did:web DIDs over HTTPS. It is safe for concurrent use
// and caches nothing.
type WebResolver struct {
	client   *http.Client
	timeout  time.Duration
	maxBytes int64
}

// NewWebResolver returns a did:web resolver. A negative Timeout or MaxBytes
// is an error.
func NewWebResolver(cfg WebConfig) (*WebResolver, error) {
	if cfg.Timeout < 0 || cfg.MaxBytes < 0 {
		return nil, fmt.Errorf("did: WebConfig: negative Timeout %v or MaxBytes %d", cfg.Timeout, cfg.MaxBytes)
	}
	r := &WebResolver{timeout: cfg.Timeout, maxBytes: cfg.MaxBytes}
	if r.timeout == 0 {
		r.timeout = DefaultWebTimeout
	}
	if r.maxBytes == 0 {
		r.maxBytes = DefaultWebMaxBytes
	}
	var c http.Client
	if cfg.Client != nil {
		c = *cfg.Client
	} else {
		c = http.Client{Transport: publicTransport()}
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return fmt.Errorf("%w: redirect to non-https URL %s", ErrRefused, quote(req.URL.Redacted()))
		}
		if len(via) > maxWebRedirects {
			return fmt.Errorf("did: stopped after %d redirects", maxWebRedirects)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	r.client = &c
	return r, nil
}

// publicTransport is a transport that dials only public unicast addresses
// (webfetch.PublicOnly), its refusals wrapping ErrRefused.
func publicTransport() *http.Transport {
	return webfetch.NewTransport(DefaultWebTimeout, dialPublicOnly)
}

func dialPublicOnly(network, address string, c syscall.RawConn) error {
	if err := webfetch.PublicOnly(network, address, c); err != nil {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return nil
}

// Resolve fetches and checks the DID document of a did:web DID. The document
// must be at most MaxBytes, parse (see [ParseDocument]) and have did as its
// id: a host cannot serve a document for another DID. A 404 or 410 wraps
// [ErrNotFound]; transport failures, timeouts and other statuses wrap
// [ErrUnavailable]; a refused redirect or address wraps [ErrRefused].
func (r *WebResolver) Resolve(ctx context.Context, did string) (*Document, error) {
	u, err := WebURL(did)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidDID, quote(did), err)
	}
	req.Header.Set("Accept", "application/did+json, application/did+ld+json, application/ld+json;q=0.9, application/json;q=0.8")
	resp, err := r.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return nil, fmt.Errorf("resolve %s: %w", quote(did), err)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, quote(did), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%w: %s: %s answered %s", ErrNotFound, quote(did), u, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: %s: %s answered %s", ErrUnavailable, quote(did), u, resp.Status)
	case resp.ContentLength > r.maxBytes:
		return nil, fmt.Errorf("%w: %s: document is %d bytes, want at most %d", ErrInvalidDocument, quote(did), resp.ContentLength, r.maxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: reading %s: %w", ErrUnavailable, quote(did), u, err)
	}
	if int64(len(body)) > r.maxBytes {
		return nil, fmt.Errorf("%w: %s: document is over %d bytes", ErrInvalidDocument, quote(did), r.maxBytes)
	}
	doc, err := ParseDocument(body)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", quote(did), err)
	}
	if doc.ID != did {
		return nil, fmt.Errorf("%w: %s serves a document with id %s, want %s", ErrInvalidDocument, u, quote(doc.ID), quote(did))
	}
	return doc, nil
}
