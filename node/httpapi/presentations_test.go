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

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/dataintegrity"
)

// learner is a holder with a did:key.
type learner struct {
	key ed25519.PrivateKey
	did string
	vm  string
}

func newLearner(t *testing.T, name string) learner {
	t.Helper()
	seed := sha256.Sum256([]byte("learner " + name))
	key := ed25519.NewKeyFromSeed(seed[:])
	id, err := node.NewDIDKeyIssuer(key, "")
	if err != nil {
		t.Fatal(err)
	}
	return learner{key: key, did: id.DID, vm: id.VerificationMethod}
}

// credentialFor is an unsigned Open Badges credential about subject.
func credentialFor(tag, subject string) []byte {
	return bytes.Replace(unsignedCredential(tag), []byte("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"), []byte(subject), 1)
}

// challenge asks the node for a presentation challenge.
func (e *env) challenge() string {
	e.tb.Helper()
	r := e.request(http.MethodPost, "/challenges", "", nil)
	if r.status != http.StatusCreated {
		e.tb.Fatalf("POST /challenges: %s", r)
	}
	c := decode[ChallengeResponse](e.tb, r)
	if c.Challenge == "" || time.Until(c.Expires) < time.Minute {
		e.tb.Fatalf("POST /challenges: %+v", c)
	}
	return c.Challenge
}

// receiptOf fetches the node's receipt of an anchored credential.
func (e *env) receiptOf(t *testing.T, data []byte, form credential.Form) *anchor.Receipt {
	t.Helper()
	d, err := credential.Digest(data, form)
	if err != nil {
		t.Fatal(err)
	}
	r := e.get("/v1/credentials/" + merkle.Hash(d).String() + "/receipt")
	if r.status != http.StatusOK {
		t.Fatalf("receipt: %s", r)
	}
	rc, err := anchor.ParseReceipt(r.body)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func (e *env) verifyPresentation(vp []byte, opts *VCAPIPresentationOptions) (response, VCAPIPresentationResponse) {
	e.tb.Helper()
	body, _ := json.Marshal(VCAPIPresentationRequest{VerifiablePresentation: vp, Options: opts})
	r := e.request(http.MethodPost, "/presentations/verify", "application/json", body)
	var resp VCAPIPresentationResponse
	if r.status == http.StatusOK || r.status == http.StatusBadRequest {
		resp = decode[VCAPIPresentationResponse](e.tb, r)
	}
	return r, resp
}

// TestPresentations drives POST /challenges and POST /presentations/verify:
// a learner's presentation verifies once, and each way it can be wrong is
// refused with the check that catches it named.
func TestPresentations(t *testing.T) {
	e := newEnv(t, envOptions{run: true})
	alice, bob := newLearner(t, "alice"), newLearner(t, "bob")

	// Credentials issued through the node, and one signed by the
	// institution that expired, submitted as its own.
	aliceDI := e.issued("", credentialFor("alice", alice.did))
	aliceJWT := e.issued("?format=jwt", credentialFor("alice-jwt", alice.did))
	bobDI := e.issued("", credentialFor("bob", bob.did))
	var obj map[string]any
	if err := json.Unmarshal(credentialFor("alice-expired", alice.did), &obj); err != nil {
		t.Fatal(err)
	}
	obj["issuer"] = map[string]any{"id": e.issuer.DID, "type": []string{"Profile"}, "name": e.issuer.Name}
	obj["validFrom"], obj["validUntil"] = "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"
	doc, _ := json.Marshal(obj)
	expired, err := dataintegrity.SignJCS(doc, e.issuer.Key, dataintegrity.Options{VerificationMethod: e.issuer.VerificationMethod})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.submit("application/json", expired); r.status != http.StatusAccepted && r.status != http.StatusCreated {
		t.Fatalf("submit expired: %s", r)
	}
	var jwt string
	if err := json.Unmarshal(aliceJWT.Credential, &jwt); err != nil {
		t.Fatal(err)
	}
	for _, d := range []anchorable{{aliceDI.Credential, credential.FormJSON}, {[]byte(jwt), credential.FormJWT}, {bobDI.Credential, credential.FormJSON}, {expired, credential.FormJSON}} {
		dg, _ := credential.Digest(d.data, d.form)
		e.waitAnchored(dg)
	}
	with := func(data []byte, form credential.Form) node.PresentedCredential {
		return node.PresentedCredential{Data: data, Form: form, Receipt: e.receiptOf(t, data, form)}
	}
	present := func(l learner, challenge, domain, suite string, creds ...node.PresentedCredential) []byte {
		t.Helper()
		vp, err := node.Present(node.PresentationRequest{Key: l.key, Credentials: creds, Challenge: challenge, Domain: domain, Cryptosuite: suite})
		if err != nil {
			t.Fatal(err)
		}
		return vp
	}
	tampered := bytes.Replace(aliceDI.Credential, []byte("Distributed Systems micro-credential alice"), []byte("Distributed Systems micro-credential alice (honours)"), 1)
	if bytes.Equal(tampered, aliceDI.Credential) {
		t.Fatal("tampering changed nothing")
	}
	// A presentation naming alice as holder, signed by bob's key.
	var wrongHolder []byte
	{
		unsigned := present(alice, "c", "", "", with(aliceDI.Credential, credential.FormJSON))
		var m map[string]any
		_ = json.Unmarshal(unsigned, &m)
		delete(m, "proof")
		doc, _ := json.Marshal(m)
		wrongHolder, err = dataintegrity.SignJCS(doc, bob.key, dataintegrity.Options{VerificationMethod: bob.vm, Purpose: "authentication", Challenge: e.challenge()})
		if err != nil {
			t.Fatal(err)
		}
	}
	replayed := present(alice, e.challenge(), "", "", with(aliceDI.Credential, credential.FormJSON))

	type want struct {
		status int
		// failed is the failed check: a presentation check, or
		// "credential N check".
		failed string
		// detail is a fragment of the failed check's detail.
		detail string
	}
	for _, tc := range []struct {
		name string
		vp   []byte
		opts *VCAPIPresentationOptions
		want want
	}{
		{"verified", replayed, nil, want{status: http.StatusOK}},
		{"replayed challenge", replayed, nil, want{http.StatusBadRequest, node.CheckChallenge, "already used"}},
		{"rdfc, jwt and two credentials", present(alice, e.challenge(), "", dataintegrity.CryptosuiteRDFC, with(aliceDI.Credential, credential.FormJSON), with([]byte(jwt), credential.FormJWT)), nil, want{status: http.StatusOK}},
		{"challenge the node never issued", present(alice, "made-up", "", "", with(aliceDI.Credential, credential.FormJSON)), nil, want{http.StatusBadRequest, node.CheckChallenge, "not issued by this node"}},
		{"verifier's own challenge and domain", present(alice, "verifier-7", "hr.example", "", with(aliceDI.Credential, credential.FormJSON)), &VCAPIPresentationOptions{Challenge: "verifier-7", Domain: "hr.example"}, want{status: http.StatusOK}},
		{"verifier's challenge replayed", present(alice, "verifier-7", "hr.example", "", with(aliceDI.Credential, credential.FormJSON)), &VCAPIPresentationOptions{Challenge: "verifier-7", Domain: "hr.example"}, want{http.StatusBadRequest, node.CheckChallenge, "already used"}},
		{"another challenge", present(alice, e.challenge(), "", "", with(aliceDI.Credential, credential.FormJSON)), &VCAPIPresentationOptions{Challenge: "verifier-8"}, want{http.StatusBadRequest, node.CheckChallenge, "not the verifier's"}},
		{"wrong domain", present(alice, "verifier-9", "evil.example", "", with(aliceDI.Credential, credential.FormJSON)), &VCAPIPresentationOptions{Challenge: "verifier-9", Domain: "hr.example"}, want{http.StatusBadRequest, node.CheckChallenge, "domain"}},
		{"wrong holder", wrongHolder, nil, want{http.StatusBadRequest, node.CheckHolderProof, "not a key of the holder"}},
		{"tampered credential", present(alice, e.challenge(), "", "", node.PresentedCredential{Data: tampered, Form: credential.FormJSON, Receipt: with(aliceDI.Credential, credential.FormJSON).Receipt}), nil, want{http.StatusBadRequest, "credential 0 " + node.CheckProof, ""}},
		{"credential of another subject", present(alice, e.challenge(), "", "", with(bobDI.Credential, credential.FormJSON)), nil, want{http.StatusBadRequest, node.CheckHolderIsSubject, bob.did}},
		{"expired credential", present(alice, e.challenge(), "", "", with(expired, credential.FormJSON)), nil, want{http.StatusBadRequest, "credential 0 " + node.CheckValidity, "RANGE_ERROR"}},
		{"no receipt, the node's own record", present(alice, e.challenge(), "", "", node.PresentedCredential{Data: aliceDI.Credential, Form: credential.FormJSON}), nil, want{status: http.StatusOK}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, resp := e.verifyPresentation(tc.vp, tc.opts)
			if r.status != tc.want.status {
				t.Fatalf("got %s, want %d", r, tc.want.status)
			}
			if tc.want.status == http.StatusOK {
				if !resp.Verified || len(resp.Errors) != 0 || len(resp.Checks) != 4 || resp.Holder != alice.did || len(resp.Credentials) == 0 {
					t.Fatalf("verdict %s", r.body)
				}
				for i, c := range resp.Credentials {
					if !c.Verified || len(c.Checks) != 8 || c.Anchor == nil || c.Anchor.Member != e.member {
						t.Errorf("credential %d: %+v", i, c)
					}
				}
				return
			}
			if ct := r.header.Get("Content-Type"); ct != ProblemContentType {
				t.Errorf("Content-Type %q", ct)
			}
			var failed []string
			found := false
			for _, p := range resp.Errors {
				name := p.Check
				if which, _, ok := strings.Cut(p.Detail, ": "); ok && strings.HasPrefix(which, "credential ") {
					name = which + " " + p.Check
				}
				failed = append(failed, name)
				if name == tc.want.failed && strings.Contains(p.Detail, tc.want.detail) {
					found = true
				}
			}
			if resp.Verified || !found {
				t.Fatalf("failed checks %v, want %s with %q: %s", failed, tc.want.failed, tc.want.detail, r.body)
			}
			// Only what is wrong fails, except where a failure leaves later
			// checks unmade (a holder proof, a credential's proof).
			if tc.want.failed != node.CheckHolderProof && !strings.HasSuffix(tc.want.failed, node.CheckProof) && len(failed) != 1 {
				t.Errorf("failed checks %v, want only %s", failed, tc.want.failed)
			}
		})
	}

	// Malformed requests are problems, never 500s.
	for _, tc := range []struct {
		name string
		body string
		slug string
	}{
		{"not JSON", `{`, "malformed-json"},
		{"presentation a string", `{"verifiablePresentation":"x"}`, "malformed-presentation"},
		{"unknown member", `{"verifiablePresentation":{},"extra":1}`, "malformed-json"},
	} {
		r := e.request(http.MethodPost, "/presentations/verify", "application/json", []byte(tc.body))
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), ProblemTypeBase+tc.slug) {
			t.Errorf("%s: got %s, want 400 %s", tc.name, r, tc.slug)
		}
	}
	r, resp := e.verifyPresentation([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiablePresentation"]}`), nil)
	if r.status != http.StatusBadRequest || resp.Verified || !slices.ContainsFunc(resp.Errors, func(p CheckProblem) bool { return p.Check == node.CheckHolderIsSubject }) {
		t.Errorf("empty presentation: %s", r)
	}
}

type anchorable struct {
	data []byte
	form credential.Form
}
