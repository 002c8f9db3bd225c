package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/httpapi"
	"github.com/credanchor/credanchor/node/webfetch"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
)

// Defaults of the devnet command.
const (
	DefaultDevnetDir  = "credanchor-devnet"
	DefaultDevnetHTTP = "127.0.0.1:8080"
	DefaultDevnetRPC  = "127.0.0.1:8545"
)

var (
	dataFlag = &cli.PathFlag{
		Name:     "data",
		Usage:    "directory of the dev chain, the node key, the issuer token and the Pebble store",
		Value:    DefaultDevnetDir,
		Category: catStorage,
		EnvVars:  envVars("data"),
	}
	httpFlag = &cli.StringFlag{
		Name:     "http",
		Usage:    "loopback address of the node's HTTP API (port 0: any free port)",
		Value:    DefaultDevnetHTTP,
		Category: catAPI,
		EnvVars:  envVars("http"),
	}
	devRPCFlag = &cli.StringFlag{
		Name:     "rpc",
		Usage:    "loopback address of the dev chain's JSON-RPC (port 0: any free port)",
		Value:    DefaultDevnetRPC,
		Category: catChain,
		EnvVars:  envVars("rpc"),
	}
	batchSizeFlag = &cli.IntFlag{
		Name:     "batch.size",
		Usage:    "close a batch when this many credentials wait",
		Value:    node.DefaultMaxBatchSize,
		Category: catNode,
		EnvVars:  envVars("batch.size"),
	}
	batchWaitFlag = &cli.DurationFlag{
		Name:     "batch.wait",
		Usage:    "close a batch when its oldest credential has waited this long",
		Value:    node.DefaultMaxBatchWait,
		Category: catNode,
		EnvVars:  envVars("batch.wait"),
	}
	// devStatusIntervalFlag is --status.interval with a devnet's shorter
	// default, so that a revocation shows within seconds.
	devStatusIntervalFlag = &cli.DurationFlag{
		Name:     statusIntervalFlag.Name,
		Usage:    statusIntervalFlag.Usage,
		Value:    2 * time.Second,
		Category: catNode,
		EnvVars:  statusIntervalFlag.EnvVars,
	}
)

var devnetCommand = &cli.Command{
	Name:  "devnet",
	Usage: "run a node on its own dev chain: nothing to install, everything kept in --data",
	Description: `Starts an in-process go-ethereum dev chain (Prague/Osaka rules, every block
persisted so that even a SIGKILL loses nothing) serving JSON-RPC on --rpc,
deploys the consortium registry on first start with this node's institution as
its member, authorises the node key, and runs the node with its HTTP API on
--http. Creates the institution's Ed25519 issuer key (issuer.key) on first start; its
did:key is the member DID the registry is deployed with, and only credentials
it signed are accepted (POST /v1/issue signs them). Prints the addresses, the
chain id, the contract, the issuer DID and the issuer token, and writes them to
devnet.json in --data. Ctrl-C stops it; the next start with
the same --data continues the same chain and store.`,
	Flags:  []cli.Flag{configFlag, dataFlag, httpFlag, devRPCFlag, batchSizeFlag, batchWaitFlag, devStatusIntervalFlag},
	Before: loadConfigFile,
	Action: runDevnet,
}

// devMember is the devnet's one consortium member. Its key is the first
// public dev key of testnet, never a secret; its DID is the did:key of the
// devnet's issuer key (issuer.key in --data), set when the registry is
// deployed.
var devMember = anchor.Member{Name: "Devnet University"}

// devnetInfo is devnet.json: what scripts need to talk to the devnet.
type devnetInfo struct {
	HTTP     string         `json:"http"`
	RPC      string         `json:"rpc"`
	ChainID  uint64         `json:"chainId"`
	Contract common.Address `json:"contract"`
	Token    string         `json:"token"`
	// IssuerDID is the institution's DID: the member DID in the registry.
	IssuerDID string `json:"issuerDid"`
}

func runDevnet(c *cli.Context) error {
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := c.Path(dataFlag.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	rpcPort, err := loopbackPort(c.String(devRPCFlag.Name))
	if err != nil {
		return fmt.Errorf("--rpc: %w", err)
	}
	if _, err := loopbackPort(c.String(httpFlag.Name)); err != nil {
		return fmt.Errorf("--http: %w", err)
	}
	nodeKey, err := loadOrCreateKey(filepath.Join(dir, "nodekey"))
	if err != nil {
		return err
	}
	token, err := loadOrCreateToken(filepath.Join(dir, "token"))
	if err != nil {
		return err
	}
	issuerKey, err := loadOrCreateIssuerKey(filepath.Join(dir, "issuer.key"))
	if err != nil {
		return fmt.Errorf("issuer key: %w", err)
	}
	nodeAddr := crypto.PubkeyToAddress(nodeKey.PublicKey)

	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	chain, err := testnet.New(startCtx, testnet.Config{
		DataDir:  filepath.Join(dir, "chain"),
		Accounts: []common.Address{nodeAddr},
		HTTPPort: rpcPort,
	})
	if err != nil {
		return fmt.Errorf("dev chain: %w", err)
	}
	defer chain.Close()

	st, err := store.Open(store.Config{Dir: filepath.Join(dir, "store")})
	if err != nil {
		return err
	}
	defer st.Close()

	identity, err := node.NewDIDKeyIssuer(issuerKey, devMember.Name)
	if err != nil {
		return err
	}
	memberKey := chain.Keys()[0]
	reg, err := devnetRegistry(startCtx, chain, st, memberKey, identity.DID, nodeAddr)
	if err != nil {
		return err
	}
	// The registry says who the member is: a data dir from before the issuer
	// key keeps the DID it was deployed with.
	info0, err := registryMember(startCtx, chain.Client(), reg, crypto.PubkeyToAddress(memberKey.PublicKey))
	if err != nil {
		return err
	}
	if info0.Name != "" {
		identity.Name = info0.Name
	}
	if info0.Did != identity.DID {
		slog.Warn("the registry names another member DID than the issuer key's did:key: credentials this devnet issues will not verify as the member's",
			"registryDid", info0.Did, "issuerDid", identity.DID)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", c.String(httpFlag.Name))
	if err != nil {
		return fmt.Errorf("--%s: %w", httpFlag.Name, err)
	}
	defer ln.Close()
	n, err := node.New(startCtx, node.Config{
		Store:        st,
		Chain:        chain.Client(),
		Registry:     reg,
		NodeKey:      nodeKey,
		MaxBatchSize: c.Int(batchSizeFlag.Name),
		MaxBatchWait: c.Duration(batchWaitFlag.Name),
		Anchor:       anchor.Config{PollInterval: 200 * time.Millisecond},
		Issuer:       identity,
		// Only this institution's signed credentials are anchored.
		RequireSignedSubmissions: true,
		// Its status lists live on loopback, where it reads them too.
		PublicURL:             "http://" + ln.Addr().String(),
		StatusPublishInterval: c.Duration(devStatusIntervalFlag.Name),
		Status:                node.StatusConfig{Fetch: webfetch.Config{AllowPrivate: true}},
	})
	if err != nil {
		return err
	}
	api, err := httpapi.New(httpapi.Config{Node: n, IssuerTokens: []string{token}})
	if err != nil {
		return err
	}
	srv := httpapi.Serve(ctx, ln, api.Handler())
	addr := srv.Addr()
	info := devnetInfo{
		HTTP:     "http://" + addr,
		RPC:      chain.RPCURL(),
		ChainID:  chain.ChainID().Uint64(),
		Contract: reg,
		Token:    token,

		IssuerDID: info0.Did,
	}
	if err := writeJSONFile(filepath.Join(dir, "devnet.json"), info); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, `credanchor devnet
  HTTP API:   %s
  chain RPC:  %s (chain id %d)
  registry:   %s
  member:     %s (%s)
  issuer DID: %s
  node key:   %s
  token:      %s
  data dir:   %s (devnet.json has all of the above)
`, info.HTTP, info.RPC, info.ChainID, reg, crypto.PubkeyToAddress(memberKey.PublicKey), identity.Name, info0.Did, nodeAddr, token, dir)

	runErr := make(chan error, 1)
	go func() { runErr <- n.Run(ctx) }()
	<-ctx.Done()
	slog.Info("devnet stopping")
	if err := srv.Wait(); err != nil {
		slog.Warn("HTTP shutdown", slog.Any("error", err))
	}
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// loopbackPort checks that addr is host:port on a loopback host and
// returns the port.
func loopbackPort(addr string) (int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return 0, fmt.Errorf("%s is not a loopback address: the devnet serves only this machine", host)
	}
	return strconv.Atoi(port)
}

// devnetRegistry returns the devnet's registry with the node key
// authorised, deploying and authorising as needed. It runs on every start,
// because a dev chain killed with the process can lose its newest blocks,
// and with them the registry or the authorisation when the devnet is young.
func devnetRegistry(ctx context.Context, chain *testnet.DevChain, st *store.Store, memberKey *ecdsa.PrivateKey, memberDID string, nodeAddr common.Address) (common.Address, error) {
	client := chain.Client()
	var reg common.Address
	if b, err := st.Meta("registry"); err == nil {
		reg = common.BytesToAddress(b)
	} else if !errors.Is(err, store.ErrNotFound) {
		return common.Address{}, err
	}
	if reg != (common.Address{}) {
		code, err := client.CodeAt(ctx, reg, nil)
		if err != nil {
			return common.Address{}, err
		}
		if len(code) == 0 {
			slog.Warn("the dev chain lost the registry; deploying it again", "address", reg)
			reg = common.Address{}
		}
	}
	if reg == (common.Address{}) {
		m := devMember
		m.Address, m.DID = crypto.PubkeyToAddress(memberKey.PublicKey), memberDID
		var err error
		if reg, err = anchor.DeployRegistry(ctx, client, memberKey, []anchor.Member{m}, 1); err != nil {
			return common.Address{}, err
		}
		if err := st.SetMeta("registry", reg.Bytes()); err != nil {
			return common.Address{}, err
		}
		slog.Info("deployed registry", "address", reg)
	}
	r := registry.NewRegistry()
	out, err := client.CallContract(ctx, ethereum.CallMsg{To: &reg, Data: r.PackKeyOf(nodeAddr)}, nil)
	if err != nil {
		return common.Address{}, err
	}
	k, err := r.UnpackKeyOf(out)
	if err != nil {
		return common.Address{}, err
	}
	if k.State == 0 { // never authorised (or the authorisation was lost)
		if err := anchor.AuthorizeKey(ctx, client, reg, memberKey, nodeAddr); err != nil {
			return common.Address{}, err
		}
	}
	return reg, nil
}

// registryMember reads a member's registry entry.
func registryMember(ctx context.Context, client ethereum.ContractCaller, reg, member common.Address) (registry.MemberInfoOutput, error) {
	r := registry.NewRegistry()
	out, err := client.CallContract(ctx, ethereum.CallMsg{To: &reg, Data: r.PackMemberInfo(member)}, nil)
	if err != nil {
		return registry.MemberInfoOutput{}, fmt.Errorf("memberInfo: %w", err)
	}
	info, err := r.UnpackMemberInfo(out)
	if err != nil {
		return registry.MemberInfoOutput{}, fmt.Errorf("memberInfo: %w", err)
	}
	return info, nil
}

// loadOrCreateKey reads a hex secp256k1 key, or creates one readable only by
// the owner.
func loadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	key, err := crypto.LoadECDSA(path)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("node key %s: %w", path, err)
	}
	if key, err = crypto.GenerateKey(); err != nil {
		return nil, err
	}
	if err := crypto.SaveECDSA(path, key); err != nil {
		return nil, fmt.Errorf("node key %s: %w", path, err)
	}
	return key, nil
}

// loadOrCreateToken reads the issuer token, or creates a random one in a
// file readable only by the owner.
func loadOrCreateToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return string(b), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw[:])
	return tok, os.WriteFile(path, []byte(tok), 0o600)
}

// writeJSONFile writes v to path, readable only by the owner.
func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
