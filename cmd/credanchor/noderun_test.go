package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/testnet"
)

// nodeProc is a `credanchor node run` child process.
type nodeProc struct {
	cmd  *exec.Cmd
	http string
	done chan error
}

func startNode(t *testing.T, args ...string) *nodeProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"node", "run"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "node.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile.Close()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node log:\n%s", logTail{logPath}.String())
		}
	})
	p := &nodeProc{cmd: cmd, done: make(chan error, 1)}
	httpRe := regexp.MustCompile(`HTTP API:\s+(http://127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := httpRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		p.done <- cmd.Wait()
	}()
	select {
	case p.http = <-found:
	case err := <-p.done:
		t.Fatalf("node exited before it was ready: %v\n%s", err, logTail{logPath}.String())
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("node not ready within a minute")
	}
	return p
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
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	acked := s.stop()
	t.Logf("%d credentials acknowledged before SIGKILL", len(acked))

	p = startNode(t, args...)
	var receipt []byte
	for _, d := range acked {
		receipt = pollReceipt(t, p.http, d)
	}
	last := acked[len(acked)-1]
	p.cmd.Process.Signal(syscall.SIGINT)
	if err := <-p.done; err != nil {
		t.Fatalf("node did not stop cleanly: %v", err)
	}

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
