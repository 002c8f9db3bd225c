package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/node/statuslist"
	"github.com/credanchor/credanchor/node/vc"
)

// changeStatus posts a status change with the issuer token.
func (e *env) changeStatus(d merkle.Hash, action, reason string) response {
	e.tb.Helper()
	body, _ := json.Marshal(StatusChangeRequest{Reason: reason})
	return e.request(http.MethodPost, "/v1/credentials/"+d.String()+"/"+action, "application/json", body, "Authorization", "Bearer "+issuerToken)
}

// statusVerdict verifies a credential through /v1/verify and returns the
// detail of its status check ("" if it passed) and the failed checks.
func (e *env) statusVerdict(cred json.RawMessage) (string, []string, VerifyResponse) {
	e.tb.Helper()
	v := e.verifyBody(cred, nil)
	detail := ""
	for _, c := range v.Checks {
		if c.Check == node.CheckStatus && !c.OK {
			detail = c.Detail
		}
	}
	return detail, failedChecks(v), v
}

// waitStatus polls /v1/verify until the credential's status check says
// want ("" for passed), and returns the verdict. Publication runs on its
// own clock: the deadline is generous, not an expectation.
func (e *env) waitStatus(cred json.RawMessage, want string) VerifyResponse {
	e.tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		detail, failed, v := e.statusVerdict(cred)
		ok := want == "" && len(failed) == 0 || want != "" && strings.Contains(detail, want) && slices.Equal(failed, []string{node.CheckStatus})
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			e.tb.Fatalf("status still %q (failed %v), want %q", detail, failed, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStatusLists drives revocation and suspension through the HTTP API:
// issued credentials carry status entries, a change is pending until the
// next anchored version of the list, then every verification path sees it;
// a stale or altered list is caught by the anchor check.
func TestStatusLists(t *testing.T) {
	e := newEnv(t, envOptions{run: true, status: true})
	alice := newLearner(t, "alice")
	a := e.issued("", credentialFor("status-a", alice.did))
	b := e.issued("", credentialFor("status-b", alice.did))
	c := e.issued("?format=jwt", credentialFor("status-c", alice.did))

	// Each issued credential has an entry in a revocation and a suspension
	// list served by this node, at a random index.
	cred, err := vc.ParseCredential(a.Credential)
	if err != nil {
		t.Fatal(err)
	}
	entries := cred.CredentialStatus()
	if len(entries) != 2 {
		t.Fatalf("credentialStatus %v, want 2 entries", entries)
	}
	for i, purpose := range []string{node.PurposeRevocation, node.PurposeSuspension} {
		en := entries[i]
		url, _ := en["statusListCredential"].(string)
		if en["type"] != statuslist.EntryType || en["statusPurpose"] != purpose || !strings.HasPrefix(url, e.srv.URL+"/v1/status-lists/"+purpose+"-") {
			t.Errorf("entry %d: %v", i, en)
		}
	}
	for _, d := range []merkle.Hash{a.Digest, b.Digest, c.Digest} {
		e.waitAnchored(d)
	}
	for _, cr := range []json.RawMessage{a.Credential, b.Credential, c.Credential} {
		v := e.waitStatus(cr, "")
		if len(v.Checks) != 9 || len(v.Status) != 2 || v.Status[0].Anchor != node.ListAnchored || !v.Status[0].Valid || v.Status[0].Status != 0 {
			t.Fatalf("verdict before any change: %+v", v)
		}
	}
	first := e.get("/v1/status-lists/revocation-1")
	if first.status != http.StatusOK || first.header.Get("Content-Type") != StatusListMediaType {
		t.Fatalf("GET status list: %s", first)
	}

	// Revoke: acknowledged as pending, then published.
	r := e.changeStatus(a.Digest, "revoke", "issued in error")
	if r.status != http.StatusOK {
		t.Fatalf("revoke: %s", r)
	}
	ch := decode[StatusChangeResponse](t, r)
	if !ch.Pending || len(ch.Status) != 2 || !ch.Status[0].Set || ch.Status[0].Purpose != node.PurposeRevocation {
		t.Fatalf("revoke answer: %s", r.body)
	}
	e.waitStatus(a.Credential, "revoked")
	// The record stops saying pending once the node has recorded the
	// anchor, a moment after the chain holds it.
	deadline := time.Now().Add(time.Minute)
	for {
		rec := decode[node.Record](t, e.get("/v1/credentials/"+a.Digest.String()))
		if len(rec.Status) != 2 || !rec.Status[0].Set || rec.Status[1].Set {
			t.Fatalf("record after publication: %+v", rec.Status)
		}
		if !rec.Status[0].Pending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("record still pending: %+v", rec.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Every other verification path says so too.
	vr := e.vcapiVerify(a.Credential)
	if failed := checkNotVerified(t, vr); !slices.Equal(failed, []string{node.CheckStatus}) {
		t.Errorf("/credentials/verify of the revoked credential: failed %v", failed)
	}
	body, _ := json.Marshal(VCAPIStatusRequest{VerifiableCredential: a.Credential})
	sr := e.request(http.MethodPost, "/credentials/status", "application/json", body)
	st := decode[VCAPIStatusResponse](t, sr)
	if sr.status != http.StatusOK || len(st.Status) != 2 || st.Status[0].Status != 1 || !st.Status[0].Valid || st.Status[0].Purpose != node.PurposeRevocation || st.Check == nil || st.Check.OK {
		t.Errorf("/credentials/status: %s", sr)
	}
	vp, err := node.Present(node.PresentationRequest{Key: alice.key, Challenge: e.challenge(),
		Credentials: []node.PresentedCredential{{Data: a.Credential, Form: credential.FormJSON}}})
	if err != nil {
		t.Fatal(err)
	}
	pr, presp := e.verifyPresentation(vp, nil)
	if pr.status != http.StatusBadRequest || len(presp.Credentials) != 1 || !slices.ContainsFunc(presp.Credentials[0].Errors, func(p CheckProblem) bool { return p.Check == node.CheckStatus }) {
		t.Errorf("/presentations/verify of the revoked credential: %s", pr)
	}
	// Revoking again changes nothing; revocation cannot be undone.
	if r := e.changeStatus(a.Digest, "revoke", ""); r.status != http.StatusOK || decode[StatusChangeResponse](t, r).Pending {
		t.Errorf("revoke again: %s", r)
	}

	// Suspend, then lift it.
	if r := e.changeStatus(b.Digest, "suspend", "under review"); r.status != http.StatusOK {
		t.Fatalf("suspend: %s", r)
	}
	e.waitStatus(b.Credential, "suspended")
	if r := e.changeStatus(b.Digest, "unsuspend", "review passed"); r.status != http.StatusOK {
		t.Fatalf("unsuspend: %s", r)
	}
	e.waitStatus(b.Credential, "")
	// The VC-JWT was left alone throughout.
	e.waitStatus(c.Credential, "")

	// Refusals. A credential of another institution, which this node
	// anchored but did not issue, is not its to revoke.
	otherKey := newLearner(t, "other institution")
	otherID, err := node.NewDIDKeyIssuer(otherKey.key, "Other University")
	if err != nil {
		t.Fatal(err)
	}
	foreign := signAs(t, otherID, "foreign")
	if r := e.submit("application/json", foreign); r.status >= 300 {
		t.Fatalf("submit a foreign credential: %s", r)
	}
	other, err := credential.Digest(foreign, credential.FormJSON)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		resp   response
		status int
		ptype  string
	}{
		{"another institution's credential", e.changeStatus(other, "revoke", ""), http.StatusNotFound, "no-status"},
		{"no token", e.request(http.MethodPost, "/v1/credentials/"+a.Digest.String()+"/revoke", "", nil), http.StatusUnauthorized, "unauthorized"},
		{"bad digest", e.request(http.MethodPost, "/v1/credentials/0x12/suspend", "", nil, "Authorization", "Bearer "+issuerToken), http.StatusBadRequest, "invalid-hash"},
		{"reason too long", e.changeStatus(b.Digest, "suspend", strings.Repeat("x", 2000)), http.StatusBadRequest, "invalid-status-change"},
		{"body not JSON", e.request(http.MethodPost, "/v1/credentials/"+b.Digest.String()+"/suspend", "application/json", []byte("{"), "Authorization", "Bearer "+issuerToken), http.StatusBadRequest, "malformed-json"},
		{"unknown list", e.get("/v1/status-lists/revocation-99"), http.StatusNotFound, "not-found"},
		{"bad list id", e.get("/v1/status-lists/x"), http.StatusNotFound, "not-found"},
		{"version not a number", e.get("/v1/status-lists/revocation-1?version=x"), http.StatusBadRequest, "invalid-parameter"},
		{"version never made", e.get("/v1/status-lists/revocation-1?version=999"), http.StatusNotFound, "not-found"},
	} {
		checkProblem(t, tc.resp, tc.status, ProblemTypeBase+tc.ptype)
	}

	// A verifier given an older version of the list, or an altered one,
	// catches it against the chain.
	v1 := e.get("/v1/status-lists/revocation-1?version=1")
	if v1.status != http.StatusOK || v1.header.Get("X-Status-List-Version") != "1" {
		t.Fatalf("version 1: %s", v1)
	}
	latest := e.get("/v1/status-lists/revocation-1")
	var list map[string]any
	if err := json.Unmarshal(latest.body, &list); err != nil {
		t.Fatal(err)
	}
	list["credentialSubject"].(map[string]any)["ttl"] = 86400000
	altered, _ := json.Marshal(list)
	if err := json.Unmarshal(latest.body, &list); err != nil {
		t.Fatal(err)
	}
	delete(list, "proof")
	list["validFrom"] = time.Now().UTC().Format(time.RFC3339)
	unsigned, _ := json.Marshal(list)
	resigned, err := dataintegrity.SignJCS(unsigned, e.issuer.Key, dataintegrity.Options{VerificationMethod: e.issuer.VerificationMethod})
	if err != nil {
		t.Fatal(err)
	}
	rc := e.receiptOf(t, a.Credential, credential.FormJSON)
	for _, tc := range []struct {
		name string
		list []byte
		want string
	}{
		{"the latest", latest.body, "revoked"},
		{"an older version", v1.body, "stale or forged"},
		{"re-signed by the institution, never anchored", resigned, "stale or forged"},
		{"altered", altered, "fails its proof check"},
	} {
		// The suspension list comes from the node as it is.
		local := func(_ context.Context, url string) ([]byte, bool, error) {
			if strings.Contains(url, "/revocation-") {
				return tc.list, true, nil
			}
			return e.get(strings.TrimPrefix(url, e.srv.URL)).body, true, nil
		}
		sc, err := node.NewStatusChecker(node.StatusConfig{Local: local})
		if err != nil {
			t.Fatal(err)
		}
		v, err := node.VerifyWith(t.Context(), e.chain.Client(), e.reg, a.Credential, credential.FormJSON, rc, node.VerifyOptions{Keys: keysOf(t, e), Status: sc})
		if err != nil {
			t.Fatal(err)
		}
		var detail string
		for _, c := range v.Checks {
			if c.Check == node.CheckStatus && !c.OK {
				detail = c.Detail
			}
		}
		if v.Verified || !strings.Contains(detail, tc.want) {
			t.Errorf("%s: status %q, want %q", tc.name, detail, tc.want)
		}
	}
}

// keysOf is the test node's key finder (did:key only).
func keysOf(*testing.T, *env) *node.DIDKeys {
	return &node.DIDKeys{Resolver: did.NewMultiResolver(map[string]did.Resolver{"key": did.KeyResolver{}})}
}

// TestStatusListErrors: status lists the node does not keep, served from
// loopback, are read and checked for length and index range, with the
// specification's error codes, and reported not anchored.
func TestStatusListErrors(t *testing.T) {
	lists := map[string][]byte{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, ok := lists[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", StatusListMediaType)
		_, _ = w.Write(l)
	}))
	defer srv.Close()
	e := newEnv(t, envOptions{run: true, nodeConfig: func(c *node.Config) { c.Status.Fetch.AllowPrivate = true }})
	makeList := func(path string, bits uint64, set ...uint64) string {
		l := statuslist.New(bits)
		for _, i := range set {
			if err := l.Set(i, true); err != nil {
				t.Fatal(err)
			}
		}
		enc, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		url := srv.URL + path
		doc, _ := json.Marshal(map[string]any{
			"@context": []string{vc.ContextV2}, "id": url, "type": []string{"VerifiableCredential", "BitstringStatusListCredential"},
			"issuer": e.issuer.DID, "validFrom": "2026-01-01T00:00:00Z",
			"credentialSubject": map[string]any{"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": enc},
		})
		signed, err := dataintegrity.SignJCS(doc, e.issuer.Key, dataintegrity.Options{VerificationMethod: e.issuer.VerificationMethod})
		if err != nil {
			t.Fatal(err)
		}
		lists[path] = signed
		return url
	}
	full := makeList("/full", statuslist.DefaultMinBits, 7)
	short := makeList("/short", 1024)
	withStatus := func(tag, url string, index int) json.RawMessage {
		var obj map[string]any
		_ = json.Unmarshal(signAs(t, e.issuer, tag), &obj)
		delete(obj, "proof")
		obj["credentialStatus"] = map[string]any{"type": statuslist.EntryType, "statusPurpose": "revocation", "statusListIndex": fmt.Sprint(index), "statusListCredential": url}
		doc, _ := json.Marshal(obj)
		signed, err := dataintegrity.SignJCS(doc, e.issuer.Key, dataintegrity.Options{VerificationMethod: e.issuer.VerificationMethod})
		if err != nil {
			t.Fatal(err)
		}
		if r := e.submit("application/json", signed); r.status >= 300 {
			t.Fatalf("submit: %s", r)
		}
		d, _ := credential.Digest(signed, credential.FormJSON)
		e.waitAnchored(d)
		return signed
	}
	for _, tc := range []struct {
		name  string
		cred  json.RawMessage
		want  string
		valid bool
	}{
		{"in range, not revoked", withStatus("ok", full, 6), "", true},
		{"in range, revoked", withStatus("revoked", full, 7), "revoked", true},
		{"index out of range", withStatus("range", full, statuslist.DefaultMinBits), vc.CodeRange, false},
		{"short list", withStatus("short", short, 3), node.CodeStatusListLength, false},
		{"list not found", withStatus("missing", srv.URL+"/missing", 3), node.CodeStatusRetrieval, false},
	} {
		detail, failed, v := e.statusVerdict(tc.cred)
		if len(v.Status) != 1 || v.Status[0].Valid != tc.valid || tc.want == "" && len(failed) != 0 || tc.want != "" && (!strings.Contains(detail, tc.want) || !slices.Equal(failed, []string{node.CheckStatus})) {
			t.Errorf("%s: status %q, failed %v, results %+v; want %q", tc.name, detail, failed, v.Status, tc.want)
		}
		if tc.valid && v.Status[0].Anchor != node.ListNotAnchored {
			t.Errorf("%s: anchor %q, want %q", tc.name, v.Status[0].Anchor, node.ListNotAnchored)
		}
	}
}
