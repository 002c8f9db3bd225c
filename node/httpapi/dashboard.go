package httpapi

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// dashboardPage is the analytics page served at /dashboard: one file of
// HTML, CSS and JavaScript that fetches /v1/stats and draws its charts in
// SVG, so that nothing is loaded from anywhere else.
//
//go:embed dashboard/index.html
var dashboardPage []byte

// dashboardCSP allows exactly the page's inline script and style, by
// hash, and requests to this origin only.
var dashboardCSP = mustDashboardCSP(string(dashboardPage))

// mustDashboardCSP builds the Content-Security-Policy of the page from the
// hashes of its one <script> and one <style>. The page is embedded, so a
// failure is a build mistake, which the tests catch.
func mustDashboardCSP(page string) string {
	script, err := inlineBlock(page, "script")
	if err != nil {
		panic(err)
	}
	style, err := inlineBlock(page, "style")
	if err != nil {
		panic(err)
	}
	return "default-src 'none'; script-src " + cspHash(script) + "; style-src " + cspHash(style) +
		"; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// inlineBlock returns the content of the page's only <tag> element.
func inlineBlock(page, tag string) (string, error) {
	open, close := "<"+tag+">", "</"+tag+">"
	if strings.Count(page, open) != 1 || strings.Count(page, close) != 1 {
		return "", fmt.Errorf("httpapi: the dashboard page must have exactly one %s element", open)
	}
	_, rest, _ := strings.Cut(page, open)
	body, _, _ := strings.Cut(rest, close)
	return body, nil
}

func cspHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}

// dashboard serves the analytics page.
func (s *Server) dashboard(w http.ResponseWriter, _ *http.Request) error {
	h := w.Header()
	h.Set("Content-Security-Policy", dashboardCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	writeBody(w, http.StatusOK, "text/html; charset=utf-8", dashboardPage)
	return nil
}
