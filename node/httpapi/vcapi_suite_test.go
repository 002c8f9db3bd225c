package httpapi

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/vc"
)

// suiteInputDir holds the inputs of w3c/vc-data-model-2.0-test-suite, the
// same files as fixtures/w3c-vc-data-model-2.0-test-suite/tests/input (see
// ../vc/testdata/vcdm2/README.md).
const suiteInputDir = "../vc/testdata/vcdm2/input"

// suiteDeviations are the suite's credential inputs this node answers
// otherwise than the suite expects, with the reason. Their subtests check
// that the answer is still a 4xx problem, then skip.
var suiteDeviations = map[string]string{
	// The suite issues it "to test proof", noting that this "requires the
	// issuer to allow the input credential to have an existing proof
	// property"; the node signs only credentials without a proof.
	"credential-proof-ok.json": "the node refuses to issue a credential that already has a proof (an unverifiable Ed25519Signature2020 here)",
}

// suiteInput is one credential input of the suite.
type suiteInput struct {
	name   string // the path under suiteInputDir
	data   []byte
	wantOK bool
}

// suiteCredentials reads the suite's credential inputs; the expectation is
// in the name: -ok must be issued and verify, -fail and -fail-or-inject (the
// node never injects a missing context) must be refused by both endpoints.
// Presentations come back apart: -ok ones are well formed, every other one
// (-fail, and the self-asserted ones the suite names without a suffix) is
// not.
func suiteCredentials(t *testing.T, now time.Time) (inputs, presentations []suiteInput) {
	t.Helper()
	err := filepath.WalkDir(suiteInputDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		rel, err := filepath.Rel(suiteInputDir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		in := suiteInput{name: rel, wantOK: strings.HasSuffix(rel, "-ok.json")}
		if in.data, err = os.ReadFile(path); err != nil {
			return err
		}
		in.data = suiteDates(in.data, now)
		if strings.HasPrefix(d.Name(), "presentation-") {
			presentations = append(presentations, in)
			return nil
		}
		if !in.wantOK && !strings.HasSuffix(rel, "-fail.json") && !strings.HasSuffix(rel, "-fail-or-inject.json") {
			t.Errorf("%s: no expectation in the name", rel)
			return nil
		}
		inputs = append(inputs, in)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatalf("no suite inputs in %s", suiteInputDir)
	}
	return inputs, presentations
}

// suiteDates fills the placeholders as the suite's testTemporality does:
// PAST DATE is a year ago, FUTURE DATE a year ahead.
func suiteDates(data []byte, now time.Time) []byte {
	stamp := func(years int) []byte { return []byte(now.UTC().AddDate(years, 0, 0).Format(time.RFC3339)) }
	data = bytes.ReplaceAll(data, []byte("PAST DATE"), stamp(-1))
	return bytes.ReplaceAll(data, []byte("FUTURE DATE"), stamp(1))
}

// validNow says whether the credential's validity period holds now: the
// suite issues some -ok credentials that expired years ago or become valid
// in 4023, which a verifier must then refuse for their validity alone.
func validNow(t *testing.T, cred []byte, now time.Time) bool {
	t.Helper()
	c, err := vc.ParseCredential(cred)
	if err != nil {
		t.Fatalf("issued credential: %v", err)
	}
	from, err := c.ValidFrom()
	if err == nil && now.Before(from) {
		return false
	}
	until, err := c.ValidUntil()
	return err != nil || !now.After(until)
}

// signAsHarness completes a -fail input as the suite's createRequestBody
// does, with the issuer's DID where the issuer or its id is absent, and signs
// it with the member's key, so that only its content can make it fail.
// Unlike createRequestBody it keeps a null or empty issuer id: replacing it
// would erase what makes the input fail.
func signAsHarness(t *testing.T, id *node.IssuerIdentity, data []byte) []byte {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		t.Fatal(err)
	}
	switch iss := obj["issuer"].(type) {
	case map[string]any:
		if _, ok := iss["id"]; !ok {
			iss["id"] = id.DID
		}
	case nil:
		if _, ok := obj["issuer"]; !ok {
			obj["issuer"] = id.DID
		}
	}
	doc, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := dataintegrity.SignJCS(doc, id.Key, dataintegrity.Options{VerificationMethod: id.VerificationMethod})
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return signed
}

// harnessPresentation signs the credentials of a presentation as the suite's
// harness issues them before presenting them: all but those of the
// self-asserted inputs, which test credentials that only the presentation
// secures.
func harnessPresentation(t *testing.T, id *node.IssuerIdentity, in suiteInput) []byte {
	t.Helper()
	if strings.Contains(in.name, "self-asserted") {
		return in.data
	}
	var vp map[string]any
	if err := json.Unmarshal(in.data, &vp); err != nil {
		t.Fatal(err)
	}
	sign := func(v any) any {
		m, ok := v.(map[string]any)
		if _, signed := m["proof"]; !ok || signed || slices.Contains(anyStrings(m["type"]), vc.TypeEnvelopedVerifiableCredential) {
			return v
		}
		doc, _ := json.Marshal(m)
		return json.RawMessage(signAsHarness(t, id, doc))
	}
	switch creds := vp["verifiableCredential"].(type) {
	case []any:
		for i := range creds {
			creds[i] = sign(creds[i])
		}
	case map[string]any:
		vp["verifiableCredential"] = sign(creds)
	}
	out, err := json.Marshal(vp)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func anyStrings(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// vcapiVerify posts a credential to /credentials/verify with the options
// the suite's createVerifyRequestBody sends.
func (e *env) vcapiVerify(cred []byte) response {
	e.tb.Helper()
	body, err := json.Marshal(map[string]any{"verifiableCredential": json.RawMessage(cred), "options": map[string]any{"checks": []string{"proof"}}})
	if err != nil {
		e.tb.Fatal(err)
	}
	return e.request(http.MethodPost, "/credentials/verify", "application/json", body)
}

// checkNotVerified checks a 400 not-verified answer of /credentials/verify
// and returns the names of the failed checks.
func checkNotVerified(t *testing.T, r response) []string {
	t.Helper()
	p := checkProblem(t, r, http.StatusBadRequest, ProblemTypeBase+"not-verified")
	v := decode[VCAPIVerifyResponse](t, r)
	if v.Verified || len(v.Errors) == 0 || p.Detail == "" {
		t.Fatalf("want verified false with errors: %s", r)
	}
	var failed []string
	for _, e := range v.Errors {
		if e.Check == "" || e.Detail == "" {
			t.Errorf("error without a check or a detail: %+v", e)
		}
		failed = append(failed, e.Check)
	}
	return failed
}

// TestVCAPISuite drives the VC Data Model 2.0 test suite's credential
// inputs through the real VC-API of a running node, as the suite does: a
// -ok input is issued (201) and, once anchored, verifies; a -fail input is
// refused by /credentials/issue with a 4xx problem naming the problem, and
// by /credentials/verify with verified false, both as it is (unsigned) and
// signed by the member, for its content.
func TestVCAPISuite(t *testing.T) {
	e := newEnv(t, envOptions{run: true})
	now := time.Now()
	inputs, presentations := suiteCredentials(t, now)
	// The suite's presentations are unsigned, so none verifies; what the
	// node must get right is whether each is well formed.
	for _, in := range presentations {
		t.Run("presentation/"+in.name, func(t *testing.T) {
			r, resp := e.verifyPresentation(harnessPresentation(t, e.issuer, in), nil)
			checkProblem(t, r, http.StatusBadRequest, ProblemTypeBase+"presentation-not-verified")
			wellFormed := slices.Contains(resp.Checks, node.CheckPresentation)
			if wellFormed != in.wantOK || resp.Verified || !slices.ContainsFunc(resp.Errors, func(p CheckProblem) bool { return p.Check == node.CheckHolderProof }) {
				t.Fatalf("well formed %v, want %v: %s", wellFormed, in.wantOK, r)
			}
		})
	}

	type issued struct {
		name   string
		cred   json.RawMessage
		digest merkle.Hash
	}
	var (
		toVerify               []issued
		okIssued, okTotal      int
		failRefused, failTotal int
	)
	for _, in := range inputs {
		t.Run("issue/"+in.name, func(t *testing.T) {
			req, _ := json.Marshal(map[string]any{"credential": json.RawMessage(in.data), "options": map[string]any{}})
			r := e.request(http.MethodPost, "/credentials/issue", "application/json", req, "Authorization", "Bearer "+issuerToken)
			if r.status >= 500 {
				t.Fatalf("got %s", r)
			}
			if in.wantOK {
				okTotal++
			} else {
				failTotal++
			}
			if reason, ok := suiteDeviations[in.name]; ok {
				p := checkProblem(t, r, http.StatusBadRequest, "")
				t.Skipf("known deviation: %s (%s)", reason, p.Detail)
			}
			if !in.wantOK {
				// The suite takes 400 or 422.
				if r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
					t.Fatalf("got %s, want 400 or 422", r)
				}
				p := checkProblem(t, r, r.status, "")
				if p.Detail == "" || p.VCError == "" {
					t.Fatalf("problem %+v: want a detail and a vcError", p)
				}
				failRefused++
				t.Logf("refused: %s", p.Detail)
				return
			}
			if r.status != http.StatusCreated {
				t.Fatalf("got %s, want 201", r)
			}
			d, err := merkle.ParseHash(strings.TrimPrefix(r.header.Get("Location"), "/v1/credentials/"))
			if err != nil {
				t.Fatalf("Location %q: %v", r.header.Get("Location"), err)
			}
			cred := decode[VCAPIIssueResponse](t, r).VerifiableCredential
			c, err := vc.ParseCredential(cred)
			if err != nil {
				t.Fatal(err)
			}
			// The suite's shouldBeIssuedVc wants one proof object.
			if iss, err := c.Issuer(); err != nil || iss.ID != e.issuer.DID || !isJSONObject(c.Object()["proof"]) {
				t.Fatalf("issued credential: issuer %+v (%v), proof %v", iss, err, c.Object()["proof"])
			}
			if got := jsonDigest(t, cred); got != d {
				t.Errorf("Location names %s, want the digest %s", d, got)
			}
			okIssued++
			toVerify = append(toVerify, issued{in.name, cred, d})
		})
		if in.wantOK {
			continue
		}
		t.Run("verify-unsigned/"+in.name, func(t *testing.T) {
			failed := checkNotVerified(t, e.vcapiVerify(in.data))
			if !slices.Contains(failed, node.CheckProof) {
				t.Errorf("failed checks %q: an unsigned input must fail the proof check", failed)
			}
		})
		t.Run("verify-signed/"+in.name, func(t *testing.T) {
			var probe map[string]any
			if err := json.Unmarshal(in.data, &probe); err != nil {
				t.Fatal(err)
			}
			cred := in.data
			// The suite verifies an input with a proof as it is.
			if _, ok := probe["proof"]; !ok {
				cred = signAsHarness(t, e.issuer, in.data)
			}
			failed := checkNotVerified(t, e.vcapiVerify(cred))
			if !slices.Contains(failed, node.CheckStructure) && !slices.Contains(failed, node.CheckValidity) {
				t.Errorf("failed checks %q: want the structure or validity check to fail", failed)
			}
			t.Logf("failed checks: %s", strings.Join(failed, ", "))
		})
	}

	// The node batches every issued credential; wait once for the anchors.
	for _, iss := range toVerify {
		e.waitAnchored(iss.digest)
	}
	var verified, expired int
	for _, iss := range toVerify {
		t.Run("verify-issued/"+iss.name, func(t *testing.T) {
			r := e.vcapiVerify(iss.cred)
			if r.status >= 500 {
				t.Fatalf("got %s", r)
			}
			if !validNow(t, iss.cred, time.Now()) {
				if failed := checkNotVerified(t, r); !slices.Equal(failed, []string{node.CheckValidity}) {
					t.Fatalf("failed checks %q, want only validity: %s", failed, r)
				}
				expired++
				t.Logf("outside its validity period: %s", r)
				return
			}
			got := decode[VCAPIVerifyResponse](t, r)
			// A credential with a credentialStatus gets a status check too
			// (the suite's are of example types, which are not read).
			want := 8
			if bytes.Contains(iss.cred, []byte(`"credentialStatus"`)) {
				want++
			}
			if r.status != http.StatusOK || !got.Verified || len(got.Checks) != want || len(got.Errors) != 0 || got.Digest == nil || *got.Digest != iss.digest || got.Anchor == nil {
				t.Fatalf("got %s, want 200 verified with %d checks and the anchor", r, want)
			}
			verified++
		})
	}
	t.Logf("-ok inputs issued: %d/%d, then verified: %d, refused for their validity period alone: %d; "+
		"-fail inputs refused at issue: %d/%d; known deviations: %d; presentations: %d",
		okIssued, okTotal, verified, expired, failRefused, failTotal, len(suiteDeviations), len(presentations))
}

func isJSONObject(v any) bool { _, ok := v.(map[string]any); return ok }
