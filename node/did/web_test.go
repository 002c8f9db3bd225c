package did

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestWebURL(t *testing.T) {
	for _, tc := range []struct {
		did     string
		want    string
		wantErr error
	}{
		{"did:web:example.com", "https://example.com/.well-known/did.json", nil},
		{"did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json", nil},
		{"did:web:example.com:user:alice", "https://example.com/user/alice/did.json", nil},
		{"did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json", nil},
		{"did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json", nil},
		{"did:web:localhost%3a8443:a", "https://localhost:8443/a/did.json", nil},
		{"did:web:Example.COM", "https://example.com/.well-known/did.json", nil},
		{"did:web:127.0.0.1%3A1", "https://127.0.0.1:1/.well-known/did.json", nil},
		{"did:web:example.com:a%20b", "https://example.com/a%20b/did.json", nil},
		{"did:web:example.com:a%40b", "https://example.com/a@b/did.json", nil},
		{"did:web:digitalcredentials.github.io:dcc-did-web:multikey", "https://digitalcredentials.github.io/dcc-did-web/multikey/did.json", nil},
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "", ErrUnsupportedMethod},
		{"did:web:", "", ErrInvalidDID},
		{"did:web:example.com/", "", ErrInvalidDID},
		{"did:web:example.com#x", "", ErrInvalidDID},
		{"did:web:example.com%3A", "", ErrInvalidDID},
		{"did:web:example.com%3A0", "", ErrInvalidDID},
		{"did:web:example.com%3A65536", "", ErrInvalidDID},
		{"did:web:example.com%3A08443", "", ErrInvalidDID},
		{"did:web:example.com%3A84a3", "", ErrInvalidDID},
		{"did:web:example.com%3A443%3A1", "", ErrInvalidDID},
		{"did:web:user%40example.com", "", ErrInvalidDID},
		{"did:web:exa%6Dple.com", "", ErrInvalidDID},
		{"did:web:-example.com", "", ErrInvalidDID},
		{"did:web:example-.com", "", ErrInvalidDID},
		{"did:web:example..com", "", ErrInvalidDID},
		{"did:web:.example.com", "", ErrInvalidDID},
		{"did:web:ex_ample.com", "", ErrInvalidDID},
		{"did:web:" + strings.Repeat("a", 64) + ".com", "", ErrInvalidDID},
		{"did:web:" + strings.Repeat("a.", 127) + "com", "", ErrInvalidDID},
		{"did:web:example.com::a", "", ErrInvalidDID},
		{"did:web:example.com:..", "", ErrInvalidDID},
		{"did:web:example.com:.", "", ErrInvalidDID},
		{"did:web:example.com:%2E%2E", "", ErrInvalidDID},
		{"did:web:example.com:a%2Fb", "", ErrInvalidDID},
		{"did:web:example.com:a%5Cb", "", ErrInvalidDID},
		{"did:web:%5B%3A%3A1%5D", "", ErrInvalidDID},
	} {
		t.Run(tc.did, func(t *testing.T) {
			got, err := WebURL(tc.did)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("WebURL(%q) = %q, %v; want %v", tc.did, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("WebURL(%q) = %q, %v; want %q", tc.did, got, err, tc.want)
			}
			if u, err := url.Parse(got); err != nil || u.Scheme != "https" {
				t.Errorf("%q does not parse as an https URL: %v", got, err)
			}
		})
	}
}

// webServer is a loopback TLS server that serves DID documents by path.
type webServer struct {
	*httptest.Server
	handlers map[string]http.HandlerFunc
}

func newWebServer(t *testing.T) *webServer {
	t.Helper()
	ws := &webServer{handlers: map[string]http.HandlerFunc{}}
	ws.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := ws.handlers[r.URL.Path]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(ws.Close)
	return ws
}

// did returns the did:web of the server for the given path segments.
func (ws *webServer) did(path ...string) string {
	host := strings.TrimPrefix(ws.URL, "https://")
	return "did:web:" + strings.Join(append([]string{strings.Replace(host, ":", "%3A", 1)}, path...), ":")
}

func (ws *webServer) serve(path, body string) {
	ws.handlers[path] = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/did+json")
		fmt.Fprint(w, body)
	}
}

func (ws *webServer) resolver(t *testing.T, cfg WebConfig) *WebResolver {
	t.Helper()
	if cfg.Client == nil {
		cfg.Client = ws.Client()
	}
	r, err := NewWebResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// multikeyDocument is a did:web document with one Multikey method, #key-1,
// for assertions only, and one, #auth-1, for authentication only.
func multikeyDocument(did string) string {
	return fmt.Sprintf(`{
  "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
  "id": %[1]q,
  "verificationMethod": [
    {"id": "%[1]s#key-1", "type": "Multikey", "controller": %[1]q, "publicKeyMultibase": %[2]q},
    {"id": "%[1]s#auth-1", "type": "Multikey", "controller": %[1]q, "publicKeyMultibase": %[2]q}
  ],
  "assertionMethod": ["%[1]s#key-1"],
  "authentication": ["#auth-1"]
}`, did, testKey)
}

func TestWebResolve(t *testing.T) {
	ws := newWebServer(t)
	root, alice := ws.did(), ws.did("user", "alice")
	ws.serve("/.well-known/did.json", multikeyDocument(root))
	ws.serve("/user/alice/did.json", multikeyDocument(alice))
	r := ws.resolver(t, WebConfig{})
	want, _ := DecodeMultikey(testKey)
	for _, did := range []string{root, alice} {
		doc, err := r.Resolve(context.Background(), did)
		if err != nil {
			t.Fatalf("Resolve(%s): %v", did, err)
		}
		vm, err := doc.VerificationMethod(did+"#key-1", AssertionMethod)
		if err != nil {
			t.Fatalf("VerificationMethod: %v", err)
		}
		if got, err := vm.Ed25519PublicKey(); err != nil || !got.Equal(want) {
			t.Errorf("key %x, %v", got, err)
		}
		// Relationship refusal: the assertion key cannot authenticate and
		// the authentication key cannot issue.
		if _, err := doc.VerificationMethod(did+"#key-1", Authentication); !errors.Is(err, ErrRelationship) {
			t.Errorf("assertion key for authentication: %v, want ErrRelationship", err)
		}
		if _, err := doc.VerificationMethod(did+"#auth-1", AssertionMethod); !errors.Is(err, ErrRelationship) {
			t.Errorf("authentication key for assertion: %v, want ErrRelationship", err)
		}
		if _, err := doc.VerificationMethod(did+"#auth-1", Authentication); err != nil {
			t.Errorf("authentication key for authentication: %v", err)
		}
	}
}

func TestWebResolveErrors(t *testing.T) {
	ws := newWebServer(t)
	// padded is a valid document of did, n bytes longer than without padding.
	padded := func(did string, n int) string {
		d := multikeyDocument(did)
		return d[:len(d)-1] + `, "pad": "` + strings.Repeat("x", n) + `"}`
	}
	fits := ws.did("fits")
	ws.serve("/mismatch/did.json", multikeyDocument("did:web:example.com"))
	ws.serve("/mismatch-case/did.json", multikeyDocument(strings.Replace(ws.did("mismatch-case"), "%3A", "%3a", 1)))
	ws.serve("/garbage/did.json", "<html>not json</html>")
	ws.serve("/empty/did.json", "")
	ws.serve("/big/did.json", padded(ws.did("big"), DefaultWebMaxBytes))
	ws.serve("/fits/did.json", padded(fits, DefaultWebMaxBytes-2000))
	ws.handlers["/big-chunked/did.json"] = func(w http.ResponseWriter, _ *http.Request) {
		// Flushing before writing everything forces chunked encoding, so
		// there is no Content-Length to refuse early.
		fmt.Fprint(w, `{"id": "`)
		w.(http.Flusher).Flush()
		fmt.Fprint(w, strings.Repeat("x", DefaultWebMaxBytes)+`"}`)
	}
	ws.handlers["/gone/did.json"] = func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }
	ws.handlers["/broken/did.json"] = func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }
	ws.handlers["/to-http/did.json"] = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+"/fits/did.json", http.StatusFound)
	}
	ws.handlers["/loop/did.json"] = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop/did.json", http.StatusFound)
	}
	ws.handlers["/slow/did.json"] = func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	r := ws.resolver(t, WebConfig{Timeout: 2 * time.Second})

	// A document just under the bound resolves; the same one over a
	// smaller bound does not (below).
	if _, err := r.Resolve(context.Background(), fits); err != nil {
		t.Errorf("document under the size bound: %v", err)
	}

	for _, tc := range []struct {
		name string
		did  string
		r    *WebResolver
		want error
	}{
		{"missing", ws.did("missing"), r, ErrNotFound},
		{"gone", ws.did("gone"), r, ErrNotFound},
		{"server error", ws.did("broken"), r, ErrUnavailable},
		{"id of another DID", ws.did("mismatch"), r, ErrInvalidDocument},
		{"id spelled differently", ws.did("mismatch-case"), r, ErrInvalidDocument},
		{"not JSON", ws.did("garbage"), r, ErrInvalidDocument},
		{"empty body", ws.did("empty"), r, ErrInvalidDocument},
		{"oversize with Content-Length", ws.did("big"), r, ErrInvalidDocument},
		{"oversize chunked", ws.did("big-chunked"), r, ErrInvalidDocument},
		{"over a small MaxBytes", fits, ws.resolver(t, WebConfig{MaxBytes: 1024}), ErrInvalidDocument},
		{"redirect to http", ws.did("to-http"), r, ErrRefused},
		{"redirect loop", ws.did("loop"), r, ErrUnavailable},
		{"timeout", ws.did("slow"), ws.resolver(t, WebConfig{Timeout: 100 * time.Millisecond}), ErrUnavailable},
		{"not did:web", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", r, ErrUnsupportedMethod},
		{"malformed", "did:web:exa mple.com", r, ErrInvalidDID},
		{"DID URL", ws.did("fits") + "#key-1", r, ErrInvalidDID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := tc.r.Resolve(context.Background(), tc.did)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Resolve(%s) = %+v, %v; want %v", tc.did, doc, err, tc.want)
			}
			if doc != nil {
				t.Errorf("returned a document with an error")
			}
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := r.Resolve(ctx, fits); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Errorf("Resolve with a cancelled context: %v", err)
		}
	})
}

// TestWebResolveHTTPSOnly checks that a did:web is never fetched over plain
// HTTP: against an HTTP server the TLS handshake fails, and nothing falls
// back to http://.
func TestWebResolveHTTPSOnly(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		fmt.Fprint(w, multikeyDocument("did:web:"+strings.Replace(r.Host, ":", "%3A", 1)))
	}))
	defer srv.Close()
	did := "did:web:" + strings.Replace(strings.TrimPrefix(srv.URL, "http://"), ":", "%3A", 1)
	r, err := NewWebResolver(WebConfig{Client: srv.Client(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(context.Background(), did); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Resolve against a plain HTTP server: %v, want ErrUnavailable", err)
	}
	if hits != 0 {
		t.Errorf("the plain HTTP server served %d requests", hits)
	}
}

// TestWebResolveDefaultClientRefusesLoopback checks the default client's
// dial policy: a did:web naming a loopback or private address is refused
// before any connection is made.
func TestWebResolveDefaultClientRefusesLoopback(t *testing.T) {
	ws := newWebServer(t)
	var hits int
	ws.handlers["/.well-known/did.json"] = func(w http.ResponseWriter, _ *http.Request) { hits++ }
	r, err := NewWebResolver(WebConfig{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(context.Background(), ws.did()); !errors.Is(err, ErrRefused) {
		t.Errorf("Resolve(%s) with the default client: %v, want ErrRefused", ws.did(), err)
	}
	if hits != 0 {
		t.Errorf("the server was reached %d times", hits)
	}
	for _, addr := range []string{"127.0.0.1:443", "[::1]:443", "10.1.2.3:443", "192.168.0.1:443", "172.16.0.1:443", "169.254.169.254:80", "100.64.0.1:443", "0.0.0.0:443", "[fd00::1]:443", "[fe80::1]:443", "[::ffff:127.0.0.1]:443", "224.0.0.1:443"} {
		if err := dialPublicOnly("tcp", addr, nil); !errors.Is(err, ErrRefused) {
			t.Errorf("dialPublicOnly(%s) = %v, want ErrRefused", addr, err)
		}
	}
	for _, addr := range []string{"93.184.215.14:443", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443"} {
		if err := dialPublicOnly("tcp", addr, nil); err != nil {
			t.Errorf("dialPublicOnly(%s) = %v, want nil", addr, err)
		}
	}
}

func TestNewWebResolverConfig(t *testing.T) {
	if _, err := NewWebResolver(WebConfig{Timeout: -1}); err == nil {
		t.Error("negative Timeout accepted")
	}
	if _, err := NewWebResolver(WebConfig{MaxBytes: -1}); err == nil {
		t.Error("negative MaxBytes accepted")
	}
	r, err := NewWebResolver(WebConfig{})
	if err != nil || r.timeout != DefaultWebTimeout || r.maxBytes != DefaultWebMaxBytes {
		t.Errorf("defaults: %+v, %v", r, err)
	}
	// The caller's client is not modified.
	c := &http.Client{}
	if _, err := NewWebResolver(WebConfig{Client: c}); err != nil || c.CheckRedirect != nil {
		t.Errorf("NewWebResolver changed the caller's client")
	}
}

// otherResolver returns a document for a DID it was not asked about.
type otherResolver struct{}

func (otherResolver) Resolve(context.Context, string) (*Document, error) {
	return NewKeyDocument("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "")
}

func TestMultiResolver(t *testing.T) {
	ws := newWebServer(t)
	web := ws.did("issuer")
	ws.serve("/issuer/did.json", multikeyDocument(web))
	r, err := NewResolver(WebConfig{Client: ws.Client()})
	if err != nil {
		t.Fatal(err)
	}
	key := "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		id   string
		rel  Relationship
		want error
	}{
		{"did:key assertion", key + "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", AssertionMethod, nil},
		{"did:key authentication", key + "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", Authentication, nil},
		{"did:key key agreement", key + "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", KeyAgreement, ErrRelationship},
		{"did:key wrong fragment", key + "#key-1", AssertionMethod, ErrNotFound},
		{"did:key bare DID", key, AssertionMethod, ErrNotFound},
		{"did:web assertion", web + "#key-1", AssertionMethod, nil},
		{"did:web refused relationship", web + "#key-1", Authentication, ErrRelationship},
		{"did:web missing document", ws.did("nobody") + "#key-1", AssertionMethod, ErrNotFound},
		{"unsupported method", "did:example:123#key-1", AssertionMethod, ErrUnsupportedMethod},
		{"malformed", "did:key:#x", AssertionMethod, ErrInvalidDID},
		{"not a DID", "https://example.com/keys/1", AssertionMethod, ErrInvalidDID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm, err := ResolveVerificationMethod(ctx, r, tc.id, tc.rel)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("ResolveVerificationMethod(%s, %s) = %+v, %v; want %v", tc.id, tc.rel, vm, err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveVerificationMethod(%s, %s): %v", tc.id, tc.rel, err)
			}
			if _, err := vm.Ed25519PublicKey(); err != nil {
				t.Error(err)
			}
		})
	}
	if _, err := r.Resolve(ctx, key+"#x"); !errors.Is(err, ErrInvalidDID) {
		t.Errorf("Resolve(DID URL) = %v, want ErrInvalidDID", err)
	}
	m := NewMultiResolver(map[string]Resolver{"web": otherResolver{}})
	if _, err := m.Resolve(ctx, web); !errors.Is(err, ErrInvalidDocument) {
		t.Errorf("resolver answering for another DID: %v, want ErrInvalidDocument", err)
	}
}

// loopbackClient returns a client that sends every request, whatever its
// host, to the test server, and checks the server's certificate as
// example.com's (one of the names httptest's certificate holds). It lets a
// test resolve did:web DIDs of public hosts without leaving loopback.
func loopbackClient(srv *httptest.Server) *http.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	addr := srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig.ServerName = "example.com"
	return &http.Client{Transport: tr}
}
