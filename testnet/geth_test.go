package testnet

import (
	"context"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// startGeth starts geth --dev for a test, failing (never skipping) when no
// geth can be found or built: CI must run these tests.
func startGeth(ctx context.Context, t *testing.T, cfg GethConfig) *Geth {
	t.Helper()
	begin := time.Now()
	g, err := StartGeth(ctx, cfg)
	if err != nil {
		t.Fatalf("StartGeth: %v (prebuild geth %s at the path GethCachePath gives, or set %s)", err, GethVersion(), GethEnv)
	}
	t.Logf("geth pid %d started in %v, RSS %s", g.Pid(), time.Since(begin).Round(time.Millisecond), rss(g.Pid()))
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return g
}

// rss reads a process's resident set size from /proc, for the test log.
func rss(pid int) string {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func TestGeth(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), gethTimeout)
	defer cancel()
	extra := common.HexToAddress("0x00000000000000000000000000000000000beef2")
	g := startGeth(ctx, t, GethConfig{Keys: 1, Accounts: []common.Address{extra}})
	c := g.Client()

	if g.DevAccount() == (common.Address{}) {
		t.Errorf("no dev account")
	}
	keys := g.Keys()
	if len(keys) != 1 {
		t.Fatalf("got %d keys, want 1", len(keys))
	}
	for _, addr := range []common.Address{crypto.PubkeyToAddress(keys[0].PublicKey), extra} {
		if bal, err := c.BalanceAt(ctx, addr, nil); err != nil || bal.Cmp(DevBalance) != 0 {
			t.Errorf("balance of %s = %v, %v; want %v", addr, bal, err, DevBalance)
		}
	}
	to := common.HexToAddress("0x00000000000000000000000000000000c0ffee06")
	r := sendTx(ctx, t, c, keys[0], &to, big.NewInt(99), nil)
	if r.Status != 1 {
		t.Fatalf("transfer failed: %+v", r)
	}
	if bal, err := c.BalanceAt(ctx, to, nil); err != nil || bal.Cmp(big.NewInt(99)) != 0 {
		t.Errorf("recipient balance = %v, %v; want 99", bal, err)
	}
	t.Logf("geth RSS after transactions: %s", rss(g.Pid()))

	dir := g.DataDir()
	if err := g.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary data dir %s left behind: %v", dir, err)
	}
}

func TestGethReopen(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), gethTimeout)
	defer cancel()
	dir := t.TempDir()
	to := common.HexToAddress("0x00000000000000000000000000000000c0ffee07")

	g, err := StartGeth(ctx, GethConfig{DataDir: dir})
	if err != nil {
		t.Fatalf("StartGeth: %v", err)
	}
	sendTx(ctx, t, g.Client(), g.Keys()[0], &to, big.NewInt(5), nil)
	head, err := g.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	dev := g.DevAccount()
	if err := g.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, gethLogName)); err != nil {
		t.Errorf("given data dir not kept: %v", err)
	}

	// geth --dev reopens the chain in a given data dir with the same dev
	// account, and the keys, funded already, are not funded again.
	g = startGeth(ctx, t, GethConfig{DataDir: dir})
	c := g.Client()
	// The old head is on the reopened chain. geth may mine a block of
	// its own after the test read the head (a funding transaction still in
	// its pool, on a loaded machine), so the head itself may have moved on.
	got, err := c.HeaderByNumber(ctx, head.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != head.Hash() {
		t.Errorf("block %d after reopen = %s, want the old head %s", head.Number, got.Hash(), head.Hash())
	}
	if g.DevAccount() != dev {
		t.Errorf("dev account after reopen = %s, want %s", g.DevAccount(), dev)
	}
	if bal, err := c.BalanceAt(ctx, to, nil); err != nil || bal.Cmp(big.NewInt(5)) != 0 {
		t.Errorf("balance after reopen = %v, %v; want 5", bal, err)
	}
	sendTx(ctx, t, c, g.Keys()[1], &to, big.NewInt(5), nil)
}

func TestBuildGethWrongEnv(t *testing.T) {
	// Not parallel: it sets the environment, and BuildGeth's cached answer
	// must not hide the variable.
	saved := gethPath
	gethPath = ""
	t.Cleanup(func() { gethPath = saved })

	fake := filepath.Join(t.TempDir(), "geth")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho Geth\necho Version: 0.0.1-stable\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(GethEnv, fake)
	_, err := BuildGeth(context.Background())
	if !errors.Is(err, ErrGethVersion) {
		t.Fatalf("BuildGeth with %s=%s: %v, want %v", GethEnv, fake, err, ErrGethVersion)
	}
	t.Logf("BuildGeth: %v", err)
}

func TestRelease(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"v1.17.10", "1.17.10"},
		{"1.17.10-stable", "1.17.10"},
		{"1.17.10-stable-abcdef12", "1.17.10"},
		{"v1.17.11-0.20260101000000-abcdef123456", "1.17.11"},
		{"v1.17.10+incompatible", "1.17.10"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := release(tt.in); got != tt.want {
			t.Errorf("release(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStartGethFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		want    error
	}{
		{"exits", "echo Fatal: boom >&2; exit 3", chainTimeout, ErrGethExited},
		{"never logs its endpoint", "echo Fatal: boom >&2; sleep 1; exit 0", chainTimeout, ErrGethExited},
		{
			"does not answer",
			"echo 'INFO HTTP server started   endpoint=127.0.0.1:1 auth=false'; echo boom; exec sleep 60",
			2 * time.Second, context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bin := filepath.Join(t.TempDir(), "geth")
			if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+tt.script+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			g, err := StartGeth(ctx, GethConfig{Binary: bin, DataDir: dir})
			if err == nil {
				g.Close()
				t.Fatalf("StartGeth succeeded, want %v", tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("StartGeth: %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), "boom") {
				t.Errorf("error does not quote geth's log: %v", err)
			}
			t.Logf("StartGeth: %v", err)
		})
	}
}

func TestHTTPEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct{ line, want string }{
		{"INFO [11-25|14:57:31.740] HTTP server started                      endpoint=127.0.0.1:36695 auth=false prefix= cors= vhosts=localhost", "127.0.0.1:36695"},
		{"INFO [11-25|14:57:31.740] HTTP server started endpoint=127.0.0.1:8551 auth=true prefix= cors=localhost vhosts=localhost", ""},
		{"INFO [11-25|14:57:31.740] Starting peer-to-peer node instance=Geth/v1.17.10", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := httpEndpoint(tt.line); got != tt.want {
			t.Errorf("httpEndpoint(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}
