package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
)

// TestWebAssets checks how the verifier page is served: every embedded file
// with its media type and a strict Content-Security-Policy, no inline script
// or style, and no reference to anything outside this node.
func TestWebAssets(t *testing.T) {
	e := newEnv(t, envOptions{})

	names := slices.Sorted(func(yield func(string) bool) {
		for n := range webAssets {
			if !yield(n) {
				return
			}
		}
	})
	for _, want := range []string{"index.html", "app.js", "chain.js", "jcs.js", "style.css", "icon.svg"} {
		if !slices.Contains(names, want) {
			t.Errorf("web/%s is not embedded (embedded: %v)", want, names)
		}
	}
	for _, name := range names {
		p := webAssetsPath + name
		if name == "index.html" {
			p = webIndexPath
		}
		r := e.get(p)
		if r.status != http.StatusOK {
			t.Errorf("GET %s: %s", p, r)
			continue
		}
		if got, want := r.header.Get("Content-Type"), webContentTypes[path.Ext(name)]; got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", p, got, want)
		}
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", p, got)
		}
		checkCSP(t, p, r.header.Get("Content-Security-Policy"))
		want, _ := fs.ReadFile(webFiles, "web/"+name)
		if !bytes.Equal(r.body, want) {
			t.Errorf("GET %s: body differs from web/%s", p, name)
		}
		checkNoExternalRefs(t, name, string(want))

		// Revalidation by ETag.
		etag := r.header.Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", p)
			continue
		}
		if r := e.request(http.MethodGet, p, "", nil, "If-None-Match", etag); r.status != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match: got %d, want 304", p, r.status)
		}
	}

	page := string(webAssets["index.html"].body)
	for _, s := range regexp.MustCompile(`(?is)<script\b[^>]*>.*?</script>`).FindAllString(page, -1) {
		if !regexp.MustCompile(`(?i)^<script\b[^>]*\bsrc="/web/[^"]+"[^>]*></script>$`).MatchString(s) {
			t.Errorf("index.html: inline or foreign script %q", s)
		}
	}
	if m := regexp.MustCompile(`(?i)<[^>]+\s(on[a-z]+|style)\s*=`).FindString(page); m != "" {
		t.Errorf("index.html: inline handler or style in %q", m)
	}
	if strings.Contains(page, "<style") {
		t.Error("index.html: inline <style>")
	}

	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodHead, "/", http.StatusOK},
		{http.MethodGet, "/web/nope.js", http.StatusNotFound},
		{http.MethodGet, "/web/", http.StatusNotFound},
		{http.MethodGet, "/web/e2e/drive.mjs", http.StatusNotFound},
		{http.MethodGet, "/index.html", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
	} {
		r := e.request(tc.method, tc.path, "", nil)
		if r.status != tc.status {
			t.Errorf("%s %s: got %s, want %d", tc.method, tc.path, r, tc.status)
		}
		if tc.status >= 400 {
			checkProblem(t, r, tc.status, "about:blank")
		}
	}
}

// checkCSP checks the page's policy: everything from this origin only, no
// inline or eval'd script, and requests to this node or any http(s) RPC.
func checkCSP(t *testing.T, p, csp string) {
	t.Helper()
	dirs := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			dirs[f[0]] = f[1:]
		}
	}
	want := map[string][]string{
		"default-src":     {"'self'"},
		"script-src":      {"'self'"},
		"style-src":       {"'self'"},
		"connect-src":     {"'self'", "http:", "https:"},
		"object-src":      {"'none'"},
		"base-uri":        {"'none'"},
		"frame-ancestors": {"'none'"},
	}
	for d, w := range want {
		if !slices.Equal(dirs[d], w) {
			t.Errorf("GET %s: CSP %s %v, want %v (policy %q)", p, d, dirs[d], w, csp)
		}
	}
	for d, srcs := range dirs {
		for _, s := range srcs {
			if strings.Contains(s, "unsafe") || s == "*" || strings.HasPrefix(s, "'sha") || strings.HasPrefix(s, "'nonce") {
				t.Errorf("GET %s: CSP %s allows %s", p, d, s)
			}
		}
	}
}

// checkNoExternalRefs fails on any URL in a page file that points away
// from this node: absolute http(s) URLs (an SVG's XML namespace aside),
// protocol-relative ones, and src, href, import and url() references that
// are not same-origin paths.
func checkNoExternalRefs(t *testing.T, name, body string) {
	t.Helper()
	for _, m := range regexp.MustCompile(`(?i)https?://[^\s"'<>)]*`).FindAllString(body, -1) {
		if m == "http://www.w3.org/2000/svg" && strings.HasSuffix(name, ".svg") {
			continue
		}
		t.Errorf("web/%s references %s", name, m)
	}
	refs := []*regexp.Regexp{
		regexp.MustCompile(`(?i)\b(?:src|href|action)\s*=\s*"([^"]*)"`),
		regexp.MustCompile(`(?i)\burl\(\s*['"]?([^'")]*)`),
		regexp.MustCompile(`\bimport\s[^;]*?from\s+"([^"]*)"`),
		regexp.MustCompile(`\bimport\(\s*"([^"]*)"`),
	}
	for _, re := range refs {
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			ref := m[1]
			if strings.HasPrefix(ref, "//") || strings.Contains(ref, ":") {
				t.Errorf("web/%s: external reference %q", name, ref)
			}
		}
	}
}

// TestWebSelectors checks the function selectors the page hard-codes
// (browsers have no keccak) against the registry's ABI.
func TestWebSelectors(t *testing.T) {
	chain := string(webAssets["chain.js"].body)
	reg := registry.NewRegistry()
	for _, tc := range []struct {
		name string
		call []byte
	}{
		{"VERIFY_INCLUSION_SELECTOR", reg.PackVerifyInclusion([32]byte{}, 0, 1, nil)},
		{"MEMBER_INFO_SELECTOR", reg.PackMemberInfo([20]byte{})},
	} {
		m := regexp.MustCompile(`export const ` + tc.name + ` = "([0-9a-f]{8})"`).FindStringSubmatch(chain)
		if m == nil {
			t.Errorf("chain.js has no %s", tc.name)
			continue
		}
		if want := hex.EncodeToString(tc.call[:4]); m[1] != want {
			t.Errorf("%s = %s, the ABI says %s", tc.name, m[1], want)
		}
	}
}

// browser drives the page in headless Chromium through web/e2e/drive.mjs,
// one JSON command a line.
type browser struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr *syncBuffer
	// events are the page's console errors, uncaught exceptions and CSP
	// violations so far.
	events []browserEvent
}

type browserEvent struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

type browserAnswer struct {
	OK     bool            `json:"ok"`
	Error  string          `json:"error"`
	Events []browserEvent  `json:"events"`
	Status int             `json:"status"`
	Header map[string]any  `json:"headers"`
	DOM    pageResult      `json:"dom"`
	Value  json.RawMessage `json:"value"`
}

// pageResult is what the page shows after a verification (drive.mjs's
// readResult).
type pageResult struct {
	State       string            `json:"state"`
	Verdict     string            `json:"verdict"`
	VerdictText string            `json:"verdictText"`
	Checks      []pageCheck       `json:"checks"`
	Statuses    []pageStatus      `json:"statuses"`
	Credentials []string          `json:"credentials"`
	Achievement string            `json:"achievement"`
	Description string            `json:"description"`
	Facts       map[string]string `json:"facts"`
	Focused     string            `json:"focused"`
}

type pageCheck struct {
	Scope  string `json:"scope"`
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Shown  string `json:"shown"`
}

type pageStatus struct {
	Purpose string `json:"purpose"`
	Status  string `json:"status"`
	Text    string `json:"text"`
}

// chromiumPath is Debian's chromium, or $CREDANCHOR_CHROMIUM. On a fresh
// machine where the test runs as root (CI, a container) it installs the
// package itself, as the contracts' test installs solc, so that `go test
// ./...` works from nothing; missing is a failure, never a skip.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CREDANCHOR_CHROMIUM"); p != "" {
		return p
	}
	find := func() string {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	if _, err := exec.LookPath("apt-get"); err == nil && os.Geteuid() == 0 {
		t.Log("installing Debian's chromium: apt-get install chromium")
		for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "chromium"}} {
			cmd := exec.Command("apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("apt-get %s: %v\n%s", args[0], err, out)
			}
		}
		if p := find(); p != "" {
			return p
		}
	}
	t.Fatal("no chromium on PATH: install Debian's chromium package (apt-get install chromium), or set CREDANCHOR_CHROMIUM")
	return ""
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("no node on PATH: the browser test drives Chromium with Node.js (apt-get install nodejs npm)")
	}
	chromium := chromiumPath(t)
	dir, err := filepath.Abs(filepath.Join("web", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Log("installing the pinned playwright-core: npm ci")
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("playwright-core is not installed and npm ci failed: %v\n%s\n\trun npm ci --prefix node/httpapi/web/e2e", err, out)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, nodeBin, filepath.Join(dir, "drive.mjs"))
	cmd.Dir = dir
	cmd.WaitDelay = 10 * time.Second
	b := &browser{cmd: cmd, stderr: new(syncBuffer)}
	cmd.Stderr = b.stderr
	if b.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	b.out = bufio.NewScanner(out)
	b.out.Buffer(nil, 64<<20)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd, err)
	}
	t.Cleanup(func() {
		_ = b.in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cancel()
			<-done
		}
		cancel()
		if t.Failed() {
			t.Logf("drive.mjs stderr:\n%s", b.stderr)
		}
	})
	b.do(t, map[string]any{"op": "launch", "executablePath": chromium, "width": 1280, "height": 900})
	return b
}

// syncBuffer is the driver's stderr: written by exec's copying goroutine,
// read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// do sends one command and returns the answer; a failed command fails the
// test. Each command has the driver's own timeouts (60 s a wait), so a
// broken page fails rather than hangs.
func (b *browser) do(t *testing.T, cmd map[string]any) browserAnswer {
	t.Helper()
	line, err := json.Marshal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.in.Write(append(line, '\n')); err != nil {
		t.Fatalf("send %s: %v (stderr: %s)", cmd["op"], err, b.stderr)
	}
	if !b.out.Scan() {
		t.Fatalf("%s: no answer from drive.mjs: %v (stderr: %s)", cmd["op"], b.out.Err(), b.stderr)
	}
	var a browserAnswer
	if err := json.Unmarshal(b.out.Bytes(), &a); err != nil {
		t.Fatalf("%s: answer %q: %v", cmd["op"], b.out.Bytes(), err)
	}
	b.events = append(b.events, a.Events...)
	for _, ev := range a.Events {
		if ev.Kind == "pageerror" || strings.Contains(ev.Text, "CSP violation") || strings.Contains(ev.Text, "Content Security Policy") {
			t.Errorf("%s: page %s: %s", cmd["op"], ev.Kind, ev.Text)
		}
	}
	if !a.OK {
		t.Fatalf("%s: %s", cmd["op"], a.Error)
	}
	return a
}

// verifyCase is one verification through the page.
type verifyCase struct {
	name       string
	mode       string // "node" or "rpc"
	credential string
	receipt    string
	registry   string
	keyboard   bool
}

func (b *browser) verify(t *testing.T, tc verifyCase, rpcURL, shots string) pageResult {
	t.Helper()
	shot := filepath.Join(shots, strings.ReplaceAll(tc.name, " ", "-")+".png")
	a := b.do(t, map[string]any{
		"op": "verify", "mode": tc.mode, "credential": tc.credential, "receipt": tc.receipt,
		"rpcUrl": rpcURL, "registry": tc.registry, "keyboard": tc.keyboard, "screenshot": shot,
	})
	if a.DOM.State != "done" {
		t.Fatalf("%s: page state %q", tc.name, a.DOM.State)
	}
	t.Logf("%s: %s (%d checks), screenshot %s", tc.name, a.DOM.Verdict, len(a.DOM.Checks), shot)
	return a.DOM
}

// eval runs an async JavaScript function in the page and decodes its
// result into v.
func (b *browser) eval(t *testing.T, fn string, arg any, v any) {
	t.Helper()
	a := b.do(t, map[string]any{"op": "eval", "fn": fn, "arg": arg})
	if err := json.Unmarshal(a.Value, v); err != nil {
		t.Fatalf("eval result %s: %v", a.Value, err)
	}
}

func checkNames(checks []pageCheck, scope string) []string {
	var out []string
	for _, c := range checks {
		if c.Scope == scope {
			out = append(out, c.Check)
		}
	}
	return out
}

func findCheck(checks []pageCheck, scope, name string) (pageCheck, bool) {
	for _, c := range checks {
		if c.Scope == scope && c.Check == name {
			return c, true
		}
	}
	return pageCheck{}, false
}

// wantAllGreen fails unless the page shows exactly the checks named, in
// scope, each passed.
func wantAllGreen(t *testing.T, name string, r pageResult, scope string, want []string) {
	t.Helper()
	if got := checkNames(r.Checks, scope); !slices.Equal(got, want) {
		t.Errorf("%s: checks %v, want %v", name, got, want)
	}
	for _, c := range r.Checks {
		if c.Scope == scope && (!c.OK || !strings.Contains(c.Shown, "passed")) {
			t.Errorf("%s: check %s shown %q, want passed", name, c.Check, c.Shown)
		}
	}
}

// checkContrast fails on text whose contrast with its background is under
// WCAG AA's 4.5:1.
func checkContrast(t *testing.T, b *browser, name string) {
	t.Helper()
	var low []string
	b.eval(t, `async () => {
		const parse = (c) => {
			const m = /rgba?\(([^)]+)\)/.exec(c);
			if (!m) return null;
			const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
			return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
		};
		const lum = (c) => {
			const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
			return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
		};
		const background = (el) => {
			for (let e = el; e; e = e.parentElement) {
				const c = parse(getComputedStyle(e).backgroundColor);
				if (c && c.a > 0) return c;
			}
			return { r: 255, g: 255, b: 255, a: 1 };
		};
		const low = [];
		const seen = new Set();
		const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		for (let n = walker.nextNode(); n; n = walker.nextNode()) {
			const el = n.parentElement;
			if (!n.textContent.trim() || seen.has(el) || el.getClientRects().length === 0) continue;
			seen.add(el);
			const fg = parse(getComputedStyle(el).color), bg = background(el);
			const l1 = lum(fg), l2 = lum(bg);
			const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
			if (ratio < 4.5) low.push(el.tagName + "." + el.className + " " + JSON.stringify(n.textContent.trim().slice(0, 30)) + ": " + ratio.toFixed(2));
		}
		return low;
	}`, nil, &low)
	for _, l := range low {
		t.Errorf("%s: low contrast: %s", name, l)
	}
}

func indentJSON(t *testing.T, raw []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// allowsCORS reports whether the RPC at url answers a browser's preflight.
func allowsCORS(t *testing.T, url string) bool {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodOptions, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "http://127.0.0.1:1")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("preflight to the chain RPC: %v", err)
	}
	resp.Body.Close()
	return resp.Header.Get("Access-Control-Allow-Origin") != ""
}

// TestWebPage drives the verifier page in headless Chromium against a real
// node with status lists: a valid credential (JSON-LD and VC-JWT) and a
// presentation verify with every check green, a tampered credential shows
// its failing proof, a revoked one shows revoked; then, with the node's
// HTTP server stopped, the page verifies receipts against the dev chain's
// RPC alone. It asserts on the DOM; the screenshots are for people.
func TestWebPage(t *testing.T) {
	b := startBrowser(t)
	// Screenshots go to the test's temp dir, or to $CREDANCHOR_WEB_SHOTS
	// to keep them.
	shots := t.TempDir()
	if dir := os.Getenv("CREDANCHOR_WEB_SHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		shots = dir
	}
	t.Logf("screenshots in %s", shots)

	e := newEnv(t, envOptions{run: true, status: true})
	alice := newLearner(t, "alice")
	valid := e.issued("", credentialFor("web-valid", alice.did))
	revoked := e.issued("", credentialFor("web-revoked", alice.did))
	jwtCred := e.issued("?format=jwt", credentialFor("web-jwt", alice.did))
	var jwt string
	if err := json.Unmarshal(jwtCred.Credential, &jwt); err != nil {
		t.Fatal(err)
	}
	for _, d := range []merkle.Hash{valid.Digest, revoked.Digest, jwtCred.Digest} {
		e.waitAnchored(d)
	}
	e.waitStatus(valid.Credential, "")
	if r := e.changeStatus(revoked.Digest, "revoke", "issued in error"); r.status != http.StatusOK {
		t.Fatalf("revoke: %s", r)
	}
	e.waitStatus(revoked.Credential, "revoked")

	tampered := bytes.Replace(valid.Credential, []byte("micro-credential web-valid"), []byte("micro-credential web-valid (honours)"), 1)
	if bytes.Equal(tampered, valid.Credential) {
		t.Fatal("tampering changed nothing")
	}
	validReceipt := e.receiptOf(t, valid.Credential, credential.FormJSON)
	jwtReceipt := e.receiptOf(t, []byte(jwt), credential.FormJWT)
	receiptJSON := func(v any) string {
		out, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	vp, err := node.Present(node.PresentationRequest{Key: alice.key, Challenge: e.challenge(), Credentials: []node.PresentedCredential{
		{Data: valid.Credential, Form: credential.FormJSON, Receipt: validReceipt},
		{Data: []byte(jwt), Form: credential.FormJWT, Receipt: jwtReceipt},
	}})
	if err != nil {
		t.Fatal(err)
	}

	// A pathway's roll-up, earned with the valid credential, presented
	// with it.
	pathway, _ := json.Marshal(map[string]any{"id": "web-track",
		"achievement": map[string]any{"id": "https://uni.example/pathways/web", "type": []string{"Achievement"}, "name": "Web Track",
			"description": "One badge.", "criteria": map[string]any{"narrative": "Earn DS 101."}},
		"requirement": map[string]any{"kind": "allOf", "components": []map[string]string{{"achievementId": "https://uni.example/achievements/ds-101"}}}})
	if r := e.request(http.MethodPost, "/v1/pathways", "application/json", pathway, "Authorization", "Bearer "+issuerToken); r.status != http.StatusCreated {
		t.Fatalf("define pathway: %s", r)
	}
	claimVP, err := node.Present(node.PresentationRequest{Key: alice.key, Challenge: e.challenge(), Credentials: []node.PresentedCredential{
		{Data: valid.Credential, Form: credential.FormJSON, Receipt: validReceipt}}})
	if err != nil {
		t.Fatal(err)
	}
	claimBody, _ := json.Marshal(map[string]json.RawMessage{"verifiablePresentation": claimVP})
	cr := e.request(http.MethodPost, "/v1/pathways/web-track/claim", "application/json", claimBody)
	if cr.status != http.StatusCreated {
		t.Fatalf("claim: %s", cr)
	}
	rollup := decode[ClaimResponse](t, cr)
	e.waitAnchored(rollup.Digest)
	e.waitStatus(rollup.Credential, "")
	rollupVP, err := node.Present(node.PresentationRequest{Key: alice.key, Challenge: e.challenge(), Credentials: []node.PresentedCredential{
		{Data: rollup.Credential, Form: credential.FormJSON, Receipt: e.receiptOf(t, rollup.Credential, credential.FormJSON)},
		{Data: valid.Credential, Form: credential.FormJSON, Receipt: validReceipt}}})
	if err != nil {
		t.Fatal(err)
	}

	open := b.do(t, map[string]any{"op": "open", "url": e.srv.URL + "/"})
	if open.Status != http.StatusOK || open.Header["content-security-policy"] != webCSP {
		t.Fatalf("open: status %d, CSP %v", open.Status, open.Header["content-security-policy"])
	}

	// Every control has a label; the page fits a phone's width.
	var unlabelled []string
	b.eval(t, `async () => [...document.querySelectorAll("input, textarea, select")].filter((c) => !c.labels || c.labels.length === 0).map((c) => c.id || c.name)`, nil, &unlabelled)
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v", unlabelled)
	}

	nodeChecks := []string{node.CheckDigest, node.CheckStructure, node.CheckProof, node.CheckIssuer, node.CheckValidity,
		node.CheckInclusion, node.CheckAnchored, node.CheckMemberAtAnchor, node.CheckStatus}

	t.Run("valid", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "valid", mode: "node", credential: indentJSON(t, valid.Credential), keyboard: true}, "", shots)
		if r.Verdict != "verified" || !strings.Contains(r.VerdictText, "Verified") {
			t.Errorf("verdict %q (%q), want verified", r.Verdict, r.VerdictText)
		}
		wantAllGreen(t, "valid", r, "credential", nodeChecks)
		if r.Achievement != "DS 101" || r.Description != "Distributed systems." || r.Facts["criteria"] != "Pass the exam." {
			t.Errorf("achievement %q, %q, criteria %q", r.Achievement, r.Description, r.Facts["criteria"])
		}
		if r.Facts["issuer-name"] != e.issuer.Name || r.Facts["issuer-did"] != e.issuer.DID || r.Facts["member-did"] != e.issuer.DID ||
			r.Facts["membership"] != "active consortium member" || !strings.EqualFold(r.Facts["member"], e.member.Hex()) {
			t.Errorf("issuer and membership: %v", r.Facts)
		}
		if r.Facts["block"] != fmt.Sprint(validReceipt.BlockNumber) || r.Facts["confirmations"] == "" || r.Facts["block-time"] == "" {
			t.Errorf("anchor facts: %v", r.Facts)
		}
		if len(r.Statuses) != 2 || r.Statuses[0].Status != "clear" || r.Statuses[1].Status != "clear" {
			t.Errorf("status entries %+v, want two clear", r.Statuses)
		}
		if r.Focused != "result" {
			t.Errorf("focus on %q after verifying, want the result", r.Focused)
		}
		checkContrast(t, b, "valid")
	})

	t.Run("tampered", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "tampered", mode: "node", credential: string(tampered)}, "", shots)
		if r.Verdict != "failed" {
			t.Errorf("verdict %q, want failed", r.Verdict)
		}
		c, ok := findCheck(r.Checks, "credential", node.CheckProof)
		if !ok || c.OK || !strings.Contains(c.Shown, "failed") {
			t.Errorf("proof check %+v, want shown failed", c)
		}
		if c, ok := findCheck(r.Checks, "credential", node.CheckDigest); !ok || !c.OK {
			t.Errorf("digest check %+v, want passed", c)
		}
		checkContrast(t, b, "tampered")
	})

	t.Run("revoked", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "revoked", mode: "node", credential: string(revoked.Credential)}, "", shots)
		if r.Verdict != "revoked" || !strings.Contains(r.VerdictText, "Revoked") {
			t.Errorf("verdict %q (%q), want revoked", r.Verdict, r.VerdictText)
		}
		c, ok := findCheck(r.Checks, "credential", node.CheckStatus)
		if !ok || c.OK || !strings.Contains(c.Detail, "revoked") {
			t.Errorf("status check %+v, want failed with revoked", c)
		}
		for _, c := range r.Checks {
			if c.Check != node.CheckStatus && !c.OK {
				t.Errorf("check %s failed too: %s", c.Check, c.Detail)
			}
		}
		if len(r.Statuses) != 2 || r.Statuses[0].Purpose != node.PurposeRevocation || r.Statuses[0].Status != "revoked" || r.Statuses[1].Status != "clear" {
			t.Errorf("status entries %+v, want revocation revoked", r.Statuses)
		}
		checkContrast(t, b, "revoked")
	})

	t.Run("jwt", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "jwt", mode: "node", credential: jwt, receipt: receiptJSON(jwtReceipt)}, "", shots)
		if r.Verdict != "verified" {
			t.Errorf("verdict %q, want verified", r.Verdict)
		}
		wantAllGreen(t, "jwt", r, "credential", nodeChecks)
		if r.Achievement != "DS 101" {
			t.Errorf("achievement %q", r.Achievement)
		}
	})

	t.Run("roll-up with its component", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "rollup", mode: "node", credential: indentJSON(t, rollupVP)}, "", shots)
		if r.Verdict != "verified" || !slices.Equal(r.Credentials, []string{"verified", "verified"}) {
			t.Errorf("verdict %q, credentials %v", r.Verdict, r.Credentials)
		}
		if got := r.Facts["component-0-0"]; got != "credential 2, verified" {
			t.Errorf("the roll-up's component shows %q, want credential 2, verified", got)
		}
	})

	t.Run("presentation", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "presentation", mode: "node", credential: indentJSON(t, vp)}, "", shots)
		if r.Verdict != "verified" {
			t.Errorf("verdict %q, want verified", r.Verdict)
		}
		wantAllGreen(t, "presentation", r, "presentation", []string{node.CheckPresentation, node.CheckHolderProof, node.CheckChallenge, node.CheckHolderIsSubject})
		if !slices.Equal(r.Credentials, []string{"verified", "verified"}) {
			t.Errorf("credential verdicts %v", r.Credentials)
		}
		for i := range 2 {
			wantAllGreen(t, "presentation", r, fmt.Sprintf("credential-%d", i), nodeChecks)
		}
		if r.Facts["holder"] != alice.did {
			t.Errorf("holder %q, want %s", r.Facts["holder"], alice.did)
		}
	})

	t.Run("files", func(t *testing.T) {
		// A person chooses (or drops) the credential and its receipt as
		// files; the page tells which is which.
		var cleared bool
		b.eval(t, `async () => { for (const id of ["credential", "receipt"]) document.getElementById(id).value = ""; return true; }`, nil, &cleared)
		rc := receiptJSON(validReceipt)
		b.do(t, map[string]any{"op": "files", "files": []map[string]string{{"name": "receipt.json", "text": rc}, {"name": "badge.json", "text": string(valid.Credential)}}})
		var got struct{ Credential, Receipt string }
		b.eval(t, `async () => ({Credential: document.getElementById("credential").value, Receipt: document.getElementById("receipt").value})`, nil, &got)
		if got.Credential != string(valid.Credential) || got.Receipt != rc {
			t.Errorf("after choosing files: credential %.60q, receipt %.60q", got.Credential, got.Receipt)
		}
	})

	t.Run("challenge button", func(t *testing.T) {
		var challenge string
		b.eval(t, `async (vp) => {
			const cred = document.getElementById("credential");
			cred.value = vp;
			cred.dispatchEvent(new Event("input"));
			if (document.getElementById("presentation-options").hidden) return "options hidden for a presentation";
			document.getElementById("get-challenge").click();
			const field = document.getElementById("challenge");
			for (let i = 0; i < 600 && !field.value; i++) await new Promise((r) => setTimeout(r, 50));
			const v = field.value;
			field.value = "";
			return v;
		}`, string(vp), &challenge)
		if challenge == "" || strings.Contains(challenge, " ") {
			t.Errorf("challenge field %q after Get a challenge", challenge)
		}
	})

	t.Run("page channel", func(t *testing.T) {
		// The page marks its calls, and the node counts them apart: the
		// verifications above, and no others.
		metrics := string(e.get("/metrics").body)
		for outcome, want := range map[string]string{"verified": "4", "failed": "2"} {
			re := regexp.MustCompile(`(?m)^credanchor_verify_requests_total\{channel="page",outcome="` + outcome + `"\} (\S+)$`)
			m := re.FindStringSubmatch(metrics)
			if m == nil || m[1] != want {
				t.Errorf("page verifications %s: %v, want %s", outcome, m, want)
			}
		}
	})

	t.Run("phone width", func(t *testing.T) {
		b.do(t, map[string]any{"op": "viewport", "width": 360, "height": 740})
		r := b.verify(t, verifyCase{name: "phone", mode: "node", credential: string(valid.Credential)}, "", shots)
		if r.Verdict != "verified" {
			t.Errorf("verdict %q, want verified", r.Verdict)
		}
		var overflow struct{ Scroll, Client int }
		b.eval(t, `async () => ({Scroll: document.documentElement.scrollWidth, Client: document.documentElement.clientWidth})`, nil, &overflow)
		if overflow.Scroll > overflow.Client {
			t.Errorf("the page is %d px wide in a %d px viewport", overflow.Scroll, overflow.Client)
		}
		b.do(t, map[string]any{"op": "viewport", "width": 1280, "height": 900})
	})

	t.Run("jcs", func(t *testing.T) { checkJCS(t, b, valid.Credential) })
	t.Run("merkle and calldata", func(t *testing.T) { checkMerkleJS(t, b) })
	t.Run("sha256 without webcrypto", func(t *testing.T) { checkSHA256JS(t, b) })

	// The node's HTTP server stops; the page stays loaded, and the chain
	// stays up.
	e.srv.Close()
	if _, err := http.Get(e.srv.URL + "/healthz"); err == nil {
		t.Fatal("the node still answers after its server closed")
	}
	// A browser reaches the chain only if its RPC allows other origins,
	// as public providers do and the dev chain is configured to.
	rpcURL := e.chain.RPCURL()
	if !allowsCORS(t, rpcURL) {
		t.Fatal("the dev chain's RPC sends no CORS headers: a browser cannot call it")
	}
	rpcChecks := []string{"receipt", node.CheckDigest, node.CheckInclusion, "registry", "chain", node.CheckAnchored, node.CheckMemberAtAnchor, node.CheckValidity}

	t.Run("rpc only", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "rpc-valid", mode: "rpc", credential: indentJSON(t, valid.Credential), receipt: receiptJSON(validReceipt), registry: e.reg.Hex()}, rpcURL, shots)
		if r.Verdict != "verified" {
			t.Errorf("verdict %q (%q), want verified", r.Verdict, r.VerdictText)
		}
		wantAllGreen(t, "rpc only", r, "credential", rpcChecks)
		if r.Facts["block"] != fmt.Sprint(validReceipt.BlockNumber) || r.Facts["member-did"] != e.issuer.DID || r.Facts["member-name"] != e.issuer.Name || r.Facts["block-time"] == "" {
			t.Errorf("facts from the chain: %v", r.Facts)
		}
	})
	t.Run("rpc only jwt", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "rpc-jwt", mode: "rpc", credential: jwt, receipt: receiptJSON(jwtReceipt)}, rpcURL, shots)
		if r.Verdict != "verified" {
			t.Errorf("verdict %q (%q), want verified", r.Verdict, r.VerdictText)
		}
		wantAllGreen(t, "rpc only jwt", r, "credential", slices.DeleteFunc(slices.Clone(rpcChecks), func(s string) bool { return s == "registry" }))
	})
	t.Run("rpc only tampered", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "rpc-tampered", mode: "rpc", credential: string(tampered), receipt: receiptJSON(validReceipt)}, rpcURL, shots)
		c, ok := findCheck(r.Checks, "credential", node.CheckDigest)
		if r.Verdict != "failed" || !ok || c.OK || !strings.Contains(c.Detail, validReceipt.Digest.String()) {
			t.Errorf("verdict %q, digest check %+v: want the digest failing", r.Verdict, c)
		}
	})
	t.Run("rpc only other registry", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "rpc-other-registry", mode: "rpc", credential: string(valid.Credential), receipt: receiptJSON(validReceipt), registry: e.member.Hex()}, rpcURL, shots)
		c, ok := findCheck(r.Checks, "credential", "registry")
		if r.Verdict != "failed" || !ok || c.OK || !strings.Contains(c.Detail, "not the consortium's") {
			t.Errorf("verdict %q, registry check %+v: want the registry failing", r.Verdict, c)
		}
	})
	t.Run("rpc only presentation", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "rpc-presentation", mode: "rpc", credential: string(vp)}, rpcURL, shots)
		if r.Verdict != "verified" || !slices.Equal(r.Credentials, []string{"verified", "verified"}) {
			t.Errorf("verdict %q, credentials %v, want both verified", r.Verdict, r.Credentials)
		}
	})
	t.Run("rpc unreachable", func(t *testing.T) {
		r := b.verify(t, verifyCase{name: "rpc-unreachable", mode: "rpc", credential: string(valid.Credential), receipt: receiptJSON(validReceipt)}, e.srv.URL, shots)
		c, ok := findCheck(r.Checks, "credential", "chain")
		if r.Verdict != "failed" || !ok || c.OK || !strings.Contains(c.Detail, "cannot be reached") {
			t.Errorf("verdict %q, chain check %+v: want the chain failing", r.Verdict, c)
		}
	})
	b.do(t, map[string]any{"op": "close"})
	for _, ev := range b.events {
		t.Logf("page %s: %s", ev.Kind, ev.Text)
	}
}

// checkJCS compares the page's JCS with the node's on a credential and on
// the hard cases of RFC 8785: number forms, escapes, and member order by
// UTF-16 code units.
func checkJCS(t *testing.T, b *browser, cred []byte) {
	inputs := []string{
		string(cred),
		`{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000001,1e-7,0.000000000000000000000000001,-0,1e21,1e20,123456789012345680000,9007199254740993,-1.5e-300,5e-324]}`,
		`{"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","html":"<a href='x'>&</a>","sep":"\u2028\u2029","ctl":"\u0000\u001f\u007f","emoji":"\ud83d\ude00"}`,
		`{"\u20ac":1,"\r":2,"\ud83d\ude00":3,"1":4,"10":5,"a":6,"A":7,"\u0080":8,"\u00f6":9,"\ufb33":10,"":11,"aa":12,"a\u0000":13}`,
		`{"nested":{"z":[{"b":true,"a":null}],"y":{}},"empty":[],"t":false}`,
	}
	var got []struct {
		Out string `json:"out"`
		Err string `json:"err"`
	}
	b.eval(t, `async (inputs) => {
		const { canonicalize } = await import("/web/jcs.js");
		return inputs.map((t) => { try { return { out: canonicalize(JSON.parse(t)) }; } catch (e) { return { err: String(e) }; } });
	}`, inputs, &got)
	if len(got) != len(inputs) {
		t.Fatalf("got %d outputs for %d inputs", len(got), len(inputs))
	}
	for i, in := range inputs {
		want, err := credential.Canonical([]byte(in))
		if err != nil {
			t.Errorf("input %d: Go: %v", i, err)
			continue
		}
		if got[i].Err != "" || got[i].Out != string(want) {
			t.Errorf("input %d: page %q (%s), node %q", i, got[i].Out, got[i].Err, want)
		}
	}
}

// checkMerkleJS compares the page's RFC 9162 roots with anchor/merkle's
// for every leaf of trees of 1 to 17 leaves, and its verifyInclusion
// calldata with the ABI binding's.
func checkMerkleJS(t *testing.T, b *browser) {
	type proofCase struct {
		Index  uint64   `json:"index"`
		Size   uint64   `json:"size"`
		Digest string   `json:"digest"`
		Path   []string `json:"path"`
		Root   string   `json:"root"`
		Call   string   `json:"call"`
	}
	reg := registry.NewRegistry()
	var cases []proofCase
	for size := 1; size <= 17; size++ {
		digests := make([]merkle.Hash, size)
		for i := range digests {
			digests[i] = merkle.Hash(digestOfIndex(size, i))
		}
		tree, err := merkle.New(digests)
		if err != nil {
			t.Fatal(err)
		}
		for i := range size {
			proof, err := tree.InclusionProof(uint64(i))
			if err != nil {
				t.Fatal(err)
			}
			path := make([][32]byte, len(proof))
			for j, h := range proof {
				path[j] = h
			}
			cases = append(cases, proofCase{
				Index: uint64(i), Size: uint64(size), Digest: digests[i].String(), Path: merkle.FormatProof(proof), Root: tree.Root().String(),
				Call: "0x" + hex.EncodeToString(reg.PackVerifyInclusion(digests[i], uint64(i), uint64(size), path)),
			})
		}
	}
	var got []struct {
		Root string `json:"root"`
		Call string `json:"call"`
		Err  string `json:"err"`
	}
	b.eval(t, `async (cases) => {
		const m = await import("/web/chain.js");
		const out = [];
		for (const c of cases) {
			try {
				const d = m.hexToBytes(c.digest, 32), path = c.path.map((h) => m.hexToBytes(h, 32));
				const root = await m.rootFromPath(BigInt(c.index), BigInt(c.size), d, path);
				out.push({ root: m.bytesToHex(root), call: m.encodeVerifyInclusion(d, BigInt(c.index), BigInt(c.size), path) });
			} catch (e) { out.push({ err: String(e) }); }
		}
		return out;
	}`, cases, &got)
	if len(got) != len(cases) {
		t.Fatalf("got %d answers for %d cases", len(got), len(cases))
	}
	for i, c := range cases {
		if got[i].Err != "" || got[i].Root != c.Root || got[i].Call != c.Call {
			t.Errorf("leaf %d of %d: page root %s call %s (%s), want %s call %s", c.Index, c.Size, got[i].Root, got[i].Call, got[i].Err, c.Root, c.Call)
		}
	}
}

// digestOfIndex is a distinct digest for leaf i of a tree of size n.
func digestOfIndex(n, i int) [32]byte {
	var d [32]byte
	d[0], d[1], d[31] = byte(n), byte(i), 0xa5
	return d
}

// checkSHA256JS compares the page's plain-JavaScript SHA-256, its fallback
// outside a secure context, with crypto/sha256 around every padding
// boundary.
func checkSHA256JS(t *testing.T, b *browser) {
	var inputs, want []string
	for _, n := range []int{0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 4096 + 7} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + n)
		}
		sum := sha256.Sum256(data)
		inputs = append(inputs, hex.EncodeToString(data))
		want = append(want, "0x"+hex.EncodeToString(sum[:]))
	}
	var got []string
	b.eval(t, `async (inputs) => {
		const m = await import("/web/chain.js");
		return inputs.map((h) => m.bytesToHex(m.sha256JS(m.hexToBytes("0x" + h))));
	}`, inputs, &got)
	if !slices.Equal(got, want) {
		t.Errorf("sha256JS:\n got %q\nwant %q", got, want)
	}
}
