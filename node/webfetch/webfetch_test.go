package webfetch_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/credanchor/credanchor/node/webfetch"
)

func TestGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/doc":
			w.Header().Set("Content-Type", "application/vc+ld+json")
			_, _ = w.Write([]byte(`{"ok":true}`))
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 2048)))
		case "/redirect":
			http.Redirect(w, r, "/doc", http.StatusFound)
		case "/fail":
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	public, err := webfetch.New(webfetch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	private, err := webfetch.New(webfetch.Config{AllowPrivate: true, MaxBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    *webfetch.Fetcher
		url  string
		want error // nil: the document
	}{
		{"loopback refused by default", public, srv.URL + "/doc", webfetch.ErrRefused},
		{"private name refused", public, "http://localhost:1/doc", webfetch.ErrRefused},
		{"loopback allowed", private, srv.URL + "/doc", nil},
		{"redirect followed", private, srv.URL + "/redirect", nil},
		{"too large", private, srv.URL + "/big", webfetch.ErrTooLarge},
		{"not found", private, srv.URL + "/nothing", webfetch.ErrNotFound},
		{"server error", private, srv.URL + "/fail", webfetch.ErrUnavailable},
		{"not http", private, "file:///etc/passwd", webfetch.ErrRefused},
		{"credentials in the URL", private, "http://u:p@127.0.0.1/", webfetch.ErrRefused},
		{"not a URL", private, "::", webfetch.ErrRefused},
	} {
		body, mt, err := tc.f.Get(t.Context(), tc.url, "application/json")
		switch {
		case tc.want == nil && (err != nil || string(body) != `{"ok":true}` || mt != "application/vc+ld+json"):
			t.Errorf("%s: %q %q %v", tc.name, body, mt, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := webfetch.New(webfetch.Config{Timeout: -1}); err == nil {
		t.Error("negative timeout accepted")
	}
}
