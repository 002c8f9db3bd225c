package main

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/testnet"
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
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	geth, err := testnet.StartGeth(ctx, testnet.GethConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer geth.Close()
	c, err := testnet.DeployConsortium(ctx, geth)
	if err != nil {
		t.Fatal(err)
	}
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
