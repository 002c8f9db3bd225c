package testnet

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
)

// httpModules are the JSON-RPC namespaces both kinds of dev chain serve over
// HTTP. "dev" is go-ethereum's simulated beacon API (dev_addWithdrawal,
// dev_setFeeRecipient).
var httpModules = []string{"eth", "net", "web3", "debug", "dev"}

// loopback is the only address a dev chain listens on.
const loopback = "127.0.0.1"

// instanceName is the node's folder inside Config.DataDir. It is fixed (and
// the same as geth's) so that every program finds the chain a test or the
// devnet command left there, and geth's own tools can inspect it.
const instanceName = "geth"

// Config configures an in-process dev chain. The zero value is a valid,
// ephemeral chain with DefaultKeys funded dev keys.
type Config struct {
	// DataDir holds the chain on disk, so that it survives Close and a crash
	// (SIGKILL) of the process. Empty means in memory: the chain ends with
	// Close.
	//
	// An existing DataDir must be reopened with the same Keys, Accounts and
	// ChainConfig it was created with.
	DataDir string

	// Keys is how many deterministic dev keys (DevKeys) the genesis funds with
	// DevBalance each. Zero means DefaultKeys.
	Keys int

	// Accounts are further addresses the genesis funds with DevBalance each.
	Accounts []common.Address

	// HTTPPort is the JSON-RPC port on 127.0.0.1. Zero means any free port;
	// RPCURL tells which.
	HTTPPort int

	// ChainConfig are the chain's fork rules and chain id. Nil means
	// ChainConfig().
	ChainConfig *params.ChainConfig

	// BlockPeriod is the time between blocks, in whole seconds. Zero means a
	// block as soon as a transaction arrives (and no block without one).
	BlockPeriod time.Duration

	// Logger receives the node's own log records. Nil means go-ethereum's
	// root logger, which is silent unless the process installed one.
	Logger *slog.Logger
}

// DevChain is an in-process go-ethereum dev node: full sync, blocks sealed by
// go-ethereum's simulated beacon, JSON-RPC over HTTP on 127.0.0.1.
type DevChain struct {
	stack  *node.Node
	client *ethclient.Client
	// transport is client's: Close closes its idle connections.
	transport *http.Transport
	url       string
	chainID   *big.Int
	keys      []*ecdsa.PrivateKey

	closeOnce sync.Once
	closeErr  error
}

var _ Chain = (*DevChain)(nil)

// New starts an in-process dev chain. ctx bounds the wait for its JSON-RPC
// endpoint to answer; the chain itself runs until Close.
//
// Reopening a DataDir checks the stored chain before touching it, and returns
// ErrChainIDMismatch, ErrChainConfigMismatch or ErrGenesisMismatch when it was
// made with another configuration.
func New(ctx context.Context, cfg Config) (*DevChain, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nkeys, err := keyCount(cfg.Keys)
	if err != nil {
		return nil, err
	}
	if cfg.HTTPPort < 0 || cfg.HTTPPort > 65535 {
		return nil, fmt.Errorf("testnet: HTTP port %d out of range", cfg.HTTPPort)
	}
	if cfg.BlockPeriod < 0 || cfg.BlockPeriod%time.Second != 0 {
		return nil, fmt.Errorf("testnet: block period %v is not a whole number of seconds", cfg.BlockPeriod)
	}
	chainCfg := ChainConfig()
	if cfg.ChainConfig != nil {
		// The running chain keeps its config; the caller keeps theirs.
		chainCfg = copyConfig(cfg.ChainConfig)
	}
	if chainCfg.ChainID == nil || chainCfg.ChainID.Sign() <= 0 {
		return nil, fmt.Errorf("testnet: chain config has no chain id")
	}
	keys := DevKeys(nkeys)
	alloc := make(types.GenesisAlloc)
	for _, addr := range fundedAddresses(keys, cfg.Accounts) {
		alloc[addr] = types.Account{Balance: new(big.Int).Set(DevBalance)}
	}
	genesis := Genesis(chainCfg, alloc)

	stack, err := node.New(nodeConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("testnet: create node in %q: %w", cfg.DataDir, err)
	}
	dc, err := start(ctx, stack, cfg, genesis)
	if err != nil {
		return nil, errors.Join(err, stack.Close())
	}
	dc.keys = keys
	return dc, nil
}

// nodeConfig is the node half of the dev node: HTTP on loopback only, no IPC,
// no WebSocket, and a P2P server that neither listens nor dials.
func nodeConfig(cfg Config) *node.Config {
	conf := node.DefaultConfig
	conf.Name = instanceName
	conf.DataDir = cfg.DataDir
	conf.IPCPath = ""
	conf.HTTPHost = loopback
	conf.HTTPPort = cfg.HTTPPort
	conf.HTTPModules = slices.Clone(httpModules)
	// The verifier page's chain-only mode calls the RPC from a browser,
	// whose page is served from another origin (a node).
	conf.HTTPCors = []string{"*"}
	conf.WSHost = ""
	conf.AuthAddr = loopback
	conf.P2P = p2p.Config{
		MaxPeers:    0,
		ListenAddr:  "",
		NoDiscovery: true,
		NoDial:      true,
	}
	if cfg.Logger != nil {
		conf.Logger = log.NewLogger(cfg.Logger.Handler())
	}
	return &conf
}

// ethConfig is the chain half of the dev node.
func ethConfig(cfg Config, genesis *core.Genesis) *ethconfig.Config {
	conf := ethconfig.Defaults
	conf.Genesis = genesis
	conf.NetworkId = genesis.Config.ChainID.Uint64()
	conf.SyncMode = ethconfig.FullSync
	conf.TxPool.NoLocals = true
	conf.Miner.GasPrice = new(big.Int).Set(ethconfig.Defaults.Miner.GasPrice)
	// The simulated beacon seals again and again while the pool holds an
	// executable transaction the miner will not take. A tip below the miner's
	// minimum would keep it spinning forever, so the pool refuses such a
	// transaction up front (txpool.ErrTxGasPriceTooLow).
	conf.TxPool.PriceLimit = conf.Miner.GasPrice.Uint64()
	if cfg.DataDir != "" {
		// The path scheme keeps recent state in memory and, after a SIGKILL,
		// rewinds the chain to genesis. The hash scheme without pruning
		// writes every block's state through, so a crash loses at most the
		// few newest blocks that were not yet synced.
		conf.StateScheme = rawdb.HashScheme
		conf.NoPruning = true
		// A block killed half-written leaves the head without its state, and
		// go-ethereum then rewinds to the snapshot's disk layer, which can
		// lag many blocks behind. Without snapshots it rewinds only to the
		// newest block whose state was written: every block before the kill
		// survives.
		conf.SnapshotCache = 0
	}
	return &conf
}

// start assembles the services on stack, starts it, and connects a client.
// The caller closes stack when start fails.
func start(ctx context.Context, stack *node.Node, cfg Config, genesis *core.Genesis) (*DevChain, error) {
	if cfg.DataDir != "" {
		if err := checkStoredChain(stack, genesis); err != nil {
			return nil, err
		}
	}
	backend, err := eth.New(stack, ethConfig(cfg, genesis))
	if err != nil {
		var mismatch *core.GenesisMismatchError
		if errors.As(err, &mismatch) {
			return nil, fmt.Errorf("%w: %w", ErrGenesisMismatch, err)
		}
		return nil, fmt.Errorf("testnet: start eth service: %w", err)
	}
	// eth.New does not serve the log filter API (cmd/geth adds it too).
	filterSystem := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{
		Namespace: "eth",
		Service:   filters.NewFilterAPI(filterSystem),
	}})
	beacon, err := catalyst.NewSimulatedBeacon(uint64(cfg.BlockPeriod/time.Second), common.Address{}, backend)
	if err != nil {
		return nil, fmt.Errorf("testnet: create simulated beacon: %w", err)
	}
	// The lifecycle stops the beacon before the eth service. With a period
	// of 0 our miner seals on each transaction; with one, the beacon's own
	// loop seals on time and the API adds nothing that could race it.
	stack.RegisterLifecycle(beacon)
	if cfg.BlockPeriod == 0 {
		stack.RegisterLifecycle(newMiner(backend, beacon))
	} else {
		catalyst.RegisterSimulatedBeaconAPIs(stack, beacon)
	}
	if err := stack.Start(); err != nil {
		return nil, fmt.Errorf("testnet: start node: %w", err)
	}
	want := genesis.Config.ChainID
	if got := backend.BlockChain().Config().ChainID; got.Cmp(want) != 0 {
		return nil, fmt.Errorf("%w: chain runs with id %v, want %v", ErrChainIDMismatch, got, want)
	}
	url := stack.HTTPEndpoint()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	client, err := dialChain(ctx, url, want, &http.Client{Transport: transport})
	if err != nil {
		return nil, err
	}
	return &DevChain{
		stack:     stack,
		client:    client,
		transport: transport,
		url:       url,
		chainID:   new(big.Int).Set(want),
	}, nil
}

// checkStoredChain compares the chain stored in stack's data dir, if any,
// with genesis before go-ethereum opens it: go-ethereum would adopt a new
// chain config silently, or rewind the chain to apply it.
func checkStoredChain(stack *node.Node, genesis *core.Genesis) error {
	if _, err := os.Stat(stack.ResolvePath("chaindata")); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := stack.OpenDatabaseWithOptions("chaindata", node.DatabaseOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("testnet: open stored chain: %w", err)
	}
	defer db.Close()
	ghash := rawdb.ReadCanonicalHash(db, 0)
	if ghash == (common.Hash{}) {
		return nil // created but never initialised
	}
	stored := rawdb.ReadChainConfig(db, ghash)
	if stored == nil {
		return nil // go-ethereum checks the genesis hash itself
	}
	want := genesis.Config
	if stored.ChainID == nil || stored.ChainID.Cmp(want.ChainID) != 0 {
		return fmt.Errorf("%w: data dir holds chain id %v, want %v", ErrChainIDMismatch, stored.ChainID, want.ChainID)
	}
	storedJSON, err := json.Marshal(stored)
	if err != nil {
		return fmt.Errorf("testnet: encode stored chain config: %w", err)
	}
	wantJSON, err := json.Marshal(want)
	if err != nil {
		return fmt.Errorf("testnet: encode chain config: %w", err)
	}
	if !bytes.Equal(storedJSON, wantJSON) {
		return fmt.Errorf("%w: data dir differs in %s", ErrChainConfigMismatch, configDiff(storedJSON, wantJSON))
	}
	if h := genesis.ToBlock().Hash(); h != ghash {
		return fmt.Errorf("%w: data dir holds genesis %s, want %s (other Keys or Accounts?)", ErrGenesisMismatch, ghash, h)
	}
	return nil
}

// configDiff names the top-level chain config fields that differ between two
// JSON encodings, with their stored and wanted values.
func configDiff(stored, want []byte) string {
	var a, b map[string]json.RawMessage
	if json.Unmarshal(stored, &a) != nil || json.Unmarshal(want, &b) != nil {
		return "its encoding"
	}
	var diffs []string
	for k := range a {
		if _, ok := b[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s (stored %s, want none)", k, a[k]))
		}
	}
	for k, v := range b {
		if old, ok := a[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s (stored none, want %s)", k, v))
		} else if !bytes.Equal(old, v) {
			diffs = append(diffs, fmt.Sprintf("%s (stored %s, want %s)", k, old, v))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, ", ")
}

// dialChain connects to a JSON-RPC endpoint over HTTP with hc and checks
// that it serves the expected chain.
func dialChain(ctx context.Context, url string, want *big.Int, hc *http.Client) (*ethclient.Client, error) {
	rc, err := rpc.DialOptions(ctx, url, rpc.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("testnet: dial %s: %w", url, err)
	}
	client := ethclient.NewClient(rc)
	got, err := client.ChainID(ctx)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("testnet: chain id from %s: %w", url, err)
	}
	if want != nil && got.Cmp(want) != 0 {
		client.Close()
		return nil, fmt.Errorf("%w: %s serves chain id %v, want %v", ErrChainIDMismatch, url, got, want)
	}
	return client, nil
}

// RPCURL returns the JSON-RPC endpoint, http://127.0.0.1:PORT.
func (c *DevChain) RPCURL() string { return c.url }

// Client returns a client of RPCURL shared by all callers. Do not close it;
// Close does.
func (c *DevChain) Client() *ethclient.Client { return c.client }

// ChainID returns the chain id, Config.ChainConfig's (ChainID by default).
func (c *DevChain) ChainID() *big.Int { return new(big.Int).Set(c.chainID) }

// Keys returns the funded dev keys, DevKeys(Config.Keys).
func (c *DevChain) Keys() []*ecdsa.PrivateKey { return slices.Clone(c.keys) }

// Close stops the node and releases its data dir. A chain on disk is kept
// and can be reopened with New. Close is safe to call more than once; later
// calls return the first call's result.
func (c *DevChain) Close() error {
	c.closeOnce.Do(func() {
		c.client.Close()
		// The node's RPC server waits for every connection to go idle, and
		// net/http counts one the client dialed but never sent a request on
		// (a dial that lost the race to a connection freed meanwhile) idle
		// only after 5 s: Close took that long now and then, inside
		// whatever timed it.
		c.transport.CloseIdleConnections()
		if err := c.stack.Close(); err != nil {
			c.closeErr = fmt.Errorf("testnet: close node: %w", err)
		}
	})
	return c.closeErr
}
