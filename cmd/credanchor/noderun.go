package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/httpapi"
	"github.com/credanchor/credanchor/store"
)

var (
	configFlag = &cli.PathFlag{
		Name:     "config",
		Usage:    "JSON config FILE whose keys are flag names (command-line flags and CREDANCHOR_* variables win)",
		Category: catMisc,
		EnvVars:  envVars("config"),
	}
	nodeDataFlag = &cli.PathFlag{
		Name:     "data",
		Usage:    "directory of the node's Pebble store",
		Value:    "credanchor-data",
		Category: catStorage,
		EnvVars:  envVars("data"),
	}
	listenFlag = &cli.StringFlag{
		Name:     "http",
		Usage:    "address of the node's HTTP API",
		Value:    "127.0.0.1:8080",
		Category: catAPI,
		EnvVars:  envVars("http"),
	}
	tokenFileFlag = &cli.PathFlag{
		Name:     "token-file",
		Usage:    "FILE of issuer tokens, one per line (mode 0600); submissions need one of them",
		Category: catAPI,
		EnvVars:  envVars("token-file"),
	}
	// nodeRPCFlag is --rpc without cli's own required check, which runs
	// before --config is read.
	nodeRPCFlag = &cli.StringFlag{
		Name:     "rpc",
		Usage:    "JSON-RPC URL of the chain that holds the registry (required)",
		Category: catChain,
		EnvVars:  envVars("rpc"),
	}
	registryReqFlag = &cli.StringFlag{
		Name:     "registry",
		Usage:    "address of the consortium registry (required)",
		Category: catChain,
		EnvVars:  envVars("registry"),
	}
	confirmationsFlag = &cli.Uint64Flag{
		Name:     "confirmations",
		Usage:    "blocks, counting the anchor's own, before a batch counts as anchored",
		Value:    anchor.DefaultConfirmations,
		Category: catChain,
		EnvVars:  envVars("confirmations"),
	}
	finalizedFlag = &cli.BoolFlag{
		Name:     "finalized",
		Usage:    "count a batch as anchored once the chain's finalized block holds it (instead of --confirmations)",
		Category: catChain,
		EnvVars:  envVars("finalized"),
	}
	maxFeeFlag = &cli.Float64Flag{
		Name:     "max-fee",
		Usage:    "most an anchor may pay per gas, in gwei",
		Value:    500,
		Category: catChain,
		EnvVars:  envVars("max-fee"),
	}
)

var nodeCommand = &cli.Command{
	Name:  "node",
	Usage: "run a node against an existing chain and registry",
	Subcommands: []*cli.Command{{
		Name:  "run",
		Usage: "run the node: HTTP API, batcher and anchorer",
		Description: `Runs the node against an external chain RPC and a deployed registry, signing
anchors with the node key from --key (a 0600 hex key file) or --keystore with
--password-file. With --issuer-key the node issues credentials as the
institution's did:key (POST /v1/issue) and accepts only credentials signed by it;
the member's DID in the registry must be that did:key. Every flag can also come from a CREDANCHOR_* variable or from
the JSON --config file.`,
		Flags: append([]cli.Flag{configFlag, nodeRPCFlag, registryReqFlag, nodeDataFlag, listenFlag, tokenFileFlag,
			issuerKeyFlag, issuerNameFlag, publicURLFlag, statusIntervalFlag, statusMinBitsFlag, statusPrivateFlag, p2pListenFlag, p2pBootstrapFlag, p2pGuestRateFlag, logRangeFlag,
			progressFlag, batchSizeFlag, batchWaitFlag, confirmationsFlag, finalizedFlag, maxFeeFlag}, signerFlags...),
		Before: loadConfigFile,
		Action: runNode,
	}},
}

// loadConfigFile sets every flag named in --config that the command line
// and the environment left unset.
func loadConfigFile(c *cli.Context) error {
	path := c.Path(configFlag.Name)
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var values map[string]any
	if err := json.Unmarshal(data, &values); err != nil {
		return fmt.Errorf("--config %s: %w", path, err)
	}
	known := map[string]bool{}
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			known[n] = true
		}
	}
	for name, v := range values {
		if !known[name] {
			return fmt.Errorf("--config %s: unknown setting %q", path, name)
		}
		if c.IsSet(name) {
			continue
		}
		if err := c.Set(name, fmt.Sprint(v)); err != nil {
			return fmt.Errorf("--config %s: %s: %w", path, name, err)
		}
	}
	return nil
}

// readTokens reads issuer tokens, one per line, from a file only its owner
// can read.
func readTokens(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" && !strings.HasPrefix(t, "#") {
			out = append(out, t)
		}
	}
	return out, sc.Err()
}

func runNode(c *cli.Context) error {
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.String(nodeRPCFlag.Name) == "" {
		return fmt.Errorf("--%s is required (flag, CREDANCHOR_RPC or --config)", nodeRPCFlag.Name)
	}
	regHex := c.String(registryReqFlag.Name)
	if !common.IsHexAddress(regHex) {
		return fmt.Errorf("--registry: %q is not an address", regHex)
	}
	view, err := newCatchUpView(c.String(progressFlag.Name), c.App.ErrWriter)
	if err != nil {
		return fmt.Errorf("--%s: %w", progressFlag.Name, err)
	}
	var onCatchUp func(node.CatchUpProgress)
	if view != nil {
		onCatchUp = view.update
		if view.bar {
			// Log records go through the view, which keeps the bar below.
			if err := setLogOutput(c, view); err != nil {
				return err
			}
		}
	}
	key, err := loadSigningKey(c)
	if err != nil {
		return err
	}
	var tokens []string
	if p := c.Path(tokenFileFlag.Name); p != "" {
		if tokens, err = readTokens(p); err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
	}
	if len(tokens) == 0 {
		slog.Warn("no issuer tokens: the node answers queries but takes no submissions")
	}
	var identity *node.IssuerIdentity
	if p := c.Path(issuerKeyFlag.Name); p != "" {
		ik, err := loadIssuerKey(p)
		if err != nil {
			return fmt.Errorf("--%s: %w", issuerKeyFlag.Name, err)
		}
		if identity, err = node.NewDIDKeyIssuer(ik, c.String(issuerNameFlag.Name)); err != nil {
			return err
		}
	} else {
		slog.Warn("no --issuer-key: the node cannot issue, and anchors any credential submitted with a token")
	}
	dialCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	client, err := ethclient.DialContext(dialCtx, c.String(nodeRPCFlag.Name))
	if err != nil {
		return fmt.Errorf("--rpc: %w", err)
	}
	defer client.Close()
	st, err := store.Open(store.Config{Dir: c.Path(nodeDataFlag.Name)})
	if err != nil {
		return err
	}
	defer st.Close()
	maxFee, _ := new(big.Float).Mul(big.NewFloat(c.Float64(maxFeeFlag.Name)), big.NewFloat(params.GWei)).Int(nil)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", c.String(listenFlag.Name))
	if err != nil {
		return fmt.Errorf("--%s: %w", listenFlag.Name, err)
	}
	defer ln.Close()
	n, err := node.New(dialCtx, node.Config{
		Store:        st,
		Chain:        client,
		Registry:     common.HexToAddress(regHex),
		NodeKey:      key,
		MaxBatchSize: c.Int(batchSizeFlag.Name),
		MaxBatchWait: c.Duration(batchWaitFlag.Name),
		Anchor: anchor.Config{
			Confirmations: c.Uint64(confirmationsFlag.Name),
			UseFinalized:  c.Bool(finalizedFlag.Name),
			MaxFeePerGas:  maxFee,
		},
		Issuer: identity,
		// With an issuer identity, only its signed credentials are anchored.
		RequireSignedSubmissions: identity != nil,
		PublicURL:                publicURL(c, ln),
		StatusPublishInterval:    c.Duration(statusIntervalFlag.Name),
		Status:                   statusConfig(c, false),
		P2P:                      p2pConfig(c),
		OnCatchUp:                onCatchUp,
	})
	if err != nil {
		return err
	}
	if identity != nil {
		checkIssuerRegistered(dialCtx, client, n.Registry(), crypto.PubkeyToAddress(key.PublicKey), identity.DID)
	}
	api, err := httpapi.New(httpapi.Config{Node: n, IssuerTokens: tokens})
	if err != nil {
		return err
	}
	srv := httpapi.Serve(ctx, ln, api.Handler())
	addr := srv.Addr()
	slog.Info("node running", "http", "http://"+addr, "chainId", n.ChainID(), "registry", n.Registry(),
		"nodeKey", crypto.PubkeyToAddress(key.PublicKey))
	fmt.Fprintf(c.App.Writer, "credanchor node\n  HTTP API:  http://%s\n  chain id:  %s\n  registry:  %s\n  node key:  %s\n",
		addr, n.ChainID(), n.Registry(), crypto.PubkeyToAddress(key.PublicKey))
	if identity != nil {
		fmt.Fprintf(c.App.Writer, "  issuer:    %s\n", identity.DID)
	}
	if h := n.P2P(); h != nil {
		defer n.Close()
		for _, a := range h.Addrs() {
			fmt.Fprintf(c.App.Writer, "  peer:      %s\n", a)
		}
	}

	runErr := make(chan error, 1)
	go func() { runErr <- n.Run(ctx) }()
	<-ctx.Done()
	if err := srv.Wait(); err != nil {
		slog.Warn("HTTP shutdown", slog.Any("error", err))
	}
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// checkIssuerRegistered warns when the registry's DID of the member this
// node anchors for is not the issuer DID: the credentials the node issues
// would then fail the member-at-anchor check.
func checkIssuerRegistered(ctx context.Context, client *ethclient.Client, reg, nodeAddr common.Address, issuerDID string) {
	r := registry.NewRegistry()
	out, err := client.CallContract(ctx, ethereum.CallMsg{To: &reg, Data: r.PackKeyOf(nodeAddr)}, nil)
	var k registry.KeyOfOutput
	if err == nil {
		k, err = r.UnpackKeyOf(out)
	}
	if err != nil {
		slog.Warn("could not read the node key's member from the registry", slog.Any("error", err))
		return
	}
	info, err := registryMember(ctx, client, reg, k.Member)
	switch {
	case err != nil:
		slog.Warn("could not read the member from the registry", slog.Any("error", err))
	case info.Did != issuerDID:
		slog.Warn("the registry's DID of this node's member is not the issuer key's did:key: issued credentials will fail member-at-anchor",
			"member", k.Member, "registryDid", info.Did, "issuerDid", issuerDID)
	}
}
