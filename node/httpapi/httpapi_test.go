package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
)

// checkProblem asserts the RFC 9457 shape of an error response.
func checkProblem(t *testing.T, r response, wantStatus int, wantType string) Problem {
	t.Helper()
	if r.status != wantStatus {
		t.Fatalf("status: got %s, want %d", r, wantStatus)
	}
	if ct := r.header.Get("Content-Type"); ct != ProblemContentType {
		t.Errorf("Content-Type: got %q, want %q", ct, ProblemContentType)
	}
	var p Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body %q: %v", r.body, err)
	}
	if p.Status != r.status {
		t.Errorf("problem status %d, HTTP status %d", p.Status, r.status)
	}
	if p.Title == "" || p.Type == "" {
		t.Errorf("problem without type or title: %+v", p)
	}
	if wantType != "" && p.Type != wantType {
		t.Errorf("problem type: got %q, want %q (detail %q)", p.Type, wantType, p.Detail)
	}
	return p
}

// TestSubmitAnchorVerify issues a credential through the node (signed with
// the member's did:key, submitted), waits for its anchor and verifies it:
// every check passes, and a tampered copy fails its proof and inclusion.
func TestSubmitAnchorVerify(t *testing.T) {
	e := newEnv(t, envOptions{run: true})
	ctx := t.Context()
	r := e.issue("", unsignedCredential("anchor-verify"))
	if r.status != http.StatusCreated {
		t.Fatalf("issue: got %s, want 201", r)
	}
	iss := decode[IssueResponse](t, r)
	cred := []byte(iss.Credential)
	want := jsonDigest(t, cred)
	if iss.Digest != want || iss.State != node.StatePending {
		t.Fatalf("issue: got digest %s state %s, want %s pending", iss.Digest, iss.State, want)
	}
	if got, want := r.header.Get("Location"), "/v1/credentials/"+want.String(); got != want {
		t.Errorf("Location: got %q, want %q", got, want)
	}

	rec := e.waitAnchored(want)
	if rec.BatchRoot == nil || rec.TxHash == nil || rec.Member == nil || *rec.Member != e.member {
		t.Fatalf("anchored record lacks its anchor: %+v", rec)
	}

	r = e.get("/v1/credentials/" + want.String() + "/receipt")
	if r.status != http.StatusOK {
		t.Fatalf("receipt: %s", r)
	}
	rc, err := anchor.ParseReceipt(r.body)
	if err != nil {
		t.Fatalf("parse receipt: %v", err)
	}
	if _, err := anchor.VerifyReceipt(ctx, e.chain.Client(), rc, want); err != nil {
		t.Fatalf("VerifyReceipt: %v", err)
	}
	receiptJSON := r.body

	// The same credential re-indented: JCS makes formatting irrelevant.
	var compact bytes.Buffer
	if err := json.Compact(&compact, cred); err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(cred, []byte(`"DS 101"`), []byte(`"DS 102"`), 1)
	allOK := []string{node.CheckDigest, node.CheckStructure, node.CheckProof, node.CheckIssuer, node.CheckValidity,
		node.CheckInclusion, node.CheckAnchored, node.CheckMemberAtAnchor}
	for _, tc := range []struct {
		name       string
		cred       []byte
		receipt    []byte
		verified   bool
		wantChecks []string // checks that must pass, in order
		failed     []string // the checks that must fail; the last with failDetail
		failDetail string
	}{
		{name: "own record", cred: cred, verified: true, wantChecks: allOK},
		{name: "with receipt", cred: cred, receipt: receiptJSON, verified: true, wantChecks: allOK},
		{name: "reformatted", cred: compact.Bytes(), receipt: receiptJSON, verified: true, wantChecks: allOK},
		{name: "tampered", cred: tampered, wantChecks: []string{node.CheckDigest, node.CheckStructure},
			failed: []string{node.CheckProof, node.CheckIssuer, node.CheckInclusion}, failDetail: "no record"},
		{name: "tampered with receipt", cred: tampered, receipt: receiptJSON, wantChecks: []string{node.CheckDigest, node.CheckStructure},
			failed: []string{node.CheckProof, node.CheckIssuer, node.CheckInclusion}, failDetail: "receipt is for digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]json.RawMessage{"credential": tc.cred}
			if tc.receipt != nil {
				body["receipt"] = tc.receipt
			}
			req, _ := json.Marshal(body)
			r := e.request(http.MethodPost, "/v1/verify", "application/json", req)
			if r.status != http.StatusOK {
				t.Fatalf("verify: %s", r)
			}
			v := decode[VerifyResponse](t, r)
			if v.Verified != tc.verified {
				t.Fatalf("verified: got %v, want %v: %s", v.Verified, tc.verified, r.body)
			}
			for i, name := range tc.wantChecks {
				if i >= len(v.Checks) || v.Checks[i].Check != name || !v.Checks[i].OK {
					t.Fatalf("check %d: want %s ok, got %+v", i, name, v.Checks)
				}
			}
			if tc.failed == nil {
				if len(v.Checks) != len(tc.wantChecks) || len(v.ProblemDetails) != 0 {
					t.Errorf("checks %+v, problems %+v", v.Checks, v.ProblemDetails)
				}
				if v.Anchor == nil || v.Anchor.Member != e.member || v.Anchor.MemberDID != e.issuer.DID || v.Anchor.Confirmations < 1 {
					t.Errorf("anchor facts: %+v", v.Anchor)
				}
				if v.Digest == nil || *v.Digest != want {
					t.Errorf("digest: got %v, want %s", v.Digest, want)
				}
				return
			}
			if got := failedChecks(v); !slices.Equal(got, tc.failed) {
				t.Errorf("failed checks: got %q, want %q", got, tc.failed)
			}
			last := v.Checks[len(v.Checks)-1]
			if last.Check != tc.failed[len(tc.failed)-1] || last.OK || !strings.Contains(last.Detail, tc.failDetail) {
				t.Errorf("last check: got %+v, want %s failing with %q", last, tc.failed[len(tc.failed)-1], tc.failDetail)
			}
			if len(v.ProblemDetails) != len(tc.failed) {
				t.Fatalf("problemDetails: %+v", v.ProblemDetails)
			}
			for i, p := range v.ProblemDetails {
				if p.Check != tc.failed[i] || p.Type != ProblemTypeBase+"check-failed/"+tc.failed[i] {
					t.Errorf("problemDetails[%d]: %+v", i, p)
				}
			}
		})
	}

	t.Run("resubmit", func(t *testing.T) {
		r := e.submit("application/json", compact.Bytes())
		if r.status != http.StatusOK {
			t.Fatalf("resubmit: got %s, want 200", r)
		}
		again := decode[node.Record](t, r)
		if again.Digest != want || again.State != node.StateAnchored {
			t.Errorf("resubmit: got %s %s, want %s anchored", again.Digest, again.State, want)
		}
		if n := e.node.PendingCount(); n != 0 {
			t.Errorf("resubmission queued a duplicate: %d pending", n)
		}
	})

	t.Run("batches", func(t *testing.T) {
		r := e.get("/v1/batches")
		if r.status != http.StatusOK {
			t.Fatalf("list: %s", r)
		}
		var raw struct {
			Batches []map[string]any `json:"batches"`
		}
		if err := json.Unmarshal(r.body, &raw); err != nil {
			t.Fatal(err)
		}
		if len(raw.Batches) != 1 {
			t.Fatalf("got %d batches, want 1: %s", len(raw.Batches), r.body)
		}
		b := raw.Batches[0]
		hexRE := regexp.MustCompile(`^0x[0-9a-f]{64}$`)
		for _, k := range []string{"root", "txHash", "blockHash"} {
			if s, _ := b[k].(string); !hexRE.MatchString(s) {
				t.Errorf("%s: got %v, want 0x-hex", k, b[k])
			}
		}
		if b["root"] != rec.BatchRoot.String() || b["state"] != "confirmed" || b["size"] != 1.0 ||
			!strings.EqualFold(b["member"].(string), e.member.Hex()) {
			t.Errorf("batch: %v", b)
		}
		if _, ok := b["rawTx"]; ok {
			t.Errorf("batch exposes its raw transaction")
		}
		r = e.get("/v1/batches/" + rec.BatchRoot.String())
		if got := decode[Batch](t, r); r.status != http.StatusOK || got.Root != *rec.BatchRoot {
			t.Errorf("GET batch: %s", r)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		r := e.get("/metrics")
		if r.status != http.StatusOK {
			t.Fatalf("metrics: %s", r)
		}
		for _, want := range []string{
			"credanchor_credentials_submitted_total 1\n",
			`credanchor_verify_requests_total{channel="http",outcome="verified"} 3`,
			`credanchor_verify_requests_total{channel="http",outcome="failed"} 2`,
			`credanchor_http_request_duration_seconds_count{code="201",method="POST",route="/v1/issue"} 1`,
			`credanchor_http_request_duration_seconds_bucket{code="200",method="GET",route="/v1/credentials/{digest}",le="+Inf"}`,
		} {
			if !strings.Contains(string(r.body), want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	})
}

func TestSubmitJWT(t *testing.T) {
	e := newEnv(t, envOptions{run: true})
	jwt := testJWT("jwt-1")
	want := merkle.Hash(sha256.Sum256([]byte(jwt)))
	for _, ct := range []string{"application/vc+jwt", "application/jwt; charset=utf-8"} {
		r := e.submit(ct, []byte(jwt+"\n"))
		if r.status != http.StatusAccepted && r.status != http.StatusOK {
			t.Fatalf("submit %s: %s", ct, r)
		}
		if got := decode[node.Record](t, r).Digest; got != want {
			t.Errorf("digest %s, want SHA-256 of the compact form %s", got, want)
		}
	}
	e.waitAnchored(want)
	// Anchored, but testJWT is no credential and is not signed: the anchor
	// checks pass and the credential's own fail.
	raw, _ := json.Marshal(jwt)
	v := e.verifyBody(raw, nil)
	if got, wantFailed := failedChecks(v), []string{node.CheckStructure, node.CheckProof, node.CheckIssuer, node.CheckValidity, node.CheckMemberAtAnchor}; v.Verified || !slices.Equal(got, wantFailed) {
		t.Errorf("verify an unsigned VC-JWT: failed %q, want %q: %+v", got, wantFailed, v.Checks)
	}
}

func TestBulk(t *testing.T) {
	e := newEnv(t, envOptions{})
	compact := func(b []byte) []byte {
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	c1, c2, c3 := compact(testCredential("bulk-1")), compact(testCredential("bulk-2")), compact(testCredential("bulk-3"))
	jwt := testJWT("bulk-jwt")
	jwtLine, _ := json.Marshal(jwt)
	// Already known before the bulk request.
	if r := e.submit("application/json", c3); r.status != http.StatusAccepted {
		t.Fatalf("submit: %s", r)
	}
	body := bytes.Join([][]byte{
		c1,
		[]byte(`{"truncated": `), // line 2: bad JSON
		c2,
		nil, // line 4: blank, skipped
		[]byte("  \r"),
		jwtLine,
		[]byte(`42`),                      // line 7: neither object nor string
		[]byte(`"not.a-jwt"`),             // line 8: a string, not a JWS
		c3,                                // line 9: existing
		append(c1[:len(c1):len(c1)], ' '), // line 10: duplicate of line 1
	}, []byte("\n"))
	r := e.request(http.MethodPost, "/v1/credentials/bulk", "application/x-ndjson", body, "Authorization", "Bearer "+issuerToken)
	if r.status != http.StatusOK {
		t.Fatalf("bulk: %s", r)
	}
	resp := decode[BulkResponse](t, r)
	type want struct {
		line   int
		digest merkle.Hash
		status int // of the line's problem; 0 for success
	}
	wants := []want{
		{line: 1, digest: jsonDigest(t, c1)},
		{line: 2, status: http.StatusBadRequest},
		{line: 3, digest: jsonDigest(t, c2)},
		{line: 6, digest: sha256.Sum256([]byte(jwt))},
		{line: 7, status: http.StatusBadRequest},
		{line: 8, status: http.StatusBadRequest},
		{line: 9, digest: jsonDigest(t, c3)},
		{line: 10, digest: jsonDigest(t, c1)},
	}
	if len(resp.Results) != len(wants) {
		t.Fatalf("got %d results, want %d: %s", len(resp.Results), len(wants), r.body)
	}
	for i, w := range wants {
		got := resp.Results[i]
		if got.Line != w.line {
			t.Errorf("result %d: line %d, want %d", i, got.Line, w.line)
		}
		if w.status != 0 {
			if got.Error == nil || got.Error.Status != w.status || got.Digest != nil {
				t.Errorf("line %d: got %+v, want a %d problem", w.line, got, w.status)
			}
			continue
		}
		if got.Error != nil || got.Digest == nil || *got.Digest != w.digest || got.State != node.StatePending {
			t.Errorf("line %d: got %+v (error %+v), want digest %s pending", w.line, got, got.Error, w.digest)
		}
	}
	// Lines 1 and 10 race for the same digest: exactly one creates it.
	// New: lines 1 or 10, 3 and 6; existing: line 9 and one of 1 and 10.
	if resp.Created != 3 || resp.Existing != 2 || resp.Failed != 3 {
		t.Errorf("counts: created %d existing %d failed %d, want 3 2 3", resp.Created, resp.Existing, resp.Failed)
	}
	if n := e.node.PendingCount(); n != 4 {
		t.Errorf("pending: %d, want 4 distinct credentials", n)
	}
}

func TestPending(t *testing.T) {
	// No Run: nothing is batched, so the credential stays pending.
	e := newEnv(t, envOptions{})
	cred := testCredential("pending")
	d := jsonDigest(t, cred)
	if r := e.submit("application/ld+json", cred); r.status != http.StatusAccepted {
		t.Fatalf("submit: %s", r)
	}
	p := checkProblem(t, e.get("/v1/credentials/"+d.String()+"/receipt"), http.StatusNotFound, ProblemTypeBase+"not-anchored")
	if !strings.Contains(p.Detail, "not anchored yet") {
		t.Errorf("detail %q does not say it is not anchored yet", p.Detail)
	}
	req, _ := json.Marshal(map[string]json.RawMessage{"credential": cred})
	r := e.request(http.MethodPost, "/v1/verify", "application/json", req)
	if v := decode[VerifyResponse](t, r); r.status != http.StatusOK || v.Verified ||
		v.Checks[len(v.Checks)-1].Check != node.CheckInclusion {
		t.Errorf("verify pending: %s", r)
	}
	r = e.get("/healthz")
	if h := decode[Health](t, r); r.status != http.StatusOK || h.Pending != 1 {
		t.Errorf("healthz: %s", r)
	}
	// No batch yet: an empty list, not null; an over-large limit is capped.
	for _, path := range []string{"/v1/batches", "/v1/batches?limit=5000"} {
		if r := e.get(path); r.status != http.StatusOK || string(r.body) != `{"batches":[]}`+"\n" {
			t.Errorf("GET %s: %s", path, r)
		}
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t, envOptions{config: func(c *Config) { c.MaxBulkBytes = 64 << 10 }})
	cred := testCredential("errors")
	zero := "0x" + strings.Repeat("0", 64)
	auth := []string{"Authorization", "Bearer " + issuerToken}
	receipt := func(mut func(map[string]any)) []byte {
		rc := map[string]any{
			"type": "CredanchorReceipt", "version": 1, "digest": zero, "leafIndex": 0, "treeSize": 1, "path": []string{},
			"root": zero, "chainId": 1337, "contract": "0x00000000000000000000000000000000000000aa", "txHash": zero,
			"blockNumber": 1, "member": "0x00000000000000000000000000000000000000bb",
		}
		mut(rc)
		b, _ := json.Marshal(map[string]any{"credential": json.RawMessage(cred), "receipt": rc})
		return b
	}
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		contentType string
		body        []byte
		headers     []string
		status      int
		typ         string // problem type slug; "" for about:blank
		header      [2]string
	}{
		{name: "no token", method: "POST", path: "/v1/credentials", contentType: "application/json", body: cred,
			status: 401, typ: "unauthorized", header: [2]string{"WWW-Authenticate", `Bearer realm="credanchor"`}},
		{name: "wrong token", method: "POST", path: "/v1/credentials", contentType: "application/json", body: cred,
			headers: []string{"Authorization", "Bearer not-the-token"}, status: 401, typ: "unauthorized",
			header: [2]string{"WWW-Authenticate", `Bearer realm="credanchor", error="invalid_token"`}},
		{name: "token prefix", method: "POST", path: "/v1/credentials", contentType: "application/json", body: cred,
			headers: []string{"Authorization", "Bearer " + issuerToken[:5]}, status: 401, typ: "unauthorized"},
		{name: "basic auth", method: "POST", path: "/v1/credentials", contentType: "application/json", body: cred,
			headers: []string{"Authorization", "Basic " + issuerToken}, status: 401, typ: "unauthorized"},
		{name: "bulk no token", method: "POST", path: "/v1/credentials/bulk", contentType: "application/x-ndjson", body: cred,
			status: 401, typ: "unauthorized"},
		{name: "malformed JSON", method: "POST", path: "/v1/credentials", contentType: "application/json",
			body: []byte(`{"id": "urn:x",`), headers: auth, status: 400, typ: "malformed-credential"},
		{name: "JSON array", method: "POST", path: "/v1/credentials", contentType: "application/json",
			body: []byte(`[1,2]`), headers: auth, status: 400, typ: "malformed-credential"},
		{name: "empty body", method: "POST", path: "/v1/credentials", contentType: "application/json",
			headers: auth, status: 400, typ: "malformed-credential"},
		{name: "malformed JWT", method: "POST", path: "/v1/credentials", contentType: "application/vc+jwt",
			body: []byte("a.b"), headers: auth, status: 400, typ: "malformed-credential"},
		{name: "wrong content type", method: "POST", path: "/v1/credentials", contentType: "text/plain",
			body: cred, headers: auth, status: 415, typ: "unsupported-media-type", header: [2]string{"Accept", credentialAccept}},
		{name: "no content type", method: "POST", path: "/v1/credentials", body: cred, headers: auth, status: 415, typ: "unsupported-media-type"},
		{name: "bad media type", method: "POST", path: "/v1/credentials", contentType: "application/json; =x",
			body: cred, headers: auth, status: 415, typ: "unsupported-media-type"},
		{name: "oversized", method: "POST", path: "/v1/credentials", contentType: "application/json",
			body: bytes.Repeat([]byte(" "), DefaultMaxBodyBytes+1), headers: auth, status: 413, typ: "body-too-large"},
		{name: "bulk oversized", method: "POST", path: "/v1/credentials/bulk", contentType: "application/x-ndjson",
			body: bytes.Repeat(append(bytes.Clone(cred), '\n'), 64<<10/len(cred)+1), headers: auth, status: 413, typ: "body-too-large"},
		{name: "bulk content type", method: "POST", path: "/v1/credentials/bulk", contentType: "application/json",
			body: cred, headers: auth, status: 415, typ: "unsupported-media-type"},
		{name: "bad digest hex", method: "GET", path: "/v1/credentials/0xzz", status: 400, typ: "invalid-hash"},
		{name: "short digest", method: "GET", path: "/v1/credentials/" + zero[:40], status: 400, typ: "invalid-hash"},
		{name: "bad receipt digest", method: "GET", path: "/v1/credentials/xyz/receipt", status: 400, typ: "invalid-hash"},
		{name: "unknown digest", method: "GET", path: "/v1/credentials/" + zero, status: 404, typ: "not-found"},
		{name: "unknown receipt", method: "GET", path: "/v1/credentials/" + zero + "/receipt", status: 404, typ: "not-found"},
		{name: "unknown batch", method: "GET", path: "/v1/batches/" + zero, status: 404, typ: "not-found"},
		{name: "bad batch root", method: "GET", path: "/v1/batches/root", status: 400, typ: "invalid-hash"},
		{name: "limit not a number", method: "GET", path: "/v1/batches?limit=ten", status: 400, typ: "invalid-parameter"},
		{name: "limit zero", method: "GET", path: "/v1/batches?limit=0", status: 400, typ: "invalid-parameter"},
		{name: "verify malformed JSON", method: "POST", path: "/v1/verify", contentType: "application/json",
			body: []byte(`{"credential": {`), status: 400, typ: "malformed-json"},
		{name: "verify wrong type", method: "POST", path: "/v1/verify", contentType: "application/json",
			body: []byte(`["credential"]`), status: 400, typ: "malformed-json"},
		{name: "verify unknown member", method: "POST", path: "/v1/verify", contentType: "application/json",
			body: []byte(`{"credential": {}, "reciept": {}}`), status: 400, typ: "malformed-json"},
		{name: "verify trailing data", method: "POST", path: "/v1/verify", contentType: "application/json",
			body: []byte(`{"credential": {}} {}`), status: 400, typ: "malformed-json"},
		{name: "verify no credential", method: "POST", path: "/v1/verify", contentType: "application/json",
			body: []byte(`{}`), status: 400, typ: "malformed-credential"},
		{name: "verify credential number", method: "POST", path: "/v1/verify", contentType: "application/json",
			body: []byte(`{"credential": 7}`), status: 400, typ: "malformed-credential"},
		{name: "verify content type", method: "POST", path: "/v1/verify", contentType: "application/xml",
			body: []byte(`<x/>`), status: 415, typ: "unsupported-media-type"},
		{name: "verify receipt wrong type", method: "POST", path: "/v1/verify", contentType: "application/json",
			body: receipt(func(m map[string]any) { m["type"] = "Other" }), status: 400, typ: "malformed-receipt"},
		{name: "verify receipt unknown field", method: "POST", path: "/v1/verify", contentType: "application/json",
			body: receipt(func(m map[string]any) { m["extra"] = true }), status: 400, typ: "malformed-receipt"},
		{name: "verify receipt bad path", method: "POST", path: "/v1/verify", contentType: "application/json",
			body: receipt(func(m map[string]any) { m["path"] = []string{zero} }), status: 400, typ: "malformed-receipt"},
		{name: "verify receipt not object", method: "POST", path: "/v1/verify", contentType: "application/json",
			body: []byte(`{"credential": {}, "receipt": "r"}`), status: 400, typ: "malformed-receipt"},
		{name: "unknown route", method: "GET", path: "/v2/anything", status: 404},
		{name: "POST root", method: "POST", path: "/", status: 405, header: [2]string{"Allow", "GET"}},
		{name: "trailing slash", method: "GET", path: "/v1/credentials/", status: 404},
		{name: "wrong method", method: "DELETE", path: "/v1/credentials", status: 405, header: [2]string{"Allow", "POST"}},
		{name: "GET verify", method: "GET", path: "/v1/verify", status: 405, header: [2]string{"Allow", "POST"}},
		{name: "PUT healthz", method: "PUT", path: "/healthz", status: 405},
		{name: "odd method", method: "BREW", path: "/v1/batches", status: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.request(tc.method, tc.path, tc.contentType, tc.body, tc.headers...)
			typ := "about:blank"
			if tc.typ != "" {
				typ = ProblemTypeBase + tc.typ
			}
			p := checkProblem(t, r, tc.status, typ)
			if path, _, _ := strings.Cut(tc.path, "?"); p.Instance != path {
				t.Errorf("instance: got %q, want %q", p.Instance, path)
			}
			if tc.header[0] != "" {
				if got := r.header.Get(tc.header[0]); !strings.HasPrefix(got, tc.header[1]) {
					t.Errorf("%s: got %q, want %q", tc.header[0], got, tc.header[1])
				}
			}
		})
	}
	if n := e.node.PendingCount(); n != 0 {
		t.Errorf("refused requests queued %d credentials", n)
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.get("/healthz")
	if r.status != http.StatusOK {
		t.Fatalf("healthz: %s", r)
	}
	h := decode[Health](t, r)
	if h.Status != "ok" || !h.Chain.Reachable || h.Chain.ChainID != e.chain.ChainID().Uint64() || h.Chain.Head == 0 || h.Store != "open" {
		t.Errorf("healthz: %+v", h)
	}

	// The chain goes away: 503, as a problem that still tells what it knows.
	if err := e.chain.Close(); err != nil {
		t.Fatal(err)
	}
	r = e.get("/healthz")
	checkProblem(t, r, http.StatusServiceUnavailable, ProblemTypeBase+"unavailable")
	var hp struct {
		Chain ChainHealth `json:"chain"`
		Store string      `json:"store"`
	}
	if err := json.Unmarshal(r.body, &hp); err != nil || hp.Chain.Reachable || hp.Store != "open" {
		t.Errorf("unhealthy body: %s (%v)", r.body, err)
	}
	if strings.Contains(string(r.body), "127.0.0.1") {
		t.Errorf("the problem leaks the RPC address: %s", r.body)
	}
	// A verification that needs the chain cannot reach it: a 503 problem,
	// not a verdict and not a 500.
	cred := testCredential("no-chain")
	d := jsonDigest(t, cred)
	tree, err := merkle.New([]merkle.Hash{d})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := anchor.NewReceipt(tree, 0, d, anchor.AnchorInfo{ChainID: e.chain.ChainID().Uint64(), Contract: e.reg, BlockNumber: 1, Member: e.member})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := json.Marshal(map[string]any{"credential": json.RawMessage(cred), "receipt": rc})
	r = e.request(http.MethodPost, "/v1/verify", "application/json", req)
	checkProblem(t, r, http.StatusServiceUnavailable, ProblemTypeBase+"unavailable")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
}

func TestPanicRecovery(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.api.mux.Handle("GET /panic", e.api.endpoint(route{method: "GET", path: "/panic", handle: func(*Server, http.ResponseWriter, *http.Request) error {
		panic("boom")
	}}))
	checkProblem(t, e.get("/panic"), http.StatusInternalServerError, "about:blank")
	if r := e.get("/healthz"); r.status != http.StatusOK {
		t.Errorf("after a panic: %s", r)
	}
}

func TestNewConfig(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no node", Config{}},
		{"empty token", Config{Node: e.node, IssuerTokens: []string{"ok", ""}}},
		{"negative body", Config{Node: e.node, MaxBodyBytes: -1}},
		{"negative bulk", Config{Node: e.node, MaxBulkBytes: -1}},
	} {
		if _, err := New(tc.cfg); err == nil {
			t.Errorf("%s: New accepted %+v", tc.name, tc.cfg)
		}
	}
	// A second server over the same node shares the latency histogram.
	s2, err := New(Config{Node: e.node, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("second server: %v", err)
	}
	if s2.duration != e.api.duration {
		t.Errorf("second server registered another histogram")
	}
	// No tokens: submission is closed.
	srv2 := httptestServer(t, s2.Handler())
	req, _ := http.NewRequest(http.MethodPost, srv2+"/v1/credentials", bytes.NewReader(testCredential("closed")))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer ")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("submission without configured tokens: %d, want 401", resp.StatusCode)
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestListenAndServe(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	srv, err := e.api.ListenAndServe(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(srv.Addr(), ":0") {
		t.Fatalf("Addr %q has no real port", srv.Addr())
	}
	resp, err := http.Get(srv.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	cancel()
	if err := srv.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close after shutdown: %v", err)
	}
	if _, err := http.Get(srv.URL() + "/healthz"); err == nil {
		t.Errorf("server still answers after ctx ended")
	}
	if got := NewHTTPServer(":0", nil); got.ReadHeaderTimeout != 5*time.Second || got.ReadTimeout != 30*time.Second ||
		got.WriteTimeout != 60*time.Second || got.IdleTimeout != 120*time.Second {
		t.Errorf("NewHTTPServer timeouts: %+v", got)
	}
}

func TestProblemMapping(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want problemType
	}{
		{node.ErrNotFound, ptNotFound},
		{errors.Join(errors.New("x"), node.ErrPending), ptNotAnchored},
		{&http.MaxBytesError{Limit: 1}, ptTooLarge},
		{anchor.ErrMalformedReceipt, ptMalformedReceipt},
		{merkle.ErrInvalidHash, ptInvalidHash},
		{context.DeadlineExceeded, ptUnavailable},
		{errors.New("disk on fire"), ptInternal},
	} {
		if got, _, _ := problem(tc.err); got != tc.want {
			t.Errorf("%v: got %+v, want %+v", tc.err, got, tc.want)
		}
	}
	// A 500 never shows its cause.
	if _, detail, _ := problem(errors.New("dial http://rpc.example/KEY")); strings.Contains(detail, "KEY") {
		t.Errorf("500 detail leaks the cause: %q", detail)
	}
}
