package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
	"github.com/credanchor/credanchor/testnet/cluster"
)

// binary is the credanchor command built once for the tests that run it as
// a user would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "credanchor-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "credanchor")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"devnet", "--help"}, {"verify", "--help"}} {
		out, _, code := run(t, args...)
		if code != 0 || !strings.Contains(out, "USAGE") {
			t.Errorf("credanchor %s: exit %d, output %q", strings.Join(args, " "), code, out)
		}
	}
}

func TestEnvVarsNameFlags(t *testing.T) {
	_, stderr, code := run(t, "--log.level", "loud", "verify", "--rpc", "http://127.0.0.1:1", "--receipt", "r", "x")
	if code == 0 || !strings.Contains(stderr, "--log.level") {
		t.Fatalf("bad --log.level: exit %d, stderr %q", code, stderr)
	}
	cmd := exec.Command(binary, "verify", "--receipt", "r", "x")
	cmd.Env = append(os.Environ(), "CREDANCHOR_LOG_FORMAT=xml", "CREDANCHOR_RPC=http://127.0.0.1:1")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), `unknown format "xml"`) {
		t.Fatalf("CREDANCHOR_LOG_FORMAT was not read: %s", out)
	}
}

// sampleCredentials are three credentials signed by the test consortium's
// member (testnet.ExampleIssuerKey), and an unsigned one last; the tests
// anchor their digests in one batch.
var sampleCredentials = append(samples(testnet.ExampleIssuerKey),
	`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:web:uni.example","credentialSubject":{"id":"did:example:ada"}}`)

// unsignedSample is the index of the unsigned sample credential.
const unsignedSample = 3

func TestVerifyWithOnlyTheChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	chain, err := testnet.New(ctx, testnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	receipts, reg := anchoredReceipts(ctx, t, chain)
	dir := t.TempDir()
	files := make([]string, len(sampleCredentials))
	for i, c := range sampleCredentials {
		files[i] = filepath.Join(dir, fmt.Sprintf("cred%d", i))
		if err := os.WriteFile(files[i], []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
		writeJSON(t, files[i]+".receipt", receipts[i])
	}
	rpc := chain.RPCURL()
	for i := range files {
		out, stderr, code := run(t, "verify", "--rpc", rpc, "--receipt", files[i]+".receipt", files[i])
		if i == unsignedSample {
			// Anchored by the member, but signed by no one: not its credential.
			if code != 1 || !strings.Contains(out, "FAIL  proof") || !strings.Contains(out, "PASS  anchored-on-chain") ||
				!strings.Contains(out, "FAIL  member-at-anchor") || !strings.Contains(out, "NOT verified") {
				t.Fatalf("verify of the unsigned credential: exit %d\n%s%s", code, out, stderr)
			}
			continue
		}
		if code != 0 || !strings.Contains(out, "\nverified\n") {
			t.Fatalf("verify of credential %d: exit %d\n%s%s", i, code, out, stderr)
		}
		for _, check := range []string{"digest", "structure", "proof", "issuer", "validity", "inclusion", "anchored-on-chain", "member-at-anchor"} {
			if !strings.Contains(out, "PASS  "+check) {
				t.Errorf("credential %d: no passing %s check in\n%s", i, check, out)
			}
		}
	}
	out, _, code := run(t, "verify", "--json", "--rpc", rpc, "--registry", reg.Hex(), "--receipt", files[0]+".receipt", files[0])
	var v struct {
		Verified bool
		Anchor   struct{ MemberName string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || !v.Verified || v.Anchor.MemberName != "Example University" {
		t.Fatalf("verify --json: exit %d\n%s", code, out)
	}

	// One changed byte in the credential: the failing check is named.
	tampered := filepath.Join(dir, "tampered")
	if err := os.WriteFile(tampered, []byte(strings.Replace(sampleCredentials[0], "ada", "adb", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "verify", "--rpc", rpc, "--receipt", files[0]+".receipt", tampered)
	if code != 1 || !strings.Contains(out, "FAIL  inclusion") || !strings.Contains(out, "NOT verified") {
		t.Fatalf("verify of a tampered credential: exit %d\n%s", code, out)
	}
	// Another registry than the receipt's.
	out, _, code = run(t, "verify", "--rpc", rpc, "--registry", "0x0000000000000000000000000000000000000001", "--receipt", files[0]+".receipt", files[0])
	if code != 1 || !strings.Contains(out, "FAIL  anchored-on-chain") {
		t.Fatalf("verify against another registry: exit %d\n%s", code, out)
	}
	// A changed byte in the receipt is a readable error.
	bad := filepath.Join(dir, "bad.receipt")
	r := *receipts[0]
	r.LeafIndex++
	writeJSON(t, bad, r)
	_, stderr, code := run(t, "verify", "--rpc", rpc, "--receipt", bad, files[0])
	if code != 1 || !strings.Contains(stderr, "malformed receipt") {
		t.Fatalf("verify with a tampered receipt: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = run(t, "verify", "--rpc", rpc, "--receipt", bad, filepath.Join(dir, "missing"))
	if code != 1 || !strings.Contains(stderr, "no such file") {
		t.Fatalf("verify of a missing file: exit %d, stderr %q", code, stderr)
	}
}

// anchoredReceipts anchors the sample credentials in one batch and returns
// their receipts and the registry.
func anchoredReceipts(ctx context.Context, t *testing.T, chain *testnet.DevChain) ([]*anchor.Receipt, common.Address) {
	t.Helper()
	c, err := testnet.DeployConsortium(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	reg, nodeKey := c.Registry, c.NodeKey
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds := make([]merkle.Hash, len(sampleCredentials))
	raw := make([][32]byte, len(sampleCredentials))
	for i, c := range sampleCredentials {
		form := credential.FormJSON
		if c[0] != '{' {
			form = credential.FormJWT
		}
		d, err := credential.Digest([]byte(c), form)
		if err != nil {
			t.Fatal(err)
		}
		ds[i], raw[i] = d, d
	}
	tree, err := merkle.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBatch(&store.Batch{Root: tree.Root(), Size: uint64(len(ds)), CreatedAt: time.Now()}, raw); err != nil {
		t.Fatal(err)
	}
	a, err := anchor.New(anchor.Config{Backend: chain.Client(), Store: st, Registry: reg, Key: nodeKey})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
		b, err := st.Batch(tree.Root())
		if err != nil {
			t.Fatal(err)
		}
		if b.State == store.BatchConfirmed {
			var rs []*anchor.Receipt
			for i, d := range ds {
				r, err := anchor.NewReceipt(tree, uint64(i), d, anchor.AnchorInfo{
					ChainID: chain.ChainID().Uint64(), Contract: reg, TxHash: b.TxHash, BlockNumber: b.BlockNumber, Member: b.Member,
				})
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, r)
			}
			return rs, reg
		}
		select {
		case <-ctx.Done():
			t.Fatal("batch not confirmed before the deadline")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDevnet runs the README's first command as a newcomer would: start
// `credanchor devnet`, submit a credential over HTTP with the printed token,
// watch it get anchored, fetch its receipt, verify it with `credanchor verify`
// against the devnet's chain, and restart on the same data dir: the same
// chain, registry and credential are there.
func TestDevnet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "devnet")
	first := startDevnet(t, dir)
	info := readDevnetInfo(t, dir)
	if info.HTTP != first.http || info.RPC != first.rpc || info.Contract != first.registry || info.Token == "" || info.ChainID != testnet.ChainID {
		t.Fatalf("devnet.json = %+v, printed %+v", info, first)
	}
	for _, f := range []string{"nodekey", "token", "devnet.json", "issuer.key"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	devKey, err := loadIssuerKey(filepath.Join(dir, "issuer.key"))
	if err != nil {
		t.Fatal(err)
	}
	devSamples := samples(devKey)
	if id, _ := node.NewDIDKeyIssuer(devKey, ""); info.IssuerDID != id.DID {
		t.Fatalf("devnet.json issuer DID %q, want the did:key of issuer.key %s", info.IssuerDID, id.DID)
	}

	post := func(cred string) *http.Response {
		req, _ := http.NewRequest("POST", info.HTTP+"/v1/credentials", strings.NewReader(cred))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+info.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := post(devSamples[0])
	var sub struct{ Digest, State string }
	json.NewDecoder(resp.Body).Decode(&sub)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || sub.State != "pending" {
		t.Fatalf("submit: %d %+v", resp.StatusCode, sub)
	}
	// The devnet takes only its institution's signed credentials.
	resp = post(sampleCredentials[unsignedSample])
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("submit of an unsigned credential: %d, want 422", resp.StatusCode)
	}
	receipt := pollReceipt(t, info.HTTP, sub.Digest)

	files := t.TempDir()
	credFile, receiptFile := filepath.Join(files, "cred.json"), filepath.Join(files, "receipt.json")
	os.WriteFile(credFile, []byte(devSamples[0]), 0o600)
	os.WriteFile(receiptFile, receipt, 0o600)
	out, stderr, code := run(t, "verify", "--rpc", info.RPC, "--receipt", receiptFile, credFile)
	if code != 0 || !strings.Contains(out, "Devnet University") || !strings.Contains(out, "\nverified\n") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, stderr)
	}

	// credanchor issue: the devnet signs an unsigned credential as its
	// institution and anchors it.
	unsignedFile, issuedFile := filepath.Join(files, "unsigned.json"), filepath.Join(files, "issued.json")
	os.WriteFile(unsignedFile, []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:issued"}}`), 0o600)
	out, stderr, code = run(t, "issue", "--node", info.HTTP, "--token", info.Token, "--out", issuedFile, unsignedFile)
	if code != 0 || !strings.Contains(stderr, "issued 0x") {
		t.Fatalf("issue: exit %d\n%s%s", code, out, stderr)
	}
	issued, err := os.ReadFile(issuedFile)
	if err != nil || !strings.Contains(string(issued), info.IssuerDID) || !strings.Contains(string(issued), "eddsa-rdfc-2022") {
		t.Fatalf("issued credential %s: %v", issued, err)
	}
	issuedDigest, _ := digestOfJSON(string(issued))
	os.WriteFile(receiptFile, pollReceipt(t, info.HTTP, issuedDigest), 0o600)
	// Its status lists are published on their own clock, at once for a
	// new list: poll until they are out.
	deadline := time.Now().Add(time.Minute)
	for {
		out, stderr, code = run(t, "verify", "--rpc", info.RPC, "--receipt", receiptFile, issuedFile)
		if code == 0 && strings.Contains(out, "PASS  member-at-anchor") && strings.Contains(out, "PASS  status") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("verify of the issued credential: exit %d\n%s%s", code, out, stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, stderr, code = run(t, "issue", "--node", info.HTTP, "--token", info.Token, "--format", "jwt", unsignedFile)
	if code != 0 || !strings.HasPrefix(out, "ey") || strings.Count(out, ".") != 2 {
		t.Fatalf("issue --format jwt: exit %d\n%s%s", code, out, stderr)
	}
	_, stderr, code = run(t, "issue", "--node", info.HTTP, "--token", info.Token, "--format", "cbor", unsignedFile)
	if code != 1 || !strings.Contains(stderr, "400") {
		t.Fatalf("issue --format cbor: exit %d, stderr %q", code, stderr)
	}

	// The same through the CLI: submit a directory in bulk, fetch a receipt.
	subDir := t.TempDir()
	for i, c := range append(devSamples, sampleCredentials[unsignedSample]) {
		os.WriteFile(filepath.Join(subDir, fmt.Sprintf("c%d", i)), []byte(c), 0o600)
	}
	os.WriteFile(filepath.Join(subDir, "broken.json"), []byte(`{"not json`), 0o600)
	out, stderr, code = run(t, "submit", "--node", info.HTTP, "--token", info.Token, "--chunk", "2", subDir)
	if code != 1 || !strings.Contains(out, "3 submitted, 2 refused") || !strings.Contains(out, "broken.json") || !strings.Contains(out, "c3: Not a credential of this node's institution") {
		t.Fatalf("submit: exit %d\n%s%s", code, out, stderr)
	}
	_, stderr, code = run(t, "submit", "--node", info.HTTP, "--token", "wrong", subDir)
	if code != 1 || !strings.Contains(stderr, "401") {
		t.Fatalf("submit with a wrong token: exit %d, stderr %q", code, stderr)
	}
	last, _ := digestOfJSON(devSamples[1])
	pollReceipt(t, info.HTTP, last)
	out, stderr, code = run(t, "receipt", "--node", info.HTTP, last)
	if code != 0 || !strings.Contains(out, `"CredanchorReceipt"`) {
		t.Fatalf("receipt: exit %d\n%s%s", code, out, stderr)
	}
	_, stderr, code = run(t, "receipt", "--node", info.HTTP, "0x1234")
	if code != 1 || !strings.Contains(stderr, "400") {
		t.Fatalf("receipt of a bad digest: exit %d, stderr %q", code, stderr)
	}
	first.stop(t)

	second := startDevnet(t, dir)
	if second.registry != first.registry {
		t.Errorf("restart deployed a new registry %s, want %s", second.registry, first.registry)
	}
	if again := readDevnetInfo(t, dir); again.IssuerDID != info.IssuerDID {
		t.Errorf("restart: issuer DID %s, want the registry's %s", again.IssuerDID, info.IssuerDID)
	}
	info = readDevnetInfo(t, dir)
	resp, err = http.Get(info.HTTP + "/v1/credentials/" + sub.Digest + "/receipt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("receipt after restart: %d", resp.StatusCode)
	}
	second.stop(t)
}

func readDevnetInfo(t *testing.T, dir string) devnetInfo {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "devnet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var info devnetInfo
	if err := json.Unmarshal(data, &info); err != nil {
		t.Fatal(err)
	}
	return info
}

// pollReceipt asks the node for a receipt until it has one.
func pollReceipt(t *testing.T, node, digest string) []byte {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(node + "/v1/credentials/" + digest + "/receipt")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return body
		}
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("receipt: %d %s", resp.StatusCode, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no receipt within two minutes")
	return nil
}

// child is a credanchor process a test runs as a user would.
type child struct {
	cmd  *exec.Cmd
	done chan error // receives the process's exit
	log  logTail    // its standard error
}

// startChild runs the binary with args and waits until its standard output
// has matched every pattern (one group each), whose groups it returns in
// order. The process's log (its standard error) is shown if the test fails.
func startChild(t *testing.T, args []string, patterns ...string) (*child, []string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), args[0]+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile.Close()
	log := logTail{logPath}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", args[0], log.String())
		}
	})
	c := &child{cmd: cmd, done: make(chan error, 1), log: log}
	res := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		res[i] = regexp.MustCompile(p)
	}
	values := make([]string, len(patterns))
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		missing := len(patterns)
		for sc.Scan() {
			for i, re := range res {
				if m := re.FindStringSubmatch(sc.Text()); m != nil && values[i] == "" {
					values[i] = m[1]
					if missing--; missing == 0 {
						close(ready)
					}
				}
			}
		}
		c.done <- cmd.Wait()
	}()
	select {
	case <-ready:
	case err := <-c.done:
		t.Fatalf("%s exited before it was ready: %v\n%s", args[0], err, log.String())
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("%s not ready after 2 minutes:\n%s", args[0], log.String())
	}
	return c, values
}

// kill ends the process with SIGKILL, as a crash would.
func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// stop asks the process to stop (SIGINT) and checks it exits cleanly.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("%s did not stop cleanly: %v", c.cmd.Args[1], err)
		}
	case <-time.After(time.Minute):
		c.cmd.Process.Kill()
		t.Fatalf("%s did not stop within a minute of SIGINT", c.cmd.Args[1])
	}
}

// startCluster starts an in-process consortium (testnet/cluster) for the
// test, closed when it ends.
func startCluster(t *testing.T, cfg cluster.Config) *cluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// startGethConsortium starts geth --dev with testnet.DeployConsortium's
// registry on it, for the test; geth stops when the test ends.
func startGethConsortium(t *testing.T) (*testnet.Geth, *testnet.Consortium) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	geth, err := testnet.StartGeth(ctx, testnet.GethConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { geth.Close() })
	c, err := testnet.DeployConsortium(ctx, geth)
	if err != nil {
		t.Fatal(err)
	}
	return geth, c
}

// devnetProc is a running `credanchor devnet`.
type devnetProc struct {
	*child
	http, rpc string
	registry  common.Address
}

func startDevnet(t *testing.T, dir string) *devnetProc {
	t.Helper()
	c, v := startChild(t, []string{"devnet", "--data", dir, "--rpc", "127.0.0.1:0", "--http", "127.0.0.1:0", "--batch.wait", "100ms"},
		`HTTP API:\s+(http://127\.0\.0\.1:\d+)`, `chain RPC:\s+(http://127\.0\.0\.1:\d+)`, `registry:\s+(0x[0-9a-fA-F]{40})`)
	return &devnetProc{child: c, http: v[0], rpc: v[1], registry: common.HexToAddress(v[2])}
}

func decodeJSONBody(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// logTail reads the end of a child's log file.
type logTail struct{ path string }

func (l logTail) String() string {
	data, _ := os.ReadFile(l.path)
	if len(data) > 8000 {
		data = data[len(data)-8000:]
	}
	return string(data)
}

// TestBenchHTTP runs `credanchor bench http` small, so that the command the
// notes quote keeps working.
func TestBenchHTTP(t *testing.T) {
	out, stderr, code := run(t, "bench", "http", "--credentials", "2000", "--single", "200", "--duration", "1s", "--clients", "8")
	if code != 0 {
		t.Fatalf("bench http: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"single submissions: 200 in", "(0 failed)", "bulk submissions:   2000 in", "req/s, p50"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "non-2xx") {
		t.Errorf("wrk saw errors:\n%s", out)
	}
}
