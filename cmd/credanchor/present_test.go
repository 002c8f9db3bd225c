package main

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/testnet"
)

// TestLearnerFlow: a credential issued to a learner through node A is
// proven by the learner after node A is stopped and its data deleted, with a
// presentation that `credanchor verify --presentation --rpc` checks against
// nothing but geth.
func TestLearnerFlow(t *testing.T) {
	geth, c := startGethConsortium(t)
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }

	// The learner makes a key; its did:key is what the institution issues to.
	out, stderr, code := run(t, "keys", "new", "--did", "--out", file("learner.key"))
	learnerDID := strings.TrimSpace(out)
	if code != 0 || !regexp.MustCompile(`^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$`).MatchString(learnerDID) {
		t.Fatalf("keys new --did: exit %d, %q %s", code, out, stderr)
	}
	if st, err := os.Stat(file("learner.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("learner key file: %v, %v", st, err)
	}
	if _, stderr, code := run(t, "keys", "new", "--did", "--out", file("learner.key")); code == 0 || !strings.Contains(stderr, "already exists") {
		t.Errorf("keys new --did over an existing file: exit %d, %s", code, stderr)
	}

	// Node A issues it and anchors it.
	data := file("node-a")
	if err := crypto.SaveECDSA(file("nodekey"), c.NodeKey); err != nil {
		t.Fatal(err)
	}
	const token = "learner-flow-token"
	if err := os.WriteFile(file("tokens"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file("issuer.key"), []byte(hex.EncodeToString(testnet.ExampleIssuerKey.Seed())), 0o600); err != nil {
		t.Fatal(err)
	}
	// Node A also joins the consortium over libp2p, and says where.
	child, v := startChild(t, []string{"node", "run", "--rpc", geth.RPCURL(), "--registry", c.Registry.Hex(), "--key", file("nodekey"), "--token-file", file("tokens"),
		"--data", data, "--http", "127.0.0.1:0", "--batch.wait", "100ms", "--issuer-key", file("issuer.key"), "--issuer-name", "Example University",
		"--p2p.listen", "/ip4/127.0.0.1/tcp/0"},
		`HTTP API:\s+(http://127\.0\.0\.1:\d+)`, `peer:\s+(/ip4/127\.0\.0\.1/tcp/\d+/p2p/\w+)`)
	a := &nodeProc{child: child, http: v[0]}
	unsigned := `{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
  "type": ["VerifiableCredential", "OpenBadgeCredential"],
  "name": "Applied Cryptography micro-credential",
  "credentialSubject": {
    "id": "` + learnerDID + `",
    "type": ["AchievementSubject"],
    "achievement": {"id": "https://uni.example/achievements/crypto-201", "type": ["Achievement"], "name": "Crypto 201", "description": "Signatures and hashes.", "criteria": {"narrative": "Pass the lab."}}
  }
}`
	if err := os.WriteFile(file("unsigned.json"), []byte(unsigned), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = run(t, "issue", "--node", a.http, "--token", token, "--out", file("cred.json"), file("unsigned.json"))
	m := regexp.MustCompile(`issued (0x[0-9a-f]{64})`).FindStringSubmatch(stderr)
	if code != 0 || m == nil {
		t.Fatalf("issue: exit %d, %s", code, stderr)
	}
	pollReceipt(t, a.http, m[1])
	if _, stderr, code := run(t, "receipt", "--node", a.http, "--out", file("receipt.json"), m[1]); code != 0 {
		t.Fatalf("receipt: exit %d, %s", code, stderr)
	}

	// The learner keeps the credential's status lists with it, as they were
	// when it was anchored.
	var lists []string
	for _, purpose := range []string{"revocation", "suspension"} {
		f := file(purpose + ".json")
		deadline := time.Now().Add(time.Minute)
		for {
			resp, err := http.Get(a.http + "/v1/status-lists/" + purpose + "-1")
			if err != nil {
				t.Fatal(err)
			}
			body := mustReadAll(t, resp)
			if resp.StatusCode == http.StatusOK {
				os.WriteFile(f, body, 0o600)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("status list %s never published: %d %s", purpose, resp.StatusCode, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
		lists = append(lists, "--status-list", f)
	}

	// Node A is gone, and so is everything it stored.
	a.stop(t)
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}

	const challenge, domain = "employer-challenge-1", "hr.example"
	if _, stderr, code := run(t, append(append([]string{"present", "--key", file("learner.key"), "--challenge", challenge, "--domain", domain,
		"--out", file("vp.json")}, lists...), file("cred.json"), file("receipt.json"))...); code != 0 {
		t.Fatalf("present: exit %d, %s", code, stderr)
	}
	verify := func(vp string, args ...string) (string, int) {
		out, stderr, code := run(t, append([]string{"verify", "--presentation", "--rpc", geth.RPCURL(), "--registry", c.Registry.Hex()}, append(args, vp)...)...)
		return out + stderr, code
	}
	out, code = verify(file("vp.json"), "--challenge", challenge, "--domain", domain)
	if code != 0 || !strings.Contains(out, "\nverified\n") || !strings.Contains(out, "Example University") || strings.Contains(out, "FAIL") {
		t.Fatalf("verify --presentation with node A gone: exit %d\n%s", code, out)
	}
	var pv struct {
		Verified    bool   `json:"verified"`
		Holder      string `json:"holder"`
		Credentials []struct {
			Verified bool `json:"verified"`
		} `json:"credentials"`
	}
	out, code = verify(file("vp.json"), "--challenge", challenge, "--domain", domain, "--json")
	if err := json.Unmarshal([]byte(out), &pv); code != 0 || err != nil || !pv.Verified || pv.Holder != learnerDID || len(pv.Credentials) != 1 || !pv.Credentials[0].Verified {
		t.Fatalf("verify --presentation --json: exit %d, %v\n%s", code, err, out)
	}

	// What a verifier must refuse, with the check named.
	vp, err := os.ReadFile(file("vp.json"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(vp), "Applied Cryptography", "Applied Cryptanalysis", 1)
	if err := os.WriteFile(file("tampered.json"), []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		vp   string
		args []string
		want string
	}{
		{"another challenge", file("vp.json"), []string{"--challenge", "employer-challenge-2", "--domain", domain}, "FAIL  challenge"},
		{"another domain", file("vp.json"), []string{"--challenge", challenge, "--domain", "other.example"}, "FAIL  challenge"},
		{"tampered", file("tampered.json"), []string{"--challenge", challenge}, "FAIL  holder-proof"},
	} {
		out, code := verify(tc.vp, tc.args...)
		if code != 1 || !strings.Contains(out, tc.want) || !strings.Contains(out, "NOT verified") {
			t.Errorf("%s: exit %d, want 1 with %q\n%s", tc.name, code, tc.want, out)
		}
	}
	// Usage mistakes are readable errors.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "--presentation", "--rpc", geth.RPCURL(), file("vp.json")}, "--challenge is required"},
		{[]string{"verify", "--rpc", geth.RPCURL(), file("cred.json")}, "--receipt is required"},
		{[]string{"present", "--key", file("learner.key"), file("cred.json")}, "challenge"},
		{[]string{"present", "--key", file("tokens"), "--challenge", "x", file("cred.json")}, "--key"},
	} {
		if _, stderr, code := run(t, tc.args...); code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want an error with %q: %s", tc.args, code, tc.want, stderr)
		}
	}
}
