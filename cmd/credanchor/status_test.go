package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// startDevnetAt starts a devnet on a fixed HTTP address: the address is in
// the status list URLs of the credentials it issues, so a restart must keep
// it.
func startDevnetAt(t *testing.T, dir, httpAddr string) *devnetProc {
	t.Helper()
	c, v := startChild(t, []string{"devnet", "--data", dir, "--rpc", "127.0.0.1:0", "--http", httpAddr, "--batch.wait", "100ms", "--status.interval", "200ms"},
		`HTTP API:\s+(http://127\.0\.0\.1:\d+)`, `chain RPC:\s+(http://127\.0\.0\.1:\d+)`, `registry:\s+(0x[0-9a-fA-F]{40})`)
	return &devnetProc{child: c, http: v[0], rpc: v[1], registry: common.HexToAddress(v[2])}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestRevokeCLI: credanchor revoke and suspend through a devnet; after the
// next publication `credanchor verify --rpc` answers revoked, a saved older
// list is refused as stale, and a revocation acknowledged just before a
// SIGKILL is published after the restart.
func TestRevokeCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "devnet")
	addr := freeAddr(t)
	p := startDevnetAt(t, dir, addr)
	info := readDevnetInfo(t, dir)
	files := t.TempDir()
	file := func(name string) string { return filepath.Join(files, name) }

	issue := func(name string) (cred, receipt, digest string) {
		t.Helper()
		unsigned := `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:` + name + `"}}`
		os.WriteFile(file(name+".unsigned.json"), []byte(unsigned), 0o600)
		_, stderr, code := run(t, "issue", "--node", info.HTTP, "--token", info.Token, "--out", file(name+".json"), file(name+".unsigned.json"))
		m := regexp.MustCompile(`issued (0x[0-9a-f]{64})`).FindStringSubmatch(stderr)
		if code != 0 || m == nil {
			t.Fatalf("issue: exit %d %s", code, stderr)
		}
		os.WriteFile(file(name+".receipt.json"), pollReceipt(t, info.HTTP, m[1]), 0o600)
		return file(name + ".json"), file(name + ".receipt.json"), m[1]
	}
	verify := func(cred, receipt string, args ...string) (string, int) {
		out, stderr, code := run(t, append([]string{"verify", "--rpc", info.RPC, "--receipt", receipt}, append(args, cred)...)...)
		return out + stderr, code
	}
	// waitVerify polls `credanchor verify` until its output has want.
	waitVerify := func(cred, receipt, want string) string {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			out, _ := verify(cred, receipt)
			if strings.Contains(out, want) {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("verify never said %q:\n%s", want, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	a, aReceipt, aDigest := issue("a")
	b, bReceipt, _ := issue("b")
	out := waitVerify(a, aReceipt, "PASS  status")
	if !strings.Contains(out, "\nverified\n") {
		t.Fatalf("verify before revocation:\n%s", out)
	}
	// The list as it was, saved by a verifier.
	resp, err := http.Get(info.HTTP + "/v1/status-lists/revocation-1")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET status list: %v %v", resp, err)
	}
	old := mustReadAll(t, resp)
	os.WriteFile(file("old-list.json"), old, 0o600)

	// Revoke by digest; suspend by credential file.
	out, stderr, code := run(t, "revoke", "--node", info.HTTP, "--token", info.Token, "--reason", "issued in error", aDigest)
	if code != 0 || !regexp.MustCompile(`revocation\s+revocation-1 #\d+: set, pending publication`).MatchString(out) {
		t.Fatalf("revoke: exit %d\n%s%s", code, out, stderr)
	}
	out = waitVerify(a, aReceipt, "FAIL  status             revoked")
	if !strings.Contains(out, "FAIL  status") || !strings.Contains(out, "NOT verified") {
		t.Fatalf("verify after revocation:\n%s", out)
	}
	if out, code := verify(a, aReceipt, "--status-list", file("old-list.json")); code != 1 || !strings.Contains(out, "stale or forged") {
		t.Errorf("verify with the list saved before the revocation: exit %d\n%s", code, out)
	}
	if _, stderr, code := run(t, "suspend", "--node", info.HTTP, "--token", info.Token, b); code != 0 {
		t.Fatalf("suspend: exit %d %s", code, stderr)
	}
	waitVerify(b, bReceipt, "FAIL  status             suspended")
	if _, stderr, code := run(t, "unsuspend", "--node", info.HTTP, "--token", info.Token, b); code != 0 {
		t.Fatalf("unsuspend: exit %d %s", code, stderr)
	}
	waitVerify(b, bReceipt, "\nverified\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"revoke", "--node", info.HTTP, "--token", info.Token, "0x" + strings.Repeat("ab", 32)}, "No status kept"},
		{[]string{"revoke", "--node", info.HTTP, "--token", "wrong", aDigest}, "401"},
		{[]string{"revoke", "--node", info.HTTP, "--token", info.Token, file("nothing.json")}, "neither a digest nor"},
	} {
		if _, stderr, code := run(t, tc.args...); code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want an error with %q: %s", tc.args, code, tc.want, stderr)
		}
	}

	// A revocation acknowledged, then SIGKILL before it is published: it is
	// published after the restart.
	c, cReceipt, cDigest := issue("c")
	waitVerify(c, cReceipt, "\nverified\n")
	if _, stderr, code := run(t, "revoke", "--node", info.HTTP, "--token", info.Token, cDigest); code != 0 {
		t.Fatalf("revoke c: exit %d %s", code, stderr)
	}
	p.kill()
	p = startDevnetAt(t, dir, addr)
	info = readDevnetInfo(t, dir)
	waitVerify(c, cReceipt, "FAIL  status             revoked")
	p.stop(t)
}

func mustReadAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTestnetUp starts `credanchor testnet up --nodes 3` and checks that
// each printed node answers, as a member of the consortium, and that the
// query command it prints verifies a credential node 1 issued, as a
// newcomer would paste it.
func TestTestnetUp(t *testing.T) {
	c, v := startChild(t, []string{"testnet", "up", "--nodes", "3", "--rpc", "127.0.0.1:0"},
		`node 1: (http://127\.0\.0\.1:\d+)`, `node 2: (http://127\.0\.0\.1:\d+)`, `node 3: (http://127\.0\.0\.1:\d+)`,
		`credanchor (query .+) CREDENTIAL`)
	query := strings.Fields(v[3])
	v = v[:3]
	dir := t.TempDir()
	unsigned, cred := filepath.Join(dir, "unsigned.json"), filepath.Join(dir, "cred.json")
	os.WriteFile(unsigned, []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:t"}}`), 0o600)
	_, stderr, code := run(t, "issue", "--node", v[0], "--token", "cluster-token-1", "--out", cred, unsigned)
	m := regexp.MustCompile(`issued (0x[0-9a-f]{64})`).FindStringSubmatch(stderr)
	if code != 0 || m == nil {
		t.Fatalf("issue: %s", stderr)
	}
	pollReceipt(t, v[0], m[1])
	if out, stderr, code := run(t, append(query, cred)...); code != 0 || !strings.Contains(out, `"verified":true`) {
		t.Errorf("the printed query command: exit %d\n%s%s", code, out, stderr)
	}
	for _, url := range v {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body := mustReadAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s/healthz: %d %s", url, resp.StatusCode, body)
		}
	}
	c.stop(t)
}
