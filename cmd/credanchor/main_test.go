package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
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
	for _, args := range [][]string{{"--help"}, {"devnet", "--help"}, {"receipt", "--help"}, {"receipt", "verify", "--help"}} {
		out, _, code := run(t, args...)
		if code != 0 || !strings.Contains(out, "USAGE") {
			t.Errorf("credanchor %s: exit %d, output %q", strings.Join(args, " "), code, out)
		}
	}
}

func TestEnvVarsNameFlags(t *testing.T) {
	_, stderr, code := run(t, "--log.level", "loud", "receipt", "verify", "--rpc", "http://127.0.0.1:1", "x")
	if code == 0 || !strings.Contains(stderr, "--log.level") {
		t.Fatalf("bad --log.level: exit %d, stderr %q", code, stderr)
	}
	cmd := exec.Command(binary, "receipt", "verify", "x")
	cmd.Env = append(os.Environ(), "CREDANCHOR_LOG_FORMAT=xml", "CREDANCHOR_RPC=http://127.0.0.1:1")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), `unknown format "xml"`) {
		t.Fatalf("CREDANCHOR_LOG_FORMAT was not read: %s", out)
	}
}

func TestReceiptVerify(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	chain, err := testnet.New(ctx, testnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	receipt := anchoredReceipt(ctx, t, chain)
	dir := t.TempDir()
	good := filepath.Join(dir, "receipt.json")
	writeJSON(t, good, receipt)

	out, stderr, code := run(t, "receipt", "verify", "--rpc", chain.RPCURL(), good)
	if code != 0 {
		t.Fatalf("verify of a good receipt: exit %d\n%s%s", code, out, stderr)
	}
	var res receiptResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if !res.Verified || res.Member != receipt.Member.Hex() || res.BlockNumber != receipt.BlockNumber || res.Confirmations == 0 {
		t.Fatalf("result = %+v", res)
	}

	// Another credential's digest: refused, with the reason.
	other := merkle.Hash(sha256.Sum256([]byte("another credential")))
	out, _, code = run(t, "receipt", "verify", "--rpc", chain.RPCURL(), "--digest", other.String(), good)
	if code != 1 || !strings.Contains(out, `"verified": false`) || !strings.Contains(out, "digest does not match") {
		t.Fatalf("verify with another digest: exit %d\n%s", code, out)
	}

	// A tampered receipt is a readable error, not a crash.
	bad := filepath.Join(dir, "bad.json")
	tampered := *receipt
	tampered.LeafIndex++
	writeJSON(t, bad, tampered)
	_, stderr, code = run(t, "receipt", "verify", "--rpc", chain.RPCURL(), bad)
	if code != 1 || !strings.Contains(stderr, "malformed receipt") {
		t.Fatalf("verify of a tampered receipt: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = run(t, "receipt", "verify", "--rpc", chain.RPCURL(), filepath.Join(dir, "missing.json"))
	if code != 1 || !strings.Contains(stderr, "no such file") {
		t.Fatalf("verify of a missing file: exit %d, stderr %q", code, stderr)
	}
}

// anchoredReceipt anchors a batch of three digests on chain and returns the
// receipt of the middle one.
func anchoredReceipt(ctx context.Context, t *testing.T, chain *testnet.DevChain) *anchor.Receipt {
	t.Helper()
	member, nodeKey := chain.Keys()[0], chain.Keys()[1]
	reg, err := anchor.DeployRegistry(ctx, chain.Client(), member, []anchor.Member{{
		Address: crypto.PubkeyToAddress(member.PublicKey), DID: "did:web:uni.example", Name: "Example University",
	}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := anchor.AuthorizeKey(ctx, chain.Client(), reg, member, crypto.PubkeyToAddress(nodeKey.PublicKey)); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds := []merkle.Hash{sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b")), sha256.Sum256([]byte("c"))}
	tree, err := merkle.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBatch(&store.Batch{Root: tree.Root(), Size: 3, CreatedAt: time.Now()}, [][32]byte{ds[0], ds[1], ds[2]}); err != nil {
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
			r, err := anchor.NewReceipt(tree, 1, ds[1], anchor.AnchorInfo{
				ChainID: chain.ChainID().Uint64(), Contract: reg, TxHash: b.TxHash, BlockNumber: b.BlockNumber, Member: b.Member,
			})
			if err != nil {
				t.Fatal(err)
			}
			return r
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

// TestDevnet starts `credanchor devnet` as a newcomer would, checks the chain
// it serves holds the registry with the node key authorised, and restarts it
// on the same data dir: the registry is reused, not deployed again.
func TestDevnet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "devnet")
	first := startDevnet(t, dir)
	client, err := ethclient.Dial(first.rpc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	code, err := client.CodeAt(ctx, first.registry, nil)
	if err != nil || len(code) == 0 {
		t.Fatalf("no registry code at %s: %v", first.registry, err)
	}
	info, err := os.Stat(filepath.Join(dir, "nodekey"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("node key file mode %v, want 0600", info.Mode().Perm())
	}
	client.Close()
	first.stop(t)

	second := startDevnet(t, dir)
	if second.registry != first.registry {
		t.Errorf("restart deployed a new registry %s, want %s", second.registry, first.registry)
	}
	second.stop(t)
}

type devnetProc struct {
	cmd      *exec.Cmd
	rpc      string
	registry common.Address
	done     chan error
}

func startDevnet(t *testing.T, dir string) *devnetProc {
	t.Helper()
	cmd := exec.Command(binary, "devnet", "--datadir", dir, "--rpc.port", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &devnetProc{cmd: cmd, done: make(chan error, 1)}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	rpcRe := regexp.MustCompile(`chain RPC:\s+(http://127\.0\.0\.1:\d+)`)
	regRe := regexp.MustCompile(`registry:\s+(0x[0-9a-fA-F]{40})`)
	deadline := time.After(2 * time.Minute)
	for p.rpc == "" || p.registry == (common.Address{}) {
		select {
		case line, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("devnet exited before it was ready:\n%s", stderr.String())
			}
			if m := rpcRe.FindStringSubmatch(line); m != nil {
				p.rpc = m[1]
			}
			if m := regRe.FindStringSubmatch(line); m != nil {
				p.registry = common.HexToAddress(m[1])
			}
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("devnet not ready after 2 minutes:\n%s", stderr.String())
		}
	}
	go func() {
		for range lines {
		}
		p.done <- cmd.Wait()
	}()
	return p
}

func (p *devnetProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("devnet did not stop cleanly: %v", err)
		}
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		t.Fatal("devnet did not stop within a minute of SIGINT")
	}
}
