package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/testnet"
	"github.com/credanchor/credanchor/testnet/cluster"
)

var (
	testnetNodesFlag = &cli.IntFlag{
		Name:  "nodes",
		Usage: "how many institutions, each with its own node",
		Value: 3,
	}
	testnetRPCFlag = &cli.StringFlag{
		Name:     "rpc",
		Usage:    "loopback address of the dev chain's JSON-RPC",
		Value:    "127.0.0.1:8546",
		Category: catChain,
	}
)

var testnetCommand = &cli.Command{
	Name:  "testnet",
	Usage: "a consortium of several institutions on one dev chain, to try",
	Subcommands: []*cli.Command{{
		Name:  "up",
		Usage: "start a throwaway consortium on loopback until Ctrl-C",
		Description: `Starts an in-process dev chain, deploys the registry with the first two
institutions as founders (threshold 2), adds every other institution by a
proposal both approve, authorises each node key, and starts one node per
institution (its own Pebble store, HTTP API, issuer did:key and status lists),
joined over libp2p on loopback. Prints each node's HTTP address, issuer token
and peer addresses. Everything is gone after Ctrl-C.`,
		Flags:  []cli.Flag{testnetNodesFlag, testnetRPCFlag},
		Action: testnetUp,
	}},
}

func testnetUp(c *cli.Context) error {
	n := c.Int(testnetNodesFlag.Name)
	if n < 1 || n > 32 {
		return fmt.Errorf("--%s: %d; from 1 to 32", testnetNodesFlag.Name, n)
	}
	port, err := loopbackPort(c.String(testnetRPCFlag.Name))
	if err != nil {
		return fmt.Errorf("--%s: %w", testnetRPCFlag.Name, err)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	chain, err := testnet.New(ctx, testnet.Config{Keys: 2 * n, HTTPPort: port})
	if err != nil {
		return err
	}
	defer chain.Close()
	cl, err := cluster.Start(ctx, cluster.Config{Nodes: n, Chain: chain, Logger: slog.Default(), P2P: true})
	if err != nil {
		return err
	}
	defer cl.Close()
	fmt.Fprintf(c.App.Writer, "credanchor testnet: %d institutions\n  chain RPC:  %s (chain id %d)\n  registry:   %s\n", n, chain.RPCURL(), chain.ChainID(), cl.Registry)
	for i, in := range cl.Institutions {
		fmt.Fprintf(c.App.Writer, "node %d: %s  %s\n  issuer %s, member %s, token %s\n",
			i+1, in.URL, in.Name, in.Issuer.DID, in.Member, in.Token)
		for _, a := range in.PeerAddrs {
			fmt.Fprintf(c.App.Writer, "  peer %d: %s\n", i+1, a)
		}
	}
	if in := cl.Institutions[0]; len(in.PeerAddrs) > 0 {
		fmt.Fprintf(c.App.Writer, "ask any node over libp2p, as a verifier (no key needed):\n  credanchor query --peer %s --rpc %s --registry %s verify CREDENTIAL\n",
			in.PeerAddrs[0], chain.RPCURL(), cl.Registry)
	}
	<-ctx.Done()
	slog.Info("testnet stopping")
	if err := cl.Close(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
