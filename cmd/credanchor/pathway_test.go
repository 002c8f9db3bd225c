package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/testnet/cluster"
)

// TestPathwayCLI: on a consortium of two institutions, each issues a
// component with `credanchor issue`; `credanchor pathway define` and
// `pathway claim` earn the roll-up, which `credanchor verify` accepts with
// only the chain; a claim missing a component is refused, naming it.
func TestPathwayCLI(t *testing.T) {
	c := startCluster(t, cluster.Config{Nodes: 2})
	a, b := c.Institutions[0], c.Institutions[1]
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	out, stderr, code := run(t, "keys", "new", "--did", "--out", file("learner.key"))
	if code != 0 {
		t.Fatalf("keys new --did: %s", stderr)
	}
	learner := strings.TrimSpace(out)

	issue := func(in *cluster.Institution, name, achievement string) {
		t.Helper()
		os.WriteFile(file(name+".unsigned.json"), fmt.Appendf(nil, `{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
  "type": ["VerifiableCredential", "OpenBadgeCredential"], "name": %[2]q,
  "credentialSubject": {"id": %[1]q, "type": ["AchievementSubject"],
    "achievement": {"id": %[2]q, "type": ["Achievement"], "name": %[2]q, "description": "A short course.", "criteria": {"narrative": "Pass."}}}}`,
			learner, achievement), 0o600)
		_, stderr, code := run(t, "issue", "--node", in.URL, "--token", in.Token, "--out", file(name+".json"), file(name+".unsigned.json"))
		m := regexp.MustCompile(`issued (0x[0-9a-f]{64})`).FindStringSubmatch(stderr)
		if code != 0 || m == nil {
			t.Fatalf("issue %s: %s", name, stderr)
		}
		os.WriteFile(file(name+".receipt.json"), pollReceipt(t, in.URL, m[1]), 0o600)
	}
	issue(a, "ds", "https://uni.example/achievements/ds-101")
	issue(b, "crypto", "https://northbridge.example/achievements/crypto-201")

	os.WriteFile(file("pathway.json"), []byte(`{"id": "security-track",
  "achievement": {"id": "https://uni.example/pathways/security", "type": ["Achievement"], "name": "Secure Systems Pathway",
    "description": "Distributed systems and applied cryptography.", "criteria": {"narrative": "Earn both badges."}},
  "requirement": {"kind": "allOf", "components": [
    {"achievementId": "https://uni.example/achievements/ds-101"}, {"achievementId": "https://northbridge.example/achievements/crypto-201"}]}}`), 0o600)
	if out, stderr, code := run(t, "pathway", "define", "--node", a.URL, "--token", a.Token, file("pathway.json")); code != 0 || !strings.Contains(out, `"issuer":"`+a.Issuer.DID) {
		t.Fatalf("pathway define: exit %d\n%s%s", code, out, stderr)
	}
	// Claims retry while the components' status lists are being published.
	deadline := time.Now().Add(time.Minute)
	for {
		_, stderr, code = run(t, "pathway", "claim", "--node", a.URL, "--key", file("learner.key"), "--out", file("rollup.json"),
			"security-track", file("ds.json")+":"+file("ds.receipt.json"), file("crypto.json")+":"+file("crypto.receipt.json"))
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pathway claim: exit %d\n%s", code, stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	m := regexp.MustCompile(`issued (0x[0-9a-f]{64})`).FindStringSubmatch(stderr)
	if m == nil || strings.Count(stderr, "MET    ") != 2 {
		t.Fatalf("pathway claim output:\n%s", stderr)
	}
	os.WriteFile(file("rollup.receipt.json"), pollReceipt(t, a.URL, m[1]), 0o600)
	deadline = time.Now().Add(time.Minute)
	for {
		out, stderr, code = run(t, "verify", "--rpc", c.Chain.RPCURL(), "--receipt", file("rollup.receipt.json"), file("rollup.json"))
		if code == 0 && strings.Contains(out, "\nverified\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("verify the roll-up: exit %d\n%s%s", code, out, stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Presented with its components, the roll-up reports them.
	_, stderr, code = run(t, "present", "--key", file("learner.key"), "--challenge", "c-1", "--out", file("vp.json"),
		"--also", file("ds.json")+":"+file("ds.receipt.json"), "--also", file("crypto.json")+":"+file("crypto.receipt.json"),
		file("rollup.json"), file("rollup.receipt.json"))
	if code != 0 {
		t.Fatalf("present: %s", stderr)
	}
	out, stderr, code = run(t, "verify", "--presentation", "--challenge", "c-1", "--rpc", c.Chain.RPCURL(), file("vp.json"))
	if code != 0 || !strings.Contains(out, ": credential 1, verified") || !strings.Contains(out, ": credential 2, verified") {
		t.Errorf("verify --presentation of the roll-up with its components: exit %d\n%s%s", code, out, stderr)
	}
	_, stderr, code = run(t, "pathway", "claim", "--node", a.URL, "--key", file("learner.key"), "security-track", file("ds.json")+":"+file("ds.receipt.json"))
	if code == 0 || !strings.Contains(stderr, "NOT MET https://northbridge.example/achievements/crypto-201 missing") || !strings.Contains(stderr, "422") {
		t.Errorf("claim without a component: exit %d\n%s", code, stderr)
	}
}

// TestQueryCLI: `credanchor query` asks a consortium node over libp2p,
// signing its membership record with a member's node key, or as a guest
// with no key; the node answers for a credential another member issued.
func TestQueryCLI(t *testing.T) {
	c := startCluster(t, cluster.Config{Nodes: 2, P2P: true})
	a, b := c.Institutions[0], c.Institutions[1]
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	if err := crypto.SaveECDSA(file("nodekey"), a.NodeKey); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(file("unsigned.json"), []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:q"}}`), 0o600)
	_, stderr, code := run(t, "issue", "--node", a.URL, "--token", a.Token, "--out", file("cred.json"), file("unsigned.json"))
	m := regexp.MustCompile(`issued (0x[0-9a-f]{64})`).FindStringSubmatch(stderr)
	if code != 0 || m == nil {
		t.Fatalf("issue: %s", stderr)
	}
	pollReceipt(t, a.URL, m[1])
	args := func(kind string, rest ...string) []string {
		return append([]string{"query", "--peer", b.PeerAddrs[0], "--rpc", c.Chain.RPCURL(), "--registry", c.Registry.Hex(), "--key", file("nodekey"), kind}, rest...)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		out, stderr, code := run(t, args("verify", file("cred.json"))...)
		if code == 0 && strings.Contains(out, `"verified":true`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query verify through %s: exit %d\n%s%s", b.Name, code, out, stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out, stderr, code := run(t, args("receipt", m[1])...); code != 0 || !strings.Contains(out, m[1]) {
		t.Errorf("query receipt: exit %d\n%s%s", code, out, stderr)
	}
	if out, _, code := run(t, args("receipt", "0x"+strings.Repeat("ab", 32))...); code != 1 || !strings.Contains(out, "404") {
		t.Errorf("query receipt of an unknown digest: exit %d\n%s", code, out)
	}

	// A verifier with no key at all is answered too.
	guest := []string{"query", "--peer", b.PeerAddrs[0], "--rpc", c.Chain.RPCURL(), "--registry", c.Registry.Hex()}
	if out, stderr, code := run(t, append(guest, "verify", file("cred.json"))...); code != 0 || !strings.Contains(out, `"verified":true`) {
		t.Errorf("guest query verify: exit %d\n%s%s", code, out, stderr)
	}
	if out, stderr, code := run(t, append(guest, "status", file("cred.json"))...); code != 0 || !strings.Contains(out, `"status"`) {
		t.Errorf("guest query status: exit %d\n%s%s", code, out, stderr)
	}
	// The guest checks whom it asks: another consortium's registry is
	// not the one the peer's record names.
	other := []string{"query", "--peer", b.PeerAddrs[0], "--rpc", c.Chain.RPCURL(), "--registry", "0x00000000000000000000000000000000000c0de1", "receipt", m[1]}
	if out, stderr, code := run(t, other...); code == 0 || !strings.Contains(stderr, "not a consortium member") {
		t.Errorf("guest query of another consortium's node: exit %d\n%s%s", code, out, stderr)
	}
}
