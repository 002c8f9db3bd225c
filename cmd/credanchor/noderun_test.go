package main

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/testnet"
	"github.com/credanchor/credanchor/testnet/cluster"
)

// nodeProc is a running `credanchor node run`.
type nodeProc struct {
	*child
	http string
}

func startNode(t *testing.T, args ...string) *nodeProc {
	t.Helper()
	c, v := startChild(t, append([]string{"node", "run"}, args...), `HTTP API:\s+(http://127\.0\.0\.1:\d+)`)
	return &nodeProc{child: c, http: v[0]}
}

// TestNodeRunOnGethSurvivesSIGKILL runs `credanchor node run` against a real
// geth --dev that stays up, kills the node with SIGKILL while credentials
// stream in, restarts it, and checks that every acknowledged credential is
// anchored exactly once; then, with the node stopped, `credanchor verify`
// proves one with nothing but geth's RPC.
func TestNodeRunOnGethSurvivesSIGKILL(t *testing.T) {
	geth, c := startGethConsortium(t)
	reg, nodeKey := c.Registry, c.NodeKey
	dir := t.TempDir()
	keyFile, tokenFile, data := filepath.Join(dir, "nodekey"), filepath.Join(dir, "tokens"), filepath.Join(dir, "data")
	if err := crypto.SaveECDSA(keyFile, nodeKey); err != nil {
		t.Fatal(err)
	}
	const token = "test-issuer-token"
	if err := os.WriteFile(tokenFile, []byte("# issuers\n"+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The node issues as the member's did:key and takes only credentials
	// signed by it.
	issuerKeyFile := filepath.Join(dir, "issuer.key")
	if err := os.WriteFile(issuerKeyFile, []byte(hex.EncodeToString(testnet.ExampleIssuerKey.Seed())), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "node.json")
	writeJSON(t, config, map[string]any{"rpc": geth.RPCURL(), "registry": reg.Hex(), "batch.wait": "100ms"})
	args := []string{"--config", config, "--key", keyFile, "--token-file", tokenFile, "--data", data, "--http", "127.0.0.1:0",
		"--issuer-key", issuerKeyFile, "--issuer-name", "Example University"}

	p := startNode(t, args...)
	s := startStream(p.http, token, testnet.ExampleIssuerKey)
	s.waitAcked(300)
	p.kill()
	acked := s.stop()
	t.Logf("%d credentials acknowledged before SIGKILL", len(acked))

	p = startNode(t, args...)
	var receipt []byte
	for _, d := range acked {
		receipt = pollReceipt(t, p.http, d)
	}
	last := acked[len(acked)-1]
	p.stop(t)

	checkExactlyOnce(t, data, acked)

	// The node is gone; geth is all a learner needs.
	credFile, receiptFile := filepath.Join(dir, "cred.json"), filepath.Join(dir, "receipt.json")
	n := int64(0)
	for i := int64(1); i <= s.next.Load(); i++ {
		body := streamCredential(testnet.ExampleIssuerKey, i)
		if dd, _ := digestOfJSON(body); dd == last {
			n = i
			os.WriteFile(credFile, []byte(body), 0o600)
			break
		}
	}
	if n == 0 {
		t.Fatal("could not find the credential of the last acknowledged digest")
	}
	os.WriteFile(receiptFile, receipt, 0o600)
	out, stderr, code := run(t, "verify", "--rpc", geth.RPCURL(), "--registry", reg.Hex(), "--receipt", receiptFile, credFile)
	if code != 0 || !strings.Contains(out, "Example University") {
		t.Fatalf("verify with the node stopped: exit %d\n%s%s", code, out, stderr)
	}
}

// TestNodeRunCatchUpProgress: `credanchor node run --progress plain` for a
// member whose node was down while another member anchored three batches
// catches up from that member's node over libp2p, and its standard error
// shows the totals from the first progress line to the last.
func TestNodeRunCatchUpProgress(t *testing.T) {
	c := startCluster(t, cluster.Config{Nodes: 2, P2P: true})
	if err := c.StopNode(1); err != nil {
		t.Fatal(err)
	}
	a := c.Institutions[0]
	var credentials, batches int
	for size := 4; size <= 6; size++ {
		items := make([]node.Item, size)
		for i := range items {
			items[i] = node.Item{Data: fmt.Appendf(nil, `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:%d-%d"}}`, size, i), Form: credential.FormJSON}
		}
		var last string
		for _, r := range a.Node().SubmitMany(items) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			last = r.Submission.Digest.String()
		}
		// One batch at a time: the next waits for this one's receipt.
		pollReceipt(t, a.URL, last)
		credentials += size
		batches++
	}
	// GossipSub offers a message to peers that join for three heartbeats
	// (of a second): after that the batches come by catch-up only.
	time.Sleep(4 * time.Second)

	dir := t.TempDir()
	keyFile := filepath.Join(dir, "nodekey")
	if err := crypto.SaveECDSA(keyFile, c.Institutions[1].NodeKey); err != nil {
		t.Fatal(err)
	}
	args := []string{"--rpc", c.Chain.RPCURL(), "--registry", c.Registry.Hex(), "--key", keyFile, "--data", filepath.Join(dir, "data"),
		"--http", "127.0.0.1:0", "--p2p.listen", "/ip4/127.0.0.1/tcp/0", "--progress", "plain", "--rpc.log-range", "2"}
	for _, addr := range a.PeerAddrs {
		args = append(args, "--p2p.bootstrap", addr)
	}
	p := startNode(t, args...)
	line := regexp.MustCompile(`catch-up: (\d+)/(\d+) batches, (\d+)/(\d+) credentials \((\d+)%\), block (\d+)/(\d+)(.*)`)
	var lines [][]string
	deadline := time.Now().Add(time.Minute)
	for {
		lines = line.FindAllStringSubmatch(p.log.String(), -1)
		if len(lines) > 0 && strings.HasPrefix(lines[len(lines)-1][8], ", done in ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no catch-up done within a minute:\n%s", p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The totals are known from the first line: a late node lacks all three
	// batches. A first try may stop before a peer is connected.
	total := fmt.Sprintf("%d/%d", batches, credentials)
	for _, l := range lines {
		if got := l[2] + "/" + l[4]; got != total {
			t.Errorf("%q: totals %s batches/credentials, want %s", l[0], got, total)
		}
	}
	if end := lines[len(lines)-1]; end[1] != end[2] || end[3] != end[4] || end[5] != "100" || end[6] != end[7] {
		t.Errorf("last line %q, want every batch and credential stored up to the head", end[0])
	}
	resp, err := http.Get(p.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics := string(mustReadAll(t, resp))
	for _, want := range []string{
		fmt.Sprintf("credanchor_catchup_batches_total %d\n", batches),
		"credanchor_catchup_remaining_batches 0\n",
		"credanchor_catchup_remaining_credentials 0\n",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	p.stop(t)
}
