package httpapi

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/vc"
)

// foreignIssuer is a did:key institution that is no consortium member.
func foreignIssuer(t *testing.T) *node.IssuerIdentity {
	t.Helper()
	seed := sha256.Sum256([]byte("not a member"))
	id, err := node.NewDIDKeyIssuer(ed25519.NewKeyFromSeed(seed[:]), "Diploma Mill")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// signAs completes a credential with id's profile and signs it with
// eddsa-jcs-2022, outside any node.
func signAs(t *testing.T, id *node.IssuerIdentity, tag string) []byte {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(unsignedCredential(tag), &obj); err != nil {
		t.Fatal(err)
	}
	obj["issuer"] = map[string]any{"id": id.DID, "type": []string{"Profile"}, "name": id.Name}
	obj["id"] = "urn:uuid:" + tag
	obj["validFrom"] = "2026-01-15T00:00:00Z"
	doc, _ := json.Marshal(obj)
	signed, err := dataintegrity.SignJCS(doc, id.Key, dataintegrity.Options{VerificationMethod: id.VerificationMethod})
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// TestIssueFillsIn checks what the node adds to a credential it issues.
func TestIssueFillsIn(t *testing.T) {
	e := newEnv(t, envOptions{})
	before := time.Now().Add(-time.Second)
	iss := e.issued("?cryptosuite=eddsa-jcs-2022", unsignedCredential("fills-in"))
	c, err := vc.ParseCredential(iss.Credential)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := c.Issuer()
	if err != nil || issuer.ID != e.issuer.DID || issuer.Name() != "Example University" || !strings.HasPrefix(e.issuer.DID, "did:key:z6Mk") {
		t.Errorf("issuer: %+v, %v; want the profile of %s", issuer, err, e.issuer.DID)
	}
	if !strings.HasPrefix(c.ID(), "urn:uuid:") || len(c.ID()) != len("urn:uuid:")+36 {
		t.Errorf("id %q, want urn:uuid:…", c.ID())
	}
	if from, err := c.ValidFrom(); err != nil || from.Before(before.Truncate(time.Second)) || from.After(time.Now()) {
		t.Errorf("validFrom %v, %v; want now", from, err)
	}
	proofs := c.Proof()
	if len(proofs) != 1 || proofs[0]["cryptosuite"] != dataintegrity.CryptosuiteJCS || proofs[0]["verificationMethod"] != e.issuer.VerificationMethod {
		t.Errorf("proof: %v", proofs)
	}
	if got := jsonDigest(t, iss.Credential); got != iss.Digest {
		t.Errorf("digest %s, want %s", iss.Digest, got)
	}
	// The node recorded it.
	if r := e.get("/v1/credentials/" + iss.Digest.String()); r.status != http.StatusOK {
		t.Errorf("record of the issued credential: %s", r)
	}
	// An issuer given as this node's own DID is accepted.
	own := bytes.Replace(unsignedCredential("own-did"), []byte(`"type": ["VerifiableCredential"`),
		[]byte(`"issuer": "`+e.issuer.DID+`", "type": ["VerifiableCredential"`), 1)
	e.issued("", own)
}

// TestIssueRefusals checks the 4xx answers of POST /v1/issue.
func TestIssueRefusals(t *testing.T) {
	e := newEnv(t, envOptions{})
	otherIssuer := bytes.Replace(unsignedCredential("x"), []byte(`"type": ["VerifiableCredential"`),
		[]byte(`"issuer": {"id": "did:web:other.example", "type": ["Profile"], "name": "Other"}, "type": ["VerifiableCredential"`), 1)
	noSubject := []byte(`{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}`)
	noBadge := bytes.Replace(unsignedCredential("y"), []byte(`"description": "Distributed systems.", `), nil, 1)
	// eddsa-rdfc-2022 needs every context pinned: one that is not is never
	// fetched, and the credential is refused.
	unpinned := bytes.Replace(unsignedCredential("u"), []byte(`"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]`),
		[]byte(`"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json", "https://uni.example/contexts/private.jsonld"]`), 1)
	for _, tc := range []struct {
		name, query string
		body        []byte
		status      int
		ptype       string
		vcError     string
		detail      string
	}{
		{"another issuer", "", otherIssuer, 400, "issuer-mismatch", vc.CodeMalformedValue, "did:web:other.example"},
		{"no subject", "", noSubject, 400, "invalid-credential", vc.CodeMalformedValue, "credentialSubject"},
		{"open badge without description", "", noBadge, 400, "invalid-credential", vc.CodeMalformedValue, "description"},
		{"not json", "", []byte(`{"a":`), 400, "invalid-credential", vc.CodeParsing, ""},
		{"unknown format", "?format=cbor", unsignedCredential("z"), 400, "invalid-parameter", "", "supported now"},
		{"unknown cryptosuite", "?cryptosuite=ecdsa-rdfc-2019", unsignedCredential("z"), 400, "invalid-parameter", "", "eddsa-rdfc-2022"},
		{"rdfc with an unpinned context", "?cryptosuite=eddsa-rdfc-2022", unpinned, 400, "invalid-credential", vc.CodeMalformedValue, "private.jsonld"},
		{"jwt with a cryptosuite", "?format=jwt&cryptosuite=eddsa-jcs-2022", unsignedCredential("z"), 400, "invalid-parameter", "", "does not apply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := checkProblem(t, e.issue(tc.query, tc.body), tc.status, ProblemTypeBase+tc.ptype)
			if p.VCError != tc.vcError || !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("problem %+v: want vcError %q and %q in the detail", p, tc.vcError, tc.detail)
			}
		})
	}
	t.Run("no token", func(t *testing.T) {
		r := e.request(http.MethodPost, "/v1/issue", "application/json", unsignedCredential("t"))
		checkProblem(t, r, http.StatusUnauthorized, ProblemTypeBase+"unauthorized")
	})
	t.Run("no issuer identity", func(t *testing.T) {
		e := newEnv(t, envOptions{nodeConfig: func(c *node.Config) { c.Issuer = nil }})
		checkProblem(t, e.issue("", unsignedCredential("t")), http.StatusConflict, ProblemTypeBase+"no-issuer-identity")
	})
	if n := e.node.PendingCount(); n != 0 {
		t.Errorf("refused credentials were queued: %d pending", n)
	}
}

// TestIssueJWTVerify issues a VC-JWT, waits for its anchor and verifies it
// through /v1/verify and, enveloped, through VC-API.
func TestIssueJWTVerify(t *testing.T) {
	e := newEnv(t, envOptions{run: true})
	iss := e.issued("?format=jwt", unsignedCredential("jwt"))
	var tok string
	if err := json.Unmarshal(iss.Credential, &tok); err != nil || strings.Count(tok, ".") != 2 {
		t.Fatalf("credential %s is not a compact JWS: %v", iss.Credential, err)
	}
	if want := merkle.Hash(sha256.Sum256([]byte(tok))); iss.Digest != want {
		t.Errorf("digest %s, want SHA-256 of the token %s", iss.Digest, want)
	}
	e.waitAnchored(iss.Digest)
	v := e.verifyBody(iss.Credential, nil)
	if !v.Verified || len(v.Checks) != 8 {
		t.Fatalf("verify VC-JWT: %+v", v)
	}
	env, _ := json.Marshal(map[string]any{"verifiableCredential": map[string]any{
		"@context": vc.ContextV2, "type": "EnvelopedVerifiableCredential", "id": "data:application/vc+jwt," + tok,
	}})
	r := e.request(http.MethodPost, "/credentials/verify", "application/json", env)
	if got := decode[VCAPIVerifyResponse](t, r); r.status != http.StatusOK || !got.Verified || len(got.Checks) != 8 {
		t.Errorf("VC-API verify of the enveloped VC-JWT: %s", r)
	}
}

// TestVerifyNotTheMembersCredential: a credential properly signed by a
// did:key that is not the member, and anchored by the member's node, is
// not the member's credential.
func TestVerifyNotTheMembersCredential(t *testing.T) {
	e := newEnv(t, envOptions{run: true})
	cred := signAs(t, foreignIssuer(t), "foreign")
	r := e.submit("application/json", cred)
	if r.status != http.StatusAccepted {
		t.Fatalf("submit: %s", r)
	}
	e.waitAnchored(jsonDigest(t, cred))
	v := e.verifyBody(cred, nil)
	if got := failedChecks(v); v.Verified || !slices.Equal(got, []string{node.CheckMemberAtAnchor}) {
		t.Fatalf("failed checks %q, want only member-at-anchor: %+v", got, v.Checks)
	}
	if d := v.Checks[len(v.Checks)-1].Detail; !strings.Contains(d, "signed by "+foreignIssuer(t).DID) {
		t.Errorf("detail %q does not name the signer", d)
	}
}

// TestVerifyCredentialChecks checks the credential's own checks without an
// anchor: a proof of a cryptosuite not supported yet, an expired
// credential, an issuer that is not the signer, an unsigned credential.
func TestVerifyCredentialChecks(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.issuer
	rdfc := bytes.Replace(signAs(t, id, "rdfc"), []byte(dataintegrity.CryptosuiteJCS), []byte("ecdsa-rdfc-2019"), 1)

	var obj map[string]any
	_ = json.Unmarshal(unsignedCredential("expired"), &obj)
	obj["issuer"] = id.DID
	obj["validFrom"], obj["validUntil"] = "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"
	doc, _ := json.Marshal(obj)
	expired, err := dataintegrity.SignJCS(doc, id.Key, dataintegrity.Options{VerificationMethod: id.VerificationMethod})
	if err != nil {
		t.Fatal(err)
	}
	// Claims to be the member, signed by someone else's key.
	foreign := foreignIssuer(t)
	obj["issuer"], obj["validUntil"] = id.DID, "2099-01-01T00:00:00Z"
	doc, _ = json.Marshal(obj)
	impostor, err := dataintegrity.SignJCS(doc, foreign.Key, dataintegrity.Options{VerificationMethod: foreign.VerificationMethod})
	if err != nil {
		t.Fatal(err)
	}
	// A did:key method listed under the DID but used with the wrong purpose.
	authn, err := dataintegrity.SignJCS(doc, id.Key, dataintegrity.Options{VerificationMethod: id.VerificationMethod, Purpose: "authentication"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		cred   []byte
		failed []string
		check  string
		detail string
	}{
		{"cryptosuite not supported yet", rdfc, []string{node.CheckProof, node.CheckIssuer}, node.CheckProof, "ecdsa-rdfc-2019 is not supported yet"},
		{"expired", expired, []string{node.CheckValidity}, node.CheckValidity, vc.CodeRange},
		{"impostor", impostor, []string{node.CheckIssuer}, node.CheckIssuer, "not a key of the issuer"},
		{"wrong purpose", authn, []string{node.CheckProof, node.CheckIssuer}, node.CheckProof, "purpose"},
		{"unsigned", testCredentialNoProof(t), []string{node.CheckProof, node.CheckIssuer}, node.CheckProof, "no proof"},
		{"fake proof", testCredential("fake"), []string{node.CheckProof, node.CheckIssuer}, node.CheckProof, "unsupported DID method"},
		{"bad structure", []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:web:uni.example","credentialSubject":{}}`),
			[]string{node.CheckStructure, node.CheckProof, node.CheckIssuer}, node.CheckStructure, vc.CodeMalformedValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := e.verifyBody(tc.cred, nil)
			want := append(slices.Clone(tc.failed), node.CheckInclusion)
			if got := failedChecks(v); v.Verified || !slices.Equal(got, want) {
				t.Fatalf("failed checks %q, want %q: %+v", got, want, v.Checks)
			}
			for _, c := range v.Checks {
				if c.Check == tc.check && !strings.Contains(c.Detail, tc.detail) {
					t.Errorf("%s detail %q lacks %q", c.Check, c.Detail, tc.detail)
				}
			}
		})
	}
}

// testCredentialNoProof is testCredential without its proof.
func testCredentialNoProof(t *testing.T) []byte {
	var obj map[string]any
	if err := json.Unmarshal(testCredential("no-proof"), &obj); err != nil {
		t.Fatal(err)
	}
	delete(obj, "proof")
	b, _ := json.Marshal(obj)
	return b
}

// TestVCAPI issues through /credentials/issue and verifies through
// /credentials/verify: 200 once anchored, a 400 problem for a tampered copy.
func TestVCAPI(t *testing.T) {
	e := newEnv(t, envOptions{run: true})
	req, _ := json.Marshal(map[string]any{"credential": json.RawMessage(unsignedCredential("vc-api")), "options": map[string]string{}})
	r := e.request(http.MethodPost, "/credentials/issue", "application/json", req, "Authorization", "Bearer "+issuerToken)
	if r.status != http.StatusCreated {
		t.Fatalf("issue: %s", r)
	}
	cred := decode[VCAPIIssueResponse](t, r).VerifiableCredential
	e.waitAnchored(jsonDigest(t, cred))

	body, _ := json.Marshal(map[string]any{"verifiableCredential": cred, "options": map[string]any{}})
	r = e.request(http.MethodPost, "/credentials/verify", "application/json", body)
	got := decode[VCAPIVerifyResponse](t, r)
	if r.status != http.StatusOK || !got.Verified || len(got.Checks) != 8 || len(got.Errors) != 0 || got.Warnings == nil {
		t.Fatalf("verify: %s", r)
	}

	tampered := bytes.Replace(cred, []byte("DS 101"), []byte("DS 102"), 1)
	body, _ = json.Marshal(map[string]any{"verifiableCredential": json.RawMessage(tampered)})
	r = e.request(http.MethodPost, "/credentials/verify", "application/json", body)
	p := checkProblem(t, r, http.StatusBadRequest, ProblemTypeBase+"not-verified")
	bad := decode[VCAPIVerifyResponse](t, r)
	var names []string
	for _, e := range bad.Errors {
		names = append(names, e.Check)
	}
	if bad.Verified || !slices.Equal(names, []string{node.CheckProof, node.CheckIssuer, node.CheckInclusion}) || p.VCError != vc.CodeCryptographicSecurity {
		t.Errorf("tampered: %s", r)
	}

	// A VC-JWT through VC-API comes back enveloped.
	req, _ = json.Marshal(map[string]any{"credential": json.RawMessage(unsignedCredential("vc-api-jwt")), "options": map[string]string{"format": "jwt"}})
	r = e.request(http.MethodPost, "/credentials/issue", "application/json", req, "Authorization", "Bearer "+issuerToken)
	var env struct{ ID, Type string }
	if r.status != http.StatusCreated || json.Unmarshal(decode[VCAPIIssueResponse](t, r).VerifiableCredential, &env) != nil ||
		env.Type != "EnvelopedVerifiableCredential" || !strings.HasPrefix(env.ID, "data:application/vc+jwt,ey") {
		t.Errorf("issue VC-JWT: %s", r)
	}
	for _, tc := range []struct {
		path, body string
		status     int
		auth       bool
	}{
		{"/credentials/issue", `{"credential": {}, "options": {"created": "now"}}`, 400, true},
		{"/credentials/issue", `{"credential": "x"}`, 400, true},
		{"/credentials/issue", `{"credential": {}}`, 401, false},
		{"/credentials/verify", `{"verifiableCredential": {"type": "EnvelopedVerifiableCredential", "id": "https://x"}}`, 400, false},
		{"/credentials/verify", `{"credential": {}}`, 400, false},
	} {
		var hdr []string
		if tc.auth {
			hdr = []string{"Authorization", "Bearer " + issuerToken}
		}
		r := e.request(http.MethodPost, tc.path, "application/json", []byte(tc.body), hdr...)
		checkProblem(t, r, tc.status, "")
	}
}

// TestRequireSignedSubmissions: with the option on, only credentials signed
// by the node's institution are accepted, singly and in bulk, and the 422
// names the failed check.
func TestRequireSignedSubmissions(t *testing.T) {
	e := newEnv(t, envOptions{nodeConfig: func(c *node.Config) { c.RequireSignedSubmissions = true }})
	own := signAs(t, e.issuer, "own")
	if r := e.submit("application/json", own); r.status != http.StatusAccepted {
		t.Fatalf("own credential: %s", r)
	}
	for name, tc := range map[string]struct {
		cred        []byte
		code, check string
	}{
		"unsigned":  {testCredentialNoProof(t), vc.CodeCryptographicSecurity, "proof check failed: no proof"},
		"foreign":   {signAs(t, foreignIssuer(t), "foreign"), vc.CodeCryptographicSecurity, "issuer check failed: signed by " + foreignIssuer(t).DID},
		"fake":      {testCredential("fake"), vc.CodeCryptographicSecurity, "proof check failed"},
		"malformed": {[]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"]}`), vc.CodeMalformedValue, "structure check failed"},
	} {
		p := checkProblem(t, e.submit("application/json", tc.cred), http.StatusUnprocessableEntity, ProblemTypeBase+"not-own-credential")
		if p.VCError != tc.code || !strings.Contains(p.Detail, tc.check) {
			t.Errorf("%s: %+v; want %s and %q", name, p, tc.code, tc.check)
		}
	}
	var body bytes.Buffer
	for _, c := range [][]byte{signAs(t, e.issuer, "bulk"), testCredentialNoProof(t)} {
		_ = json.Compact(&body, c)
		body.WriteByte('\n')
	}
	r := e.request(http.MethodPost, "/v1/credentials/bulk", "application/x-ndjson", body.Bytes(), "Authorization", "Bearer "+issuerToken)
	if got := decode[BulkResponse](t, r); r.status != http.StatusOK || got.Created != 1 || got.Failed != 1 {
		t.Errorf("bulk: %s", r)
	}
	if n := e.node.PendingCount(); n != 2 {
		t.Errorf("%d pending, want the 2 own credentials", n)
	}
	// Off (the default, as in every other test here), an unsigned
	// credential is anchored as before: TestSubmitJWT, TestBulk.
}

// TestIssueRDFC issues with eddsa-rdfc-2022, waits for the anchor and
// verifies the credential through /v1/verify.
func TestIssueRDFC(t *testing.T) {
	e := newEnv(t, envOptions{run: true})
	iss := e.issued("?cryptosuite=eddsa-rdfc-2022", unsignedCredential("rdfc"))
	c, err := vc.ParseCredential(iss.Credential)
	if err != nil {
		t.Fatal(err)
	}
	if proofs := c.Proof(); len(proofs) != 1 || proofs[0]["cryptosuite"] != dataintegrity.CryptosuiteRDFC {
		t.Fatalf("proof: %v", proofs)
	}
	e.waitAnchored(iss.Digest)
	v := e.verifyBody(iss.Credential, nil)
	if !v.Verified {
		t.Fatalf("an eddsa-rdfc-2022 credential issued by the node does not verify: %+v", v.Checks)
	}
}
