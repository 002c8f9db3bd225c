package testnet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
)

// startDev starts a DevChain that the test closes when it ends.
func startDev(ctx context.Context, t *testing.T, cfg Config) *DevChain {
	t.Helper()
	dc, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := dc.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return dc
}

func TestChainConfigRules(t *testing.T) {
	t.Parallel()
	zero := new(big.Int)
	tests := []struct {
		name                             string
		cfg                              *params.ChainConfig
		prague, osaka, bogota, amsterdam bool
	}{
		{"ChainConfig", ChainConfig(), true, true, false, false},
		{"DefaultDevChainConfig", DefaultDevChainConfig(), true, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.ChainID; got.Cmp(big.NewInt(ChainID)) != 0 {
				t.Errorf("ChainID = %v, want %d", got, ChainID)
			}
			for _, f := range []struct {
				fork      string
				got, want bool
			}{
				{"Prague", tt.cfg.IsPrague(zero, 0), tt.prague},
				{"Osaka", tt.cfg.IsOsaka(zero, 0), tt.osaka},
				{"Bogota", tt.cfg.IsBogota(zero, 0), tt.bogota},
				{"Amsterdam", tt.cfg.IsAmsterdam(zero, 0), tt.amsterdam},
			} {
				if f.got != f.want {
					t.Errorf("Is%s = %v, want %v", f.fork, f.got, f.want)
				}
			}
		})
	}
	// The copies are whole: changing one changes neither go-ethereum's
	// global config nor the next copy.
	global, err := json.Marshal(params.AllDevChainProtocolChanges)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []*params.ChainConfig{ChainConfig(), DefaultDevChainConfig()} {
		*cfg.OsakaTime = 12345
		cfg.BlobScheduleConfig.Prague.Max = 99
	}
	if after, _ := json.Marshal(params.AllDevChainProtocolChanges); !bytes.Equal(global, after) {
		t.Errorf("changing a copy changed params.AllDevChainProtocolChanges")
	}
	if cfg := ChainConfig(); *cfg.OsakaTime != 0 || cfg.BlobScheduleConfig.Prague.Max == 99 {
		t.Errorf("changing a copy changed the next ChainConfig()")
	}
	// Apart from the chain id and the two forks, the rules are geth's.
	want := *params.AllDevChainProtocolChanges
	want.ChainID = big.NewInt(ChainID)
	want.BogotaTime, want.AmsterdamTime = nil, nil
	wantJSON, _ := json.Marshal(&want)
	if got, _ := json.Marshal(ChainConfig()); !bytes.Equal(got, wantJSON) {
		t.Errorf("ChainConfig() = %s, want %s", got, wantJSON)
	}
}

func TestNewInvalidConfig(t *testing.T) {
	t.Parallel()
	noID := ChainConfig()
	noID.ChainID = nil
	tests := []struct {
		name string
		cfg  Config
	}{
		{"negative keys", Config{Keys: -1}},
		{"port out of range", Config{HTTPPort: 70000}},
		{"fractional period", Config{BlockPeriod: 1500 * time.Millisecond}},
		{"negative period", Config{BlockPeriod: -time.Second}},
		{"no chain id", Config{ChainConfig: noID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dc, err := New(context.Background(), tt.cfg)
			if err == nil {
				dc.Close()
				t.Fatalf("New(%+v) succeeded, want an error", tt.cfg)
			}
		})
	}
}

func TestDevChainAccounts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), chainTimeout)
	defer cancel()
	extra := common.HexToAddress("0x00000000000000000000000000000000000beef1")
	dc := startDev(ctx, t, Config{Keys: 2, Accounts: []common.Address{extra}})
	keys := dc.Keys()
	if len(keys) != 2 {
		t.Fatalf("got %d keys, want 2", len(keys))
	}
	for _, addr := range []common.Address{crypto.PubkeyToAddress(keys[0].PublicKey), crypto.PubkeyToAddress(keys[1].PublicKey), extra} {
		if bal, err := dc.Client().BalanceAt(ctx, addr, nil); err != nil || bal.Cmp(DevBalance) != 0 {
			t.Errorf("balance of %s = %v, %v; want %v", addr, bal, err, DevBalance)
		}
	}
	// Keys returns a copy.
	keys[0] = nil
	if dc.Keys()[0] == nil {
		t.Errorf("Keys returned the chain's own slice")
	}
}

func TestDevChainUnderpricedTip(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), chainTimeout)
	defer cancel()
	dc := startDev(ctx, t, Config{})
	c := dc.Client()
	to := common.HexToAddress("0x00000000000000000000000000000000c0ffee02")
	// A tip the miner would never take is refused when sent, instead of
	// waiting in the pool forever.
	low := signTxTip(ctx, t, c, dc.Keys()[0], &to, big.NewInt(1), nil, big.NewInt(params.GWei/1000-1))
	if err := c.SendTransaction(ctx, low); err == nil || !strings.Contains(err.Error(), txpool.ErrTxGasPriceTooLow.Error()) {
		t.Fatalf("sending a tip below 0.001 gwei: err = %v, want %q", err, txpool.ErrTxGasPriceTooLow)
	}
	ok := signTxTip(ctx, t, c, dc.Keys()[0], &to, big.NewInt(1), nil, big.NewInt(params.GWei/1000))
	if err := c.SendTransaction(ctx, ok); err != nil {
		t.Fatalf("sending a tip of 0.001 gwei: %v", err)
	}
	if _, err := waitReceipt(ctx, c, ok.Hash()); err != nil {
		t.Fatal(err)
	}
}

func TestDevChainBlockPeriod(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), chainTimeout)
	defer cancel()
	dc := startDev(ctx, t, Config{BlockPeriod: time.Second})
	// Blocks come without transactions; wait for two.
	for {
		n, err := dc.Client().BlockNumber(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n >= 2 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("still at block %d: %v", n, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestDevChainReopen(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), chainTimeout)
	defer cancel()
	dir := t.TempDir()
	to := common.HexToAddress("0x00000000000000000000000000000000c0ffee03")
	value := big.NewInt(777)

	dc, err := New(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r := sendTx(ctx, t, dc.Client(), dc.Keys()[0], &to, value, nil)
	head, err := dc.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := dc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := dc.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// The data dir is locked while a chain runs in it.
	dc = startDev(ctx, t, Config{DataDir: dir})
	if other, err := New(ctx, Config{DataDir: dir}); err == nil {
		other.Close()
		t.Fatalf("second chain on the same data dir started")
	}
	c := dc.Client()
	got, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != head.Hash() {
		t.Errorf("head after reopen = %d %s, want %d %s", got.Number, got.Hash(), head.Number, head.Hash())
	}
	if bal, err := c.BalanceAt(ctx, to, nil); err != nil || bal.Cmp(value) != 0 {
		t.Errorf("balance after reopen = %v, %v; want %v", bal, err, value)
	}
	if rr, err := c.TransactionReceipt(ctx, r.TxHash); err != nil || rr.BlockHash != r.BlockHash {
		t.Errorf("receipt after reopen = %+v, %v; want block %s", rr, err, r.BlockHash)
	}
	// The reopened chain mines on.
	sendTx(ctx, t, c, dc.Keys()[1], &to, value, nil)
}

func TestDevChainReopenMismatch(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), chainTimeout)
	defer cancel()
	dir := t.TempDir()
	dc, err := New(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	to := common.HexToAddress("0x00000000000000000000000000000000c0ffee04")
	sendTx(ctx, t, dc.Client(), dc.Keys()[0], &to, big.NewInt(1), nil)
	head, err := dc.Client().BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := dc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	geth1337 := *params.AllDevChainProtocolChanges
	geth1337.BogotaTime = nil
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"other chain id", Config{DataDir: dir, ChainConfig: &geth1337}, ErrChainIDMismatch},
		{"bogota on", Config{DataDir: dir, ChainConfig: DefaultDevChainConfig()}, ErrChainConfigMismatch},
		{"other keys", Config{DataDir: dir, Keys: 2}, ErrGenesisMismatch},
		{"other accounts", Config{DataDir: dir, Accounts: []common.Address{to}}, ErrGenesisMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dc, err := New(ctx, tt.cfg)
			if err == nil {
				dc.Close()
				t.Fatalf("New succeeded, want %v", tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("New: %v, want %v", err, tt.want)
			}
			t.Logf("New: %v", err)
		})
	}
	// The refused opens left the chain as it was.
	dc = startDev(ctx, t, Config{DataDir: dir})
	if got, err := dc.Client().BlockNumber(ctx); err != nil || got != head {
		t.Errorf("head after refused opens = %d, %v; want %d", got, err, head)
	}
}

// Environment of the helper process that TestDevChainSIGKILL kills.
const (
	helperEnv    = "CREDANCHOR_TESTNET_HELPER"
	helperDirEnv = "CREDANCHOR_TESTNET_HELPER_DATADIR"
	helperReady  = "HELPER-READY"
)

var killRecipient = common.HexToAddress("0x00000000000000000000000000000000c0ffee05")

// TestHelperProcess is not a test: TestDevChainSIGKILL runs the test binary
// again with only this function and helperEnv set, to get a process that
// holds a chain and can be killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "sigkill" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), chainTimeout)
	defer cancel()
	dc, err := New(ctx, Config{DataDir: os.Getenv(helperDirEnv)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c := dc.Client()
	keys := dc.Keys()
	r := sendTx(ctx, t, c, keys[0], &killRecipient, big.NewInt(4242), nil)
	// DESIGN: a SIGKILL may lose the newest few blocks, which were written
	// without sync. Bury the transfer under more blocks than that.
	self := crypto.PubkeyToAddress(keys[1].PublicKey)
	for range 8 {
		sendTx(ctx, t, c, keys[1], &self, big.NewInt(1), nil)
	}
	head, err := c.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s %s %d %d\n", helperReady, r.TxHash.Hex(), r.BlockNumber.Uint64(), head)
	os.Stdout.Sync()
	// Wait to be killed; end anyway if the parent went away.
	<-ctx.Done()
	t.Fatal("helper process was not killed")
}

func TestDevChainSIGKILL(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), chainTimeout)
	defer cancel()
	dir := t.TempDir()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=sigkill", helperDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})

	// The reader forwards the ready line and keeps the rest of the helper's
	// output (its test log) for a failure message.
	lines := make(chan string)
	var output strings.Builder
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), helperReady) {
				lines <- sc.Text()
			} else {
				output.WriteString(sc.Text() + "\n")
			}
		}
	}()
	var ready string
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatalf("helper ended without reporting (%v):\n%s", cmd.Wait(), output.String())
		}
		ready = l
	case <-ctx.Done():
		t.Fatalf("helper did not report: %v", ctx.Err())
	}
	fields := strings.Fields(ready)
	if len(fields) != 4 {
		t.Fatalf("helper said %q", ready)
	}
	txHash := common.HexToHash(fields[1])
	txBlock, err1 := strconv.ParseUint(fields[2], 10, 64)
	headBefore, err2 := strconv.ParseUint(fields[3], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("helper said %q: %v", ready, err)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatalf("kill helper: %v", err)
	}
	killed = true
	if err := cmd.Wait(); err == nil {
		t.Fatalf("helper exited cleanly, want killed")
	}
	for range lines { // let the reader finish
	}

	dc := startDev(ctx, t, Config{DataDir: dir})
	c := dc.Client()
	head, err := c.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("head %d before SIGKILL, %d after; transfer in block %d", headBefore, head, txBlock)
	if head < txBlock {
		t.Fatalf("chain rewound to %d, before the transfer's block %d", head, txBlock)
	}
	r, err := c.TransactionReceipt(ctx, txHash)
	if err != nil {
		t.Fatalf("receipt of the transfer after SIGKILL: %v", err)
	}
	if r.Status != types.ReceiptStatusSuccessful || r.BlockNumber.Uint64() != txBlock {
		t.Errorf("receipt after SIGKILL: status %d in block %d, want 1 in %d", r.Status, r.BlockNumber, txBlock)
	}
	if bal, err := c.BalanceAt(ctx, killRecipient, nil); err != nil || bal.Cmp(big.NewInt(4242)) != 0 {
		t.Errorf("recipient balance after SIGKILL = %v, %v; want 4242", bal, err)
	}
	// The chain goes on from where it was left.
	sendTx(ctx, t, c, dc.Keys()[2], &killRecipient, big.NewInt(1), nil)
}
