package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// webFiles is the verifier page every node serves at /: plain HTML, CSS and
// JavaScript modules, embedded so that nothing is fetched at run time. The
// npm project in web/e2e is the browser test's driver, not part of the page.
//
//go:embed web/*.html web/*.css web/*.js web/*.svg
var webFiles embed.FS

// Paths of the verifier page. The page is not an API route: it is mounted
// beside the routes table, and openapi.json does not describe it.
const (
	webIndexPath  = "/"
	webAssetsPath = "/web/"
)

// webCSP is the page's Content-Security-Policy: scripts and styles from
// this origin only (no inline code), images from here or data: URLs, and
// requests to this node or, for the chain-only mode, to any http(s) RPC
// URL the person enters.
const webCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' http: https:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// webContentTypes are the media types of the page's files, by extension.
var webContentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// webAsset is one embedded file, ready to serve.
type webAsset struct {
	name        string
	contentType string
	etag        string
	body        []byte
}

// webAssets reads the embedded files once. They are embedded, so a failure
// is a build mistake, which the tests catch.
var webAssets = func() map[string]*webAsset {
	entries, err := fs.ReadDir(webFiles, "web")
	if err != nil {
		panic(err)
	}
	out := make(map[string]*webAsset, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, err := fs.ReadFile(webFiles, "web/"+e.Name())
		if err != nil {
			panic(err)
		}
		ct, ok := webContentTypes[path.Ext(e.Name())]
		if !ok {
			panic("httpapi: web/" + e.Name() + " has no known content type")
		}
		sum := sha256.Sum256(body)
		out[e.Name()] = &webAsset{name: e.Name(), contentType: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, body: body}
	}
	return out
}()

// mountWeb serves the verifier page: GET / is web/index.html, GET
// /web/{file} the other files.
func (s *Server) mountWeb() {
	s.mux.HandleFunc("GET "+webIndexPath+"{$}", func(w http.ResponseWriter, r *http.Request) {
		s.serveWeb(w, r, webIndexPath, "index.html")
	})
	s.mux.HandleFunc("GET "+webAssetsPath+"{file}", func(w http.ResponseWriter, r *http.Request) {
		s.serveWeb(w, r, webAssetsPath+"{file}", r.PathValue("file"))
	})
}

// serveWeb serves one embedded file with its security headers, and
// revalidation by ETag. An unknown file is the API's 404 problem.
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request, route, name string) {
	a, ok := webAssets[name]
	if !ok || strings.ContainsAny(name, "/\\") {
		s.writeError(w, r, errNoRoute)
		return
	}
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		st.route = route
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Security-Policy", webCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
