package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
)

var (
	datadirFlag = &cli.PathFlag{
		Name:     "datadir",
		Usage:    "directory of the dev chain, the node key and the Pebble store",
		Value:    defaultDevnetDir(),
		Category: catStorage,
		EnvVars:  envVars("datadir"),
	}
	rpcPortFlag = &cli.IntFlag{
		Name:     "rpc.port",
		Usage:    "JSON-RPC port of the dev chain on 127.0.0.1 (0: any free port)",
		Value:    8545,
		Category: catChain,
		EnvVars:  envVars("rpc.port"),
	}
)

func defaultDevnetDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".credanchor-devnet"
	}
	return filepath.Join(home, ".credanchor", "devnet")
}

var devnetCommand = &cli.Command{
	Name:  "devnet",
	Usage: "run a node on its own dev chain: nothing to install, state kept in --datadir",
	Description: `Starts an in-process go-ethereum dev chain (Prague/Osaka rules) serving
JSON-RPC on 127.0.0.1, deploys the consortium registry on first start with one
member, authorises this node's key, opens the Pebble store and anchors batches.
Stop it with Ctrl-C; start it again with the same --datadir to resume.`,
	Flags:  []cli.Flag{datadirFlag, rpcPortFlag},
	Action: runDevnet,
}

// devMember is the devnet's one consortium member. Its key is the first
// public dev key of testnet, never a secret.
var devMember = anchor.Member{DID: "did:web:localhost", Name: "Devnet University"}

func runDevnet(c *cli.Context) error {
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := c.Path(datadirFlag.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	nodeKey, err := loadOrCreateKey(filepath.Join(dir, "nodekey"))
	if err != nil {
		return err
	}
	nodeAddr := crypto.PubkeyToAddress(nodeKey.PublicKey)

	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	chain, err := testnet.New(startCtx, testnet.Config{
		DataDir:  filepath.Join(dir, "chain"),
		Accounts: []common.Address{nodeAddr},
		HTTPPort: c.Int(rpcPortFlag.Name),
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

	memberKey := chain.Keys()[0]
	reg, err := devnetRegistry(startCtx, chain, st, memberKey, nodeAddr)
	if err != nil {
		return err
	}
	anc, err := anchor.New(anchor.Config{
		Backend:  chain.Client(),
		Store:    st,
		Registry: reg,
		Key:      nodeKey,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "credanchor devnet\n  chain RPC:  %s (chain id %s)\n  registry:   %s\n  member:     %s (%s)\n  node key:   %s\n  data dir:   %s\n",
		chain.RPCURL(), chain.ChainID(), reg, crypto.PubkeyToAddress(memberKey.PublicKey), devMember.Name, nodeAddr, dir)
	err = anc.Run(ctx)
	if errors.Is(err, context.Canceled) {
		slog.Info("devnet stopping")
		return nil
	}
	return err
}

// devnetRegistry returns the registry recorded in the store, deploying it
// and authorising the node key on the first start.
func devnetRegistry(ctx context.Context, chain *testnet.DevChain, st *store.Store, memberKey *ecdsa.PrivateKey, nodeAddr common.Address) (common.Address, error) {
	if b, err := st.Meta("registry"); err == nil {
		return common.BytesToAddress(b), nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return common.Address{}, err
	}
	m := devMember
	m.Address = crypto.PubkeyToAddress(memberKey.PublicKey)
	reg, err := anchor.DeployRegistry(ctx, chain.Client(), memberKey, []anchor.Member{m}, 1)
	if err != nil {
		return common.Address{}, err
	}
	if err := anchor.AuthorizeKey(ctx, chain.Client(), reg, memberKey, nodeAddr); err != nil {
		return common.Address{}, err
	}
	if err := st.SetMeta("registry", reg.Bytes()); err != nil {
		return common.Address{}, err
	}
	slog.Info("deployed registry", "address", reg)
	return reg, nil
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
