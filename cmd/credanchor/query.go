package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/p2p"
)

var (
	peerFlag = &cli.StringFlag{
		Name:     "peer",
		Usage:    "the full multiaddr (with /p2p/<id>) of a consortium node",
		Required: true,
	}
	queryRegistryFlag = &cli.StringFlag{
		Name:     "registry",
		Usage:    "the consortium's registry address",
		Required: true,
		Category: catChain,
		EnvVars:  envVars("registry"),
	}
)

var queryCommand = &cli.Command{
	Name:      "query",
	Usage:     "ask a consortium node over libp2p: verify a credential, fetch a receipt, check a status",
	ArgsUsage: "verify|status CREDENTIAL [RECEIPT] | receipt DIGEST",
	Description: `Connects to --peer with the consortium's query protocol and asks what the HTTP
API answers: verify (as POST /v1/verify), status (as POST /credentials/status)
or receipt (as GET /v1/credentials/{digest}/receipt). The command first checks,
over --rpc, that the peer is the node of a consortium member: the registry lists
the node key that signed the peer's membership record.

Anyone may ask: without a key the command is a guest, answered at the node's
guest rate (--p2p.guest-rate of node run). A member's node key (--key, or
--keystore and --password-file) asks at the member rate instead. Prints the
answer (JSON); exits 1 on an answer other than 200.`,
	Flags:  append([]cli.Flag{peerFlag, rpcFlag, queryRegistryFlag, timeoutFlag}, signerFlags...),
	Action: query,
}

// ignoreGossip is the query client's p2p.Validator: it follows no topic's
// announcements.
type ignoreGossip struct{}

func (ignoreGossip) ValidateBatch(context.Context, p2p.Peer, *p2p.BatchAnnouncement) error {
	return p2p.ErrIgnore
}

func (ignoreGossip) ValidateStatusList(context.Context, p2p.Peer, *p2p.StatusListAnnouncement) error {
	return p2p.ErrIgnore
}

func query(c *cli.Context) error {
	if c.NArg() < 2 {
		return errors.New("expected a query kind (verify, status, receipt) and its argument")
	}
	kind := c.Args().First()
	var body []byte
	switch kind {
	case p2p.QueryVerify, p2p.QueryStatus:
		data, form, err := readCredential(c.Args().Get(1))
		if err != nil {
			return err
		}
		req := map[string]json.RawMessage{"credential": data}
		if form == credential.FormJWT {
			req["credential"], _ = json.Marshal(strings.TrimSpace(string(data)))
		}
		if c.NArg() > 2 {
			raw, err := os.ReadFile(c.Args().Get(2))
			if err != nil {
				return err
			}
			if _, err := anchor.ParseReceipt(raw); err != nil {
				return fmt.Errorf("%s: %w", c.Args().Get(2), err)
			}
			req["receipt"] = raw
		}
		if body, err = json.Marshal(req); err != nil {
			return err
		}
	case p2p.QueryReceipt:
		d, err := digestArg(c.Args().Get(1))
		if err != nil {
			return err
		}
		body, _ = json.Marshal(map[string]string{"digest": d.String()})
	default:
		return fmt.Errorf("unknown query kind %q: verify, status or receipt", kind)
	}
	if !common.IsHexAddress(c.String(queryRegistryFlag.Name)) {
		return fmt.Errorf("--registry: %q is not an address", c.String(queryRegistryFlag.Name))
	}
	reg := common.HexToAddress(c.String(queryRegistryFlag.Name))
	ma, err := multiaddr.NewMultiaddr(c.String(peerFlag.Name))
	if err != nil {
		return fmt.Errorf("--peer: %w", err)
	}
	info, err := peer.AddrInfoFromP2pAddr(ma)
	if err != nil {
		return fmt.Errorf("--peer: %w", err)
	}
	var key *ecdsa.PrivateKey
	if c.IsSet(keyFileFlag.Name) || c.IsSet(keystoreFileFlag.Name) {
		if key, err = loadSigningKey(c); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration(timeoutFlag.Name))
	defer cancel()
	client, err := ethclient.DialContext(ctx, c.String(rpcFlag.Name))
	if err != nil {
		return fmt.Errorf("--rpc: %w", err)
	}
	defer client.Close()
	id, err := client.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("--rpc: %w", err)
	}
	dir, err := os.MkdirTemp("", "credanchor-query")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	h, err := p2p.New(ctx, p2p.Config{DataDir: dir, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, ChainID: id.Uint64(), Registry: reg, NodeKey: key,
		Membership: node.NewMembership(client, reg), Validator: ignoreGossip{},
		// The answer is the output: only trouble is worth a log line.
		Logger: slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer h.Close()
	if _, err := h.Connect(ctx, c.String(peerFlag.Name)); err != nil {
		return fmt.Errorf("--peer: %w", err)
	}
	code, resp, err := h.Query(ctx, info.ID, kind, body)
	if err != nil {
		return err
	}
	if _, err := c.App.Writer.Write(append(resp, '\n')); err != nil {
		return err
	}
	if code != http.StatusOK {
		return cli.Exit(fmt.Sprintf("the node answered %d", code), 1)
	}
	return nil
}

var (
	p2pListenFlag = &cli.StringSliceFlag{
		Name:     "p2p.listen",
		Usage:    "join the consortium over libp2p, listening on these multiaddrs (e.g. /ip4/0.0.0.0/tcp/4001 and /ip4/0.0.0.0/udp/4001/quic-v1); the identity key is kept in DATA/p2p",
		Category: catNode,
		EnvVars:  envVars("p2p.listen"),
	}
	p2pBootstrapFlag = &cli.StringSliceFlag{
		Name:     "p2p.bootstrap",
		Usage:    "full multiaddrs (with /p2p/<id>) of consortium nodes to connect to",
		Category: catNode,
		EnvVars:  envVars("p2p.bootstrap"),
	}
	logRangeFlag = &cli.Uint64Flag{
		Name:     "rpc.log-range",
		Usage:    "blocks one eth_getLogs call reads when catching up from peers; lower it for RPC providers that bound log queries",
		Value:    node.DefaultLogRange,
		Category: catChain,
		EnvVars:  envVars("rpc.log-range"),
	}
	p2pGuestRateFlag = &cli.Float64Flag{
		Name:     "p2p.guest-rate",
		Usage:    "queries per second answered to each verifier that is not a member node (`credanchor query` without --key); all of them together get ten times that; 0 refuses them",
		Value:    p2p.DefaultGuestQueryRate,
		Category: catNode,
		EnvVars:  envVars("p2p.guest-rate"),
	}
)

// p2pConfig is the node's libp2p configuration from the flags, nil when
// --p2p.listen is not given.
func p2pConfig(c *cli.Context) *node.P2PConfig {
	listen := c.StringSlice(p2pListenFlag.Name)
	if len(listen) == 0 {
		return nil
	}
	guests := c.Float64(p2pGuestRateFlag.Name)
	if guests <= 0 {
		guests = -1
	}
	return &node.P2PConfig{
		DataDir:         filepath.Join(c.Path(nodeDataFlag.Name), "p2p"),
		ListenAddrs:     listen,
		Bootstrap:       c.StringSlice(p2pBootstrapFlag.Name),
		GuestQueryRate:  guests,
		GuestQueryBurst: max(1, int(2*guests)),
		GuestQueryTotal: 10 * guests,
		LogRange:        c.Uint64(logRangeFlag.Name),
	}
}
