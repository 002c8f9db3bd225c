package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/store"
)

// statsWant is what a scripted run must have counted.
type statsWant struct {
	issued, submitted, anchored, revoked, suspended, unsuspended uint64
	// verify[outcome][channel]
	verify map[string]map[string]uint64
}

func (w statsWant) check(t *testing.T, what string, got node.StatsCounts) {
	t.Helper()
	type pair struct {
		name      string
		got, want uint64
	}
	for _, p := range []pair{
		{"issued", got.Issued, w.issued}, {"submitted", got.Submitted, w.submitted}, {"anchored", got.Anchored, w.anchored},
		{"revoked", got.Revoked, w.revoked}, {"suspended", got.Suspended, w.suspended}, {"unsuspended", got.Unsuspended, w.unsuspended},
		{"anchorLatency.count", got.AnchorLatency.Count, w.anchored},
	} {
		if p.got != p.want {
			t.Errorf("%s: %s = %d, want %d", what, p.name, p.got, p.want)
		}
	}
	for _, o := range []string{"verified", "failed", "error"} {
		for _, c := range []string{"http", "vc-api", "page", "libp2p"} {
			if g, ok := got.Verifications[o][c]; !ok || g != w.verify[o][c] {
				t.Errorf("%s: verifications[%s][%s] = %d (present %v), want %d", what, o, c, g, ok, w.verify[o][c])
			}
		}
	}
}

// getStats fetches /v1/stats with query and decodes the 200 answer.
func getStats(t *testing.T, get func(string) response, query string) node.StatsReport {
	t.Helper()
	r := get("/v1/stats" + query)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/stats%s: %s", query, r)
	}
	return decode[node.StatsReport](t, r)
}

// waitStatusListsAnchored waits until the node serves both of its first
// status lists, which it does once they are anchored: verifications of its
// credentials then pass the status check. It polls the lists, not
// /v1/verify, which would count.
func (e *env) waitStatusListsAnchored() {
	e.tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, id := range []string{"revocation-1", "suspension-1"} {
		for e.get("/v1/status-lists/"+id).status != http.StatusOK {
			if time.Now().After(deadline) {
				e.tb.Fatalf("status list %s not served at the deadline", id)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestStatsScriptedRun issues, submits, verifies with known outcomes,
// revokes and suspends through the HTTP API of a node on the dev chain,
// and checks that /v1/stats and /metrics count exactly that; then stops the
// node cleanly, opens its store with a new node, and checks that /v1/stats
// still does.
func TestStatsScriptedRun(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(store.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var ncfg node.Config
	e := newEnv(t, envOptions{status: true, nodeConfig: func(c *node.Config) {
		c.Store = st
		c.StatsFlushInterval = 50 * time.Millisecond
		ncfg = *c
	}})
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.node.Run(runCtx)
	}()
	stopNode := func() { stop(); <-done }
	t.Cleanup(stopNode)

	// Issue five: four through /v1/issue, one through VC-API.
	var issued []IssueResponse
	for i := range 4 {
		issued = append(issued, e.issued("", unsignedCredential(fmt.Sprint("stats-", i))))
	}
	body, _ := json.Marshal(VCAPIIssueRequest{Credential: unsignedCredential("stats-vcapi")})
	if r := e.request(http.MethodPost, "/credentials/issue", "application/json", body, "Authorization", "Bearer "+issuerToken); r.status != http.StatusCreated {
		t.Fatalf("VC-API issue: %s", r)
	}
	// Submit two already signed; a resubmission counts once.
	var digests []merkle.Hash
	for _, tag := range []string{"stats-sub-1", "stats-sub-2", "stats-sub-1"} {
		r := e.submit("application/json", testCredential(tag))
		if r.status != http.StatusAccepted && r.status != http.StatusOK {
			t.Fatalf("submit: %s", r)
		}
		digests = append(digests, decode[node.Record](t, r).Digest)
	}
	for _, is := range issued {
		digests = append(digests, is.Digest)
	}
	for _, d := range digests {
		e.waitAnchored(d)
	}
	e.waitStatusListsAnchored()

	// Verify, with outcomes known in advance.
	tampered := bytes.Replace(issued[0].Credential, []byte("micro-credential stats-0"), []byte("micro-credential stats-X"), 1)
	if bytes.Equal(tampered, issued[0].Credential) {
		t.Fatal("the tampering changed nothing")
	}
	verifyReq := func(cred []byte) []byte {
		b, _ := json.Marshal(VerifyRequest{Credential: cred})
		return b
	}
	vcapiReq := func(cred []byte) []byte {
		b, _ := json.Marshal(VCAPIVerifyRequest{VerifiableCredential: cred})
		return b
	}
	for i, tc := range []struct {
		path    string
		body    []byte
		headers []string
		status  int
		verdict string // "verified", "failed" or "" for no verdict
	}{
		{"/v1/verify", verifyReq(issued[0].Credential), nil, http.StatusOK, "verified"},
		{"/v1/verify", verifyReq(issued[1].Credential), nil, http.StatusOK, "verified"},
		{"/v1/verify", verifyReq(tampered), nil, http.StatusOK, "failed"},
		{"/v1/verify", verifyReq(testCredential("stats-sub-1")), nil, http.StatusOK, "failed"},
		{"/v1/verify", []byte(`{"credential": `), nil, http.StatusBadRequest, ""},
		{"/v1/verify", verifyReq(issued[2].Credential), []string{ChannelHeader, "page"}, http.StatusOK, "verified"},
		// Only "page" is honoured: this one counts under http.
		{"/v1/verify", verifyReq(issued[3].Credential), []string{ChannelHeader, "libp2p"}, http.StatusOK, "verified"},
		{"/credentials/verify", vcapiReq(issued[0].Credential), nil, http.StatusOK, "verified"},
		{"/credentials/verify", vcapiReq(tampered), nil, http.StatusBadRequest, "failed"},
		{"/credentials/verify", []byte(`{"verifiableCredential": 5}`), nil, http.StatusBadRequest, ""},
		{"/credentials/verify", vcapiReq(tampered), []string{ChannelHeader, "page"}, http.StatusBadRequest, "failed"},
	} {
		r := e.request(http.MethodPost, tc.path, "application/json", tc.body, tc.headers...)
		if r.status != tc.status {
			t.Fatalf("verification %d (%s): got %s, want %d", i, tc.path, r, tc.status)
		}
		if tc.verdict != "" {
			var v struct{ Verified *bool }
			if err := json.Unmarshal(r.body, &v); err != nil || v.Verified == nil || *v.Verified != (tc.verdict == "verified") {
				t.Fatalf("verification %d (%s): got %s, want %s", i, tc.path, r, tc.verdict)
			}
		}
	}

	// Revoke two; suspend one twice (the second is no change), then
	// unsuspend it.
	for _, step := range []struct {
		d      merkle.Hash
		action string
	}{
		{issued[0].Digest, "revoke"}, {issued[1].Digest, "revoke"},
		{issued[2].Digest, "suspend"}, {issued[2].Digest, "suspend"}, {issued[2].Digest, "unsuspend"},
	} {
		if r := e.changeStatus(step.d, step.action, ""); r.status != http.StatusOK {
			t.Fatalf("%s: %s", step.action, r)
		}
	}

	want := statsWant{
		issued: 5, submitted: 2, anchored: 7, revoked: 2, suspended: 1, unsuspended: 1,
		verify: map[string]map[string]uint64{
			"verified": {"http": 3, "vc-api": 1, "page": 1},
			"failed":   {"http": 2, "vc-api": 1, "page": 1},
			"error":    {"http": 1, "vc-api": 1},
		},
	}
	// onConfirmed counts a batch a moment after its record says anchored.
	deadline := time.Now().Add(time.Minute)
	var rep node.StatsReport
	for {
		rep = getStats(t, e.get, "")
		if rep.Totals.Anchored >= want.anchored || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rep.Institution != e.issuer.DID || rep.Bucket != "day" || len(rep.Buckets) < 30 || len(rep.Buckets) > 32 {
		t.Errorf("report: institution %q, bucket %q, %d buckets", rep.Institution, rep.Bucket, len(rep.Buckets))
	}
	want.check(t, "totals", rep.Totals)
	// Everything happened within the last bucket (or two, at midnight).
	for _, b := range rep.Buckets[:len(rep.Buckets)-2] {
		if b.Issued != 0 {
			t.Errorf("%d issued in the bucket of %s, before yesterday", b.Issued, b.Start)
		}
	}
	lat := rep.Totals.AnchorLatency
	var inBuckets uint64
	for _, b := range lat.Buckets {
		inBuckets += b.Count
	}
	if lat.MeanSeconds <= 0 || lat.MeanSeconds > 120 || inBuckets != lat.Count || len(lat.Buckets) != 7 || lat.Buckets[6].MaxSeconds != nil {
		t.Errorf("anchor latency: %+v", lat)
	}
	if rep.Totals.Batches == 0 || rep.Totals.Batches > want.anchored || rep.Totals.Gas.Anchors == 0 || rep.Totals.Gas.StatusLists == 0 {
		t.Errorf("batches %d, gas %+v", rep.Totals.Batches, rep.Totals.Gas)
	}
	hourly := getStats(t, e.get, "?bucket=hour&from="+url.QueryEscape(time.Now().Add(-3*time.Hour).Format(time.RFC3339)))
	if len(hourly.Buckets) < 3 || len(hourly.Buckets) > 4 || hourly.Bucket != "hour" {
		t.Errorf("hourly: %d buckets", len(hourly.Buckets))
	}
	want.check(t, "hourly totals", hourly.Totals)

	m := string(e.get("/metrics").body)
	wantMetrics := []string{
		"credanchor_credentials_issued_total 5\n",
		"credanchor_credentials_submitted_total 7\n",
		"credanchor_credentials_anchored_total 7\n",
		"credanchor_anchor_latency_seconds_count 7\n",
		fmt.Sprintf("credanchor_anchor_gas_total %d\n", rep.Totals.Gas.Anchors),
		`credanchor_status_changes_total{action="revoke"} 2` + "\n",
		`credanchor_status_changes_total{action="suspend"} 1` + "\n",
		`credanchor_status_changes_total{action="unsuspend"} 1` + "\n",
		fmt.Sprintf("credanchor_institution_info{institution=%q} 1\n", e.issuer.DID),
	}
	for o, byChannel := range want.verify {
		for _, c := range []string{"http", "vc-api", "page", "libp2p"} {
			wantMetrics = append(wantMetrics, fmt.Sprintf("credanchor_verify_requests_total{channel=%q,outcome=%q} %d\n", c, o, byChannel[c]))
		}
	}
	for _, w := range wantMetrics {
		if !strings.Contains(m, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}

	// A clean stop: the node stops, then a request still answered by the
	// server counts, then the store closes. Nothing is lost.
	stopNode()
	if r := e.request(http.MethodPost, "/v1/verify", "application/json", []byte("{")); r.status != http.StatusBadRequest {
		t.Fatalf("verify after the stop: %s", r)
	}
	want.verify["error"]["http"]++
	before := getStats(t, e.get, "")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st2, err := store.Open(store.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st2.Close() })
	ncfg.Store = st2
	n2, err := node.New(t.Context(), ncfg)
	if err != nil {
		t.Fatal(err)
	}
	api2, err := New(Config{Node: n2})
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(api2.Handler())
	t.Cleanup(srv2.Close)
	get2 := func(path string) response {
		resp, err := e.client.Get(srv2.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return response{status: resp.StatusCode, header: resp.Header, body: buf.Bytes()}
	}
	after := getStats(t, get2, "")
	want.check(t, "after the restart", after.Totals)
	if !equalJSON(t, before.Totals, after.Totals) {
		t.Errorf("totals changed across the restart:\nbefore %+v\n after %+v", before.Totals, after.Totals)
	}
	// Prometheus counters start again from zero; Prometheus handles that.
	if m := string(get2("/metrics").body); !strings.Contains(m, "credanchor_credentials_issued_total 0\n") {
		t.Errorf("the new node's issued counter is not zero")
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

func TestStatsBadParameters(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, q := range []string{
		"?bucket=year",
		"?bucket=",
		"?from=yesterday",
		"?to=2026-13-01T00:00:00Z",
		"?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
		"?from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z",
		"?from=2023-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=hour",
		"?from=1969-01-01T00:00:00Z&to=1970-02-01T00:00:00Z",
		"?bucket=day&bucket=hour",
	} {
		t.Run(q, func(t *testing.T) {
			if q == "?bucket=" {
				// An empty value is the default, not an error.
				if r := e.get("/v1/stats" + q); r.status != http.StatusOK {
					t.Errorf("got %s, want 200", r)
				}
				return
			}
			checkProblem(t, e.get("/v1/stats"+q), http.StatusBadRequest, ptInvalidParameter.uri())
		})
	}
	// Over five years of days is refused too; of weeks it is fine.
	checkProblem(t, e.get("/v1/stats?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"), http.StatusBadRequest, ptInvalidParameter.uri())
	if r := e.get("/v1/stats?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=week"); r.status != http.StatusOK {
		t.Errorf("six years of weeks: %s", r)
	}
}

func TestParseStatsQuery(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	for _, tc := range []struct {
		query    string
		from, to time.Time
		bucket   store.Bucket
	}{
		{"", now.Add(-defaultStatsRange), now, store.BucketDay},
		{"bucket=hour", now.Add(-defaultStatsRange), now, store.BucketHour},
		{"to=2026-02-01T00:00:00Z", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), store.BucketDay},
		{"from=2026-03-01T00:00:00%2B01:00&bucket=week", time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), now, store.BucketWeek},
		{"from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=month&other=1", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), store.BucketMonth},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseStatsQuery(q, now)
		if err != nil {
			t.Errorf("%q: %v", tc.query, err)
			continue
		}
		if !got.from.Equal(tc.from) || !got.to.Equal(tc.to) || got.bucket != tc.bucket {
			t.Errorf("%q: got [%s, %s) %s, want [%s, %s) %s", tc.query, got.from, got.to, got.bucket, tc.from, tc.to, tc.bucket)
		}
	}
}

// FuzzStatsQuery: any query either parses into a non-empty range with a
// known bucket or is an invalid-parameter problem; never a panic.
func FuzzStatsQuery(f *testing.F) {
	for _, s := range []string{"", "bucket=hour", "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&bucket=month",
		"from=x", "to=2026-01-01T00:00:00%2B14:00", "bucket=week&bucket=day", "from=0001-01-01T00:00:00Z", "to=9999-12-31T23:59:59Z"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got, err := parseStatsQuery(q, now)
		if err != nil {
			pt, _, _ := problem(err)
			if pt != ptInvalidParameter {
				t.Fatalf("%q: error %v maps to %q", raw, err, pt.slug)
			}
			return
		}
		if _, err := store.ParseBucket(got.bucket.String()); err != nil || !got.from.Before(got.to) {
			t.Fatalf("%q: accepted [%s, %s) %s", raw, got.from, got.to, got.bucket)
		}
		// The store decides on the size; it must answer, not panic.
		if _, _, _, err := store.StatsRange(got.from, got.to, got.bucket); err != nil && !errors.Is(err, store.ErrStatsQuery) {
			t.Fatalf("%q: StatsRange: %v", raw, err)
		}
	})
}

// TestDashboardPage checks that /dashboard serves the embedded page with a
// Content-Security-Policy that allows its inline script and style, and
// that the page loads nothing from elsewhere.
func TestDashboardPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.get("/dashboard")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /dashboard: %d %q", r.status, r.header.Get("Content-Type"))
	}
	page := string(r.body)
	csp := r.header.Get("Content-Security-Policy")
	for _, tag := range []string{"script", "style"} {
		block, err := inlineBlock(page, tag)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(csp, cspHash(block)) {
			t.Errorf("CSP %q does not allow the page's %s", csp, tag)
		}
	}
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	// The only absolute URL is the SVG namespace, which is a name, not a
	// fetch.
	urls := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^"'\s)]*`).FindAllString(page, -1)
	for _, u := range urls {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("the page names %s: it must load nothing from elsewhere", u)
		}
	}
	for _, want := range []string{`<html lang="en">`, `name="viewport"`, `fetch("v1/stats?"`, `<label for="from">`, `<label for="bucket">`, `role="alert"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

// TestGrafanaDashboard checks that every metric the Grafana dashboard
// queries is one the node exports, and that every panel reads the
// ${DS_PROMETHEUS} data source, so that the dashboard cannot drift from the
// code.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile("dashboard/grafana.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("grafana.json: %v", err)
	}
	nameRE := regexp.MustCompile(`credanchor_[a-zA-Z0-9_]+`)
	queried := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ds, ok := v["datasource"]; ok {
				if m, ok := ds.(map[string]any); !ok || m["uid"] != "${DS_PROMETHEUS}" || m["type"] != "prometheus" {
					t.Errorf("%s: datasource %v, want prometheus ${DS_PROMETHEUS}", path, ds)
				}
			}
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "query" || k == "definition") {
					for _, n := range nameRE.FindAllString(s, -1) {
						queried[n] = true
					}
				}
				walk(path+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", path, i), x)
			}
		}
	}
	walk("", doc)

	// What the node exports: every family of a real node's registry, with
	// a histogram's series names.
	e := newEnv(t, envOptions{})
	e.get("/healthz") // so the request histogram has a series
	exported := map[string]bool{}
	for _, line := range strings.Split(string(e.get("/metrics").body), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "#" || f[1] != "TYPE" {
			continue
		}
		exported[f[2]] = true
		if f[3] == "histogram" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				exported[f[2]+s] = true
			}
		}
	}
	var names []string
	for n := range queried {
		names = append(names, n)
		if !exported[n] {
			t.Errorf("grafana.json queries %s, which the node does not export", n)
		}
	}
	slices.Sort(names)
	// The series of the analytics issue, each on some panel.
	for _, n := range []string{
		"credanchor_credentials_issued_total", "credanchor_credentials_submitted_total", "credanchor_credentials_anchored_total",
		"credanchor_status_changes_total", "credanchor_verify_requests_total", "credanchor_anchor_latency_seconds_bucket",
		"credanchor_anchor_gas_total", "credanchor_status_list_gas_total",
	} {
		if !queried[n] {
			t.Errorf("grafana.json has no panel on %s (it queries %v)", n, names)
		}
	}
}
