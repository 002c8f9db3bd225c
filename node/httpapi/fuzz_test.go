package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzVerifyRequest posts arbitrary bodies to the routes that parse client
// input (verification, submission, issuing, VC-API), through the real handler and a real node, and requires that none
// answers a 5xx: bad input is the client's problem, never a 500 or a panic.
func FuzzVerifyRequest(f *testing.F) {
	e := newEnv(f, envOptions{})
	cred := testCredential("fuzz")
	jwt := testJWT("fuzz")
	seeds := [][]byte{
		nil,
		[]byte(`{}`),
		[]byte(`null`),
		[]byte(`{"credential": ` + string(cred) + `}`),
		[]byte(`{"credential": "` + jwt + `"}`),
		[]byte(`{"credential": {"a": 1e400}}`),
		[]byte(`{"credential": {"a": "\ud800"}, "receipt": null}`),
		[]byte(`{"credential": {}, "receipt": {"type": "CredanchorReceipt", "version": 1, "path": ["0x00"]}}`),
		[]byte(`{"credential": {}, "receipt": {"type": "CredanchorReceipt", "version": 1, "leafIndex": 18446744073709551615, "treeSize": 0}}`),
		[]byte(`{"credential": [[[[[[[[[[]]]]]]]]]]}`),
		bytes.Repeat([]byte(`{"a":`), 2000),
		cred,
		[]byte(jwt),
		[]byte(`"` + jwt + `"` + "\n" + string(bytes.ReplaceAll(cred, []byte("\n"), nil))),
		unsignedCredential("fuzz"),
		[]byte(`{"credential": ` + string(unsignedCredential("fuzz")) + `, "options": {"format": "jwt"}}`),
		[]byte(`{"verifiableCredential": ` + string(cred) + `, "options": {"receipt": null}}`),
		[]byte(`{"verifiableCredential": {"type": "EnvelopedVerifiableCredential", "id": "data:application/vc+jwt,` + jwt + `"}}`),
		[]byte(`{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": {"id": 7}, "credentialSubject": {"id": "did:example:x"}}`),
	}
	for i, s := range seeds {
		f.Add(s, uint8(i))
	}
	types := []string{"application/json", "application/vc+ld+json", "application/vc+jwt", "application/x-ndjson", "text/plain", ""}
	h := e.api.Handler()
	f.Fuzz(func(t *testing.T, body []byte, sel uint8) {
		ct := types[int(sel)%len(types)]
		for _, target := range []struct{ path, ct string }{
			{"/v1/verify", "application/json"},
			{"/v1/credentials", ct},
			{"/v1/credentials/bulk", "application/x-ndjson"},
			{"/v1/issue", "application/json"},
			{"/v1/issue?format=jwt", "application/json"},
			{"/credentials/issue", "application/json"},
			{"/credentials/verify", "application/json"},
		} {
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, target.path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+issuerToken)
			if target.ct != "" {
				req.Header.Set("Content-Type", target.ct)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("POST %s (%s) %q: %d %s", target.path, target.ct, body, rec.Code, rec.Body)
			}
			if rec.Code >= 400 {
				var p Problem
				if rec.Header().Get("Content-Type") != ProblemContentType || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != rec.Code {
					t.Fatalf("POST %s: %d answered without a problem: %q", target.path, rec.Code, rec.Body)
				}
			}
		}
	})
}
