package testnet

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

// GethChainID is the chain id of every `geth --dev` chain.
const GethChainID = 1337

const (
	// gethStartTimeout bounds the wait for a started geth to answer RPC,
	// whatever ctx allows: geth that has not answered by then is stuck.
	gethStartTimeout = 2 * time.Minute
	// gethStopTimeout is how long Close waits after SIGINT before SIGKILL.
	gethStopTimeout = 30 * time.Second
	// gethLogName is geth's log file in its data dir.
	gethLogName = "geth.log"
)

// GethConfig configures a `geth --dev` process. The zero value is valid: a
// geth of GethVersion on a temporary data dir, with DefaultKeys funded keys.
type GethConfig struct {
	// Binary is the geth executable. Empty means BuildGeth's, which looks at
	// $CREDANCHOR_GETH and then builds or reuses a cached geth.
	Binary string

	// DataDir is geth's --datadir. Empty means a new temporary dir that Close
	// removes. A given dir is kept: geth --dev reopens the chain in it, with
	// the same dev account.
	DataDir string

	// Keys is how many deterministic dev keys (DevKeys) StartGeth funds from
	// geth's dev account. Zero means DefaultKeys. Each key that holds less
	// than half of DevBalance is topped up to DevBalance; on a reopened data
	// dir that is usually none.
	Keys int

	// Accounts are further addresses StartGeth funds like the keys.
	Accounts []common.Address
}

// Geth is a running `geth --dev` process: go-ethereum's own dev rules (with
// Bogota on, unlike ChainConfig), chain id GethChainID, a block for each
// transaction, JSON-RPC over HTTP on 127.0.0.1, no IPC and no P2P.
type Geth struct {
	cmd     *exec.Cmd
	pid     int
	exited  chan struct{} // closed once cmd.Wait returns
	dataDir string
	tempDir bool

	url     string
	rpc     *rpc.Client
	client  *ethclient.Client
	chainID *big.Int
	faucet  common.Address
	keys    []*ecdsa.PrivateKey

	closeOnce sync.Once
	closeErr  error
}

var _ Chain = (*Geth)(nil)

// StartGeth starts `geth --dev --dev.period 0` with JSON-RPC on 127.0.0.1 at
// a port geth picks, waits until it answers, and funds the dev keys and Accounts from geth's dev account
// (eth_accounts[0]). ctx bounds the start (including a geth build by
// BuildGeth); the process runs until Close.
//
// geth writes its log to geth.log in its data dir; start errors quote its
// last lines.
func StartGeth(ctx context.Context, cfg GethConfig) (*Geth, error) {
	nkeys, err := keyCount(cfg.Keys)
	if err != nil {
		return nil, err
	}
	bin := cfg.Binary
	if bin == "" {
		if bin, err = BuildGeth(ctx); err != nil {
			return nil, err
		}
	}
	g := &Geth{dataDir: cfg.DataDir, keys: DevKeys(nkeys)}
	if g.dataDir == "" {
		if g.dataDir, err = os.MkdirTemp("", "credanchor-geth-"); err != nil {
			return nil, fmt.Errorf("testnet: geth data dir: %w", err)
		}
		g.tempDir = true
	} else if err := os.MkdirAll(g.dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("testnet: geth data dir: %w", err)
	}
	if err := g.start(ctx, bin, cfg); err != nil {
		return nil, errors.Join(err, g.Close())
	}
	return g, nil
}

func (g *Geth) start(ctx context.Context, bin string, cfg GethConfig) error {
	if err := g.launch(ctx, bin); err != nil {
		return err
	}
	return g.fund(ctx, fundedAddresses(g.keys, cfg.Accounts))
}

// launch starts geth and waits until it serves the dev chain. geth binds
// HTTP port 0, any free port, and logs which: unlike a port picked here and
// handed over, no other process can take it in between.
func (g *Geth) launch(ctx context.Context, bin string) error {
	logPath := filepath.Join(g.dataDir, gethLogName)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("testnet: geth log: %w", err)
	}
	defer logFile.Close() // geth holds its own descriptor
	// The log is kept across runs on a given data dir; only what this run
	// writes counts.
	logStart, err := logFile.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("testnet: geth log: %w", err)
	}
	cmd := exec.Command(bin,
		"--dev", "--dev.period", "0",
		"--datadir", g.dataDir,
		"--http", "--http.addr", loopback, "--http.port", "0",
		"--http.api", strings.Join(httpModules, ","),
		"--http.corsdomain", "*",
		// The engine API is not served in dev mode; port 0 keeps it from
		// ever colliding if it were.
		"--authrpc.addr", loopback, "--authrpc.port", "0",
		"--ipcdisable",
		"--nodiscover", "--maxpeers", "0", "--port", "0", "--nat", "none",
		// Info level, for the HTTP server line and for diagnostics.
		"--verbosity", "3",
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = gethProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testnet: start geth: %w", err)
	}
	g.cmd = cmd
	g.pid = cmd.Process.Pid
	g.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait() // exit status is in cmd.ProcessState
		close(g.exited)
	}()
	return g.waitReady(ctx, logPath, logStart)
}

// waitReady waits until geth logs its HTTP endpoint and then answers
// eth_chainId there, until geth exits, or until the start times out.
func (g *Geth) waitReady(ctx context.Context, logPath string, logStart int64) error {
	ctx, cancel := context.WithTimeout(ctx, gethStartTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var (
		rc      *rpc.Client
		lastErr error
	)
	defer func() {
		if rc != nil && g.rpc == nil {
			rc.Close()
		}
	}()
	for {
		if rc == nil {
			if endpoint := findEndpoint(logPath, logStart); endpoint != "" {
				g.url = "http://" + endpoint
				var err error
				if rc, err = rpc.DialContext(ctx, g.url); err != nil {
					return fmt.Errorf("testnet: dial geth at %s: %w", g.url, err)
				}
			}
		}
		if rc != nil {
			var id hexutil.Big
			callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
			lastErr = rc.CallContext(callCtx, &id, "eth_chainId")
			callCancel()
			if lastErr == nil {
				if id.ToInt().Cmp(big.NewInt(GethChainID)) != 0 {
					return fmt.Errorf("%w: geth serves chain id %v, want %d", ErrChainIDMismatch, id.ToInt(), GethChainID)
				}
				g.rpc = rc
				g.client = ethclient.NewClient(rc)
				g.chainID = big.NewInt(GethChainID)
				return nil
			}
		}
		select {
		case <-g.exited:
			return fmt.Errorf("%w during start (%s); log %s:\n%s",
				ErrGethExited, g.cmd.ProcessState, logPath, tailFile(logPath, logStart, 20))
		case <-ctx.Done():
			return fmt.Errorf("testnet: geth did not answer at %q: %w (last error %v); log %s:\n%s",
				g.url, ctx.Err(), lastErr, logPath, tailFile(logPath, logStart, 20))
		case <-tick.C:
		}
	}
}

// findEndpoint returns the HTTP endpoint geth logged after offset from, or ""
// before it has.
func findEndpoint(logPath string, from int64) string {
	f, err := os.Open(logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return ""
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if endpoint := httpEndpoint(sc.Text()); endpoint != "" {
			return endpoint
		}
	}
	return ""
}

// httpEndpoint parses the line in which geth logs the address its JSON-RPC
// server bound,
//
//	INFO [11-25|14:57:31.740] HTTP server started    endpoint=127.0.0.1:36695 auth=false prefix= ...
//
// and returns "" for any other line, including the engine API's (auth=true).
func httpEndpoint(line string) string {
	_, rest, ok := strings.Cut(line, "HTTP server started")
	if !ok {
		return ""
	}
	var endpoint string
	auth := false
	for _, field := range strings.Fields(rest) {
		k, v, _ := strings.Cut(field, "=")
		switch k {
		case "endpoint":
			endpoint = v
		case "auth":
			auth = v != "false"
		}
	}
	if auth {
		return ""
	}
	return endpoint
}

// fund tops up to DevBalance every address holding less than half of it (on
// a reopened data dir, the dev keys are usually funded already), from the dev
// account, and waits for the receipts.
func (g *Geth) fund(ctx context.Context, addrs []common.Address) error {
	var accounts []common.Address
	if err := g.rpc.CallContext(ctx, &accounts, "eth_accounts"); err != nil {
		return fmt.Errorf("testnet: geth eth_accounts: %w", err)
	}
	if len(accounts) == 0 {
		return errors.New("testnet: geth --dev has no dev account")
	}
	g.faucet = accounts[0]
	half := new(big.Int).Rsh(DevBalance, 1)
	var hashes []common.Hash
	for _, addr := range addrs {
		bal, err := g.client.BalanceAt(ctx, addr, nil)
		if err != nil {
			return fmt.Errorf("testnet: balance of %s: %w", addr, err)
		}
		if bal.Cmp(half) >= 0 {
			continue
		}
		var hash common.Hash
		tx := map[string]any{
			"from":  g.faucet,
			"to":    addr,
			"value": (*hexutil.Big)(new(big.Int).Sub(DevBalance, bal)),
		}
		if err := g.rpc.CallContext(ctx, &hash, "eth_sendTransaction", tx); err != nil {
			return fmt.Errorf("testnet: fund %s from dev account %s: %w", addr, g.faucet, err)
		}
		hashes = append(hashes, hash)
	}
	for _, h := range hashes {
		r, err := waitReceipt(ctx, g.client, h)
		if err != nil {
			return err
		}
		if r.Status != types.ReceiptStatusSuccessful {
			return fmt.Errorf("testnet: funding transaction %s failed", h)
		}
	}
	return nil
}

// RPCURL returns geth's JSON-RPC endpoint, http://127.0.0.1:PORT.
func (g *Geth) RPCURL() string { return g.url }

// Client returns a client of RPCURL shared by all callers. Do not close it;
// Close does.
func (g *Geth) Client() *ethclient.Client { return g.client }

// ChainID returns GethChainID.
func (g *Geth) ChainID() *big.Int { return new(big.Int).Set(g.chainID) }

// Keys returns the funded dev keys, DevKeys(GethConfig.Keys).
func (g *Geth) Keys() []*ecdsa.PrivateKey { return slices.Clone(g.keys) }

// DevAccount returns geth's own unlocked dev account, which holds nearly
// 2^256 wei and signs eth_sendTransaction calls.
func (g *Geth) DevAccount() common.Address { return g.faucet }

// DataDir returns geth's data dir; its log is geth.log in it.
func (g *Geth) DataDir() string { return g.dataDir }

// Pid returns the process id of geth (of the last one started, once closed).
func (g *Geth) Pid() int { return g.pid }

// Close stops geth (SIGINT, then SIGKILL if it has not exited after 30 s) and
// removes the data dir if StartGeth created it. It is safe to call more than
// once; later calls return the first call's result.
func (g *Geth) Close() error {
	g.closeOnce.Do(func() {
		if g.client != nil {
			g.client.Close() // also closes g.rpc
		}
		g.closeErr = g.stop()
		if g.tempDir {
			if err := os.RemoveAll(g.dataDir); err != nil {
				g.closeErr = errors.Join(g.closeErr, fmt.Errorf("testnet: remove geth data dir: %w", err))
			}
		}
	})
	return g.closeErr
}

// stop ends the geth process, if one runs, and waits for it.
func (g *Geth) stop() error {
	if g.cmd == nil {
		return nil
	}
	defer func() { g.cmd = nil }()
	select {
	case <-g.exited:
		return nil
	default:
	}
	if err := g.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("testnet: interrupt geth: %w", err)
	}
	timer := time.NewTimer(gethStopTimeout)
	defer timer.Stop()
	select {
	case <-g.exited:
		return nil
	case <-timer.C:
	}
	if err := g.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("testnet: kill geth: %w", err)
	}
	<-g.exited
	return fmt.Errorf("testnet: geth did not stop within %v of SIGINT and was killed", gethStopTimeout)
}
