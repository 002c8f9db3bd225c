package cluster_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/testnet/cluster"
)

// badge is an unsigned Open Badges credential of an achievement, about
// subject.
func badge(achievementID, name, subject string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
  "type": ["VerifiableCredential", "OpenBadgeCredential"],
  "name": %[2]q,
  "credentialSubject": {"id": %[3]q, "type": ["AchievementSubject"],
    "achievement": {"id": %[1]q, "type": ["Achievement"], "name": %[2]q, "description": "A short course.", "criteria": {"narrative": "Pass the exam."}}}
}`, achievementID, name, subject))
}

// held is a credential a learner holds, with its receipt.
type held struct {
	cred    json.RawMessage
	digest  string
	receipt *anchor.Receipt
}

// issueTo issues through an institution's node and waits for the receipt.
func issueTo(t *testing.T, in *cluster.Institution, unsigned json.RawMessage) held {
	t.Helper()
	code, body := post(t, in.URL+"/v1/issue", in.Token, unsigned)
	if code != http.StatusCreated {
		t.Fatalf("%s issue: %d %s", in.Name, code, body)
	}
	var iss struct {
		Credential json.RawMessage `json:"credential"`
		Digest     string          `json:"digest"`
	}
	if err := json.Unmarshal(body, &iss); err != nil {
		t.Fatal(err)
	}
	return held{cred: iss.Credential, digest: iss.Digest, receipt: waitReceipt(t, in, iss.Digest)}
}

func waitReceipt(t *testing.T, in *cluster.Institution, digest string) *anchor.Receipt {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		code, rc := get(t, in.URL+"/v1/credentials/"+digest+"/receipt")
		if code == http.StatusOK {
			r, err := anchor.ParseReceipt(rc)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no receipt for %s: %d %s", in.Name, digest, code, rc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// claim presents creds to a pathway of in's node, over its challenge.
func claim(t *testing.T, in *cluster.Institution, key ed25519.PrivateKey, pathway string, creds ...held) (int, []byte) {
	t.Helper()
	code, body := post(t, in.URL+"/challenges", "", nil)
	if code != http.StatusCreated {
		t.Fatalf("challenge: %d %s", code, body)
	}
	var ch struct{ Challenge string }
	_ = json.Unmarshal(body, &ch)
	var pcs []node.PresentedCredential
	for _, h := range creds {
		pcs = append(pcs, node.PresentedCredential{Data: h.cred, Form: credential.FormJSON, Receipt: h.receipt})
	}
	vp, err := node.Present(node.PresentationRequest{Key: key, Credentials: pcs, Challenge: ch.Challenge})
	if err != nil {
		t.Fatal(err)
	}
	return post(t, in.URL+"/v1/pathways/"+pathway+"/claim", "", map[string]json.RawMessage{"verifiablePresentation": vp})
}

// TestPathways: two institutions each issue a component to a learner; the
// first defines a pathway needing both; the learner's claim earns the
// roll-up, which verifies through both nodes and reports its components
// when presented with them. Claims with a missing, revoked, foreign or
// unanchored component are refused with the component named.
func TestPathways(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Config{Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, b := c.Institutions[0], c.Institutions[1]
	seed := sha256.Sum256([]byte("pathway learner"))
	key := ed25519.NewKeyFromSeed(seed[:])
	learner, _ := node.NewDIDKeyIssuer(key, "")

	const ds, crypto = "https://uni.example/achievements/ds-101", "https://northbridge.example/achievements/crypto-201"
	dsCred := issueTo(t, a, badge(ds, "Distributed Systems 101", learner.DID))
	cryptoCred := issueTo(t, b, badge(crypto, "Applied Cryptography 201", learner.DID))

	pathway := map[string]any{
		"id": "security-track",
		"achievement": map[string]any{
			"id": "https://uni.example/pathways/security", "type": []string{"Achievement"},
			"name": "Secure Systems Pathway", "description": "Distributed systems and applied cryptography.",
			"criteria": map[string]any{"narrative": "Earn both component badges."},
		},
		"requirement": map[string]any{"kind": "allOf", "components": []map[string]string{
			{"achievementId": ds, "issuer": a.Issuer.DID}, {"achievementId": crypto, "issuer": b.Issuer.DID},
		}},
	}
	if code, body := post(t, a.URL+"/v1/pathways", a.Token, pathway); code != http.StatusCreated {
		t.Fatalf("define: %d %s", code, body)
	}
	for _, tc := range []struct {
		name  string
		token string
		def   any
		code  int
		want  string
	}{
		{"again", a.Token, pathway, http.StatusConflict, "pathway-exists"},
		{"no token", "", pathway, http.StatusUnauthorized, "unauthorized"},
		{"no components", a.Token, map[string]any{"achievement": pathway["achievement"], "requirement": map[string]any{"kind": "allOf", "components": []any{}}}, http.StatusBadRequest, "invalid-pathway"},
		{"k too large", a.Token, map[string]any{"achievement": pathway["achievement"], "requirement": map[string]any{"kind": "kOf", "k": 3, "components": []map[string]string{{"achievementId": ds}, {"achievementId": crypto}}}}, http.StatusBadRequest, "invalid-pathway"},
	} {
		if code, body := post(t, a.URL+"/v1/pathways", tc.token, tc.def); code != tc.code || !strings.Contains(string(body), tc.want) {
			t.Errorf("define %s: %d %s, want %d %s", tc.name, code, body, tc.code, tc.want)
		}
	}

	// The claim earns the roll-up.
	code, body := claim(t, a, key, "security-track", dsCred, cryptoCred)
	if code != http.StatusCreated {
		t.Fatalf("claim: %d %s", code, body)
	}
	var won struct {
		Credential json.RawMessage         `json:"credential"`
		Digest     string                  `json:"digest"`
		Components []node.ComponentOutcome `json:"components"`
	}
	if err := json.Unmarshal(body, &won); err != nil {
		t.Fatal(err)
	}
	if len(won.Components) != 2 || !won.Components[0].Met || !won.Components[1].Met {
		t.Fatalf("components: %+v", won.Components)
	}
	var rollup struct {
		Issuer            map[string]any   `json:"issuer"`
		CredentialSubject map[string]any   `json:"credentialSubject"`
		Evidence          []map[string]any `json:"evidence"`
	}
	if err := json.Unmarshal(won.Credential, &rollup); err != nil {
		t.Fatal(err)
	}
	if rollup.Issuer["id"] != a.Issuer.DID || rollup.CredentialSubject["id"] != learner.DID || len(rollup.Evidence) != 2 ||
		!strings.HasPrefix(fmt.Sprint(rollup.Evidence[0]["digestSRI"]), "sha256-") {
		t.Fatalf("roll-up: %s", won.Credential)
	}
	rollupHeld := held{cred: won.Credential, digest: won.Digest, receipt: waitReceipt(t, a, won.Digest)}
	// It verifies through either node, and with its components presented
	// it reports them.
	for _, in := range c.Institutions {
		deadline := time.Now().Add(time.Minute)
		for {
			code, body := post(t, in.URL+"/v1/verify", "", map[string]any{"credential": rollupHeld.cred, "receipt": rollupHeld.receipt})
			if code == http.StatusOK && strings.Contains(string(body), `"verified":true`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("roll-up through %s: %d %s", in.Name, code, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	code, body = post(t, b.URL+"/challenges", "", nil)
	var ch struct{ Challenge string }
	if err := json.Unmarshal(body, &ch); code != http.StatusCreated || err != nil {
		t.Fatalf("challenge: %d %s", code, body)
	}
	vp, err := node.Present(node.PresentationRequest{Key: key, Challenge: ch.Challenge, Credentials: []node.PresentedCredential{
		{Data: rollupHeld.cred, Form: credential.FormJSON, Receipt: rollupHeld.receipt},
		{Data: dsCred.cred, Form: credential.FormJSON, Receipt: dsCred.receipt},
		{Data: cryptoCred.cred, Form: credential.FormJSON, Receipt: cryptoCred.receipt},
	}})
	if err != nil {
		t.Fatal(err)
	}
	code, body = post(t, b.URL+"/presentations/verify", "", map[string]json.RawMessage{"verifiablePresentation": vp})
	var pres struct {
		Verified    bool `json:"verified"`
		Credentials []struct {
			Components []node.ComponentRef `json:"components"`
		} `json:"credentials"`
	}
	_ = json.Unmarshal(body, &pres)
	if code != http.StatusOK || !pres.Verified || len(pres.Credentials) != 3 || len(pres.Credentials[0].Components) != 2 ||
		!pres.Credentials[0].Components[0].Verified || !pres.Credentials[0].Components[1].Verified {
		t.Fatalf("roll-up presented with its components: %d %s", code, body)
	}

	// A k-of-n pathway is met by fewer.
	anyOne := map[string]any{"id": "any-one", "achievement": map[string]any{
		"id": "https://uni.example/pathways/any", "type": []string{"Achievement"}, "name": "Any One", "description": "One of two.",
		"criteria": map[string]any{"narrative": "Earn either badge."}},
		"requirement": map[string]any{"kind": "kOf", "k": 1, "components": []map[string]string{{"achievementId": ds}, {"achievementId": crypto}}}}
	if code, body := post(t, a.URL+"/v1/pathways", a.Token, anyOne); code != http.StatusCreated {
		t.Fatalf("define any-one: %d %s", code, body)
	}
	if code, body := claim(t, a, key, "any-one", dsCred); code != http.StatusCreated {
		t.Fatalf("claim any-one: %d %s", code, body)
	}

	// Refusals, each naming the component.
	otherSeed := sha256.Sum256([]byte("not a member"))
	outsider, _ := node.NewDIDKeyIssuer(ed25519.NewKeyFromSeed(otherSeed[:]), "Diploma Mill")
	sign := func(id *node.IssuerIdentity, unsigned json.RawMessage) json.RawMessage {
		var obj map[string]any
		_ = json.Unmarshal(unsigned, &obj)
		obj["issuer"] = map[string]any{"id": id.DID, "type": []string{"Profile"}, "name": id.Name}
		obj["validFrom"] = "2026-01-01T00:00:00Z"
		doc, _ := json.Marshal(obj)
		signed, err := dataintegrity.SignJCS(doc, id.Key, dataintegrity.Options{VerificationMethod: id.VerificationMethod})
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	// Foreign: signed by an outsider, anchored by member b's node.
	foreignCred := sign(outsider, badge(crypto, "Applied Cryptography 201", learner.DID))
	if code, body := post(t, b.URL+"/v1/credentials", b.Token, foreignCred); code >= 300 {
		t.Fatalf("submit foreign: %d %s", code, body)
	}
	fd, _ := credential.Digest(foreignCred, credential.FormJSON)
	foreign := held{cred: foreignCred, receipt: waitReceipt(t, b, fmt.Sprintf("0x%x", fd))}
	// Unanchored: signed by member b's key, never submitted.
	unanchored := held{cred: sign(b.Issuer, badge(crypto, "Applied Cryptography 201", learner.DID))}
	for _, tc := range []struct {
		name  string
		creds []held
		want  string
	}{
		{"missing", []held{dsCred}, "missing"},
		{"foreign", []held{dsCred, foreign}, "not issued by a consortium member"},
		{"unanchored", []held{dsCred, unanchored}, "not anchored"},
	} {
		code, body := claim(t, a, key, "security-track", tc.creds...)
		checkRefused(t, tc.name, code, body, crypto, tc.want)
	}
	// Revoked: b revokes the component; once published, the claim fails.
	if code, body := post(t, b.URL+"/v1/credentials/"+cryptoCred.digest+"/revoke", b.Token, map[string]string{"reason": "exam misconduct"}); code != http.StatusOK {
		t.Fatalf("revoke: %d %s", code, body)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		code, body := claim(t, a, key, "security-track", dsCred, cryptoCred)
		if code == http.StatusUnprocessableEntity && strings.Contains(string(body), "revoked") {
			checkRefused(t, "revoked", code, body, crypto, "revoked or suspended")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("claim with a revoked component: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, body := claim(t, a, key, "no-such-pathway", dsCred); code != http.StatusNotFound {
		t.Errorf("claim of an unknown pathway: %d %s", code, body)
	}
}

// checkRefused checks a 422 claim-refused problem that names component as
// not met for reason.
func checkRefused(t *testing.T, name string, code int, body []byte, component, reason string) {
	t.Helper()
	var p struct {
		Type       string                  `json:"type"`
		Components []node.ComponentOutcome `json:"components"`
	}
	_ = json.Unmarshal(body, &p)
	if code != http.StatusUnprocessableEntity || !strings.HasSuffix(p.Type, "/claim-refused") {
		t.Errorf("%s: %d %s, want 422 claim-refused", name, code, body)
		return
	}
	for _, c := range p.Components {
		if c.AchievementID == component && !c.Met && strings.Contains(c.Reason, reason) {
			return
		}
	}
	t.Errorf("%s: components %+v, want %s not met: %s", name, p.Components, component, reason)
}
