// Package cluster runs a consortium on loopback: several institutions, each
// with its own registry membership, node key, issuer key and node (Pebble
// store, HTTP API), on one dev chain. The registry governs it as in
// production: the first two institutions found it with a threshold of two,
// and every further one joins by a proposal that both approve.
//
// It is the harness of the consortium tests and of `credanchor testnet up`.
package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/node/httpapi"
	"github.com/credanchor/credanchor/node/webfetch"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
)

// Names are the institutions' names, in order; more nodes than names get
// numbered ones.
var Names = []string{"Example University", "Northbridge College", "Harbor Institute of Technology", "Lakeside School of Nursing", "Summit Professional Board"}

// Config configures a Cluster.
type Config struct {
	// Nodes is how many institutions, each with one node. At least 1.
	Nodes int
	// Dir holds each node's store (Dir/node-1, …). Empty means a
	// temporary directory, removed by Close.
	Dir string
	// Chain is the dev chain to run on; nil means a new in-process one,
	// closed by Close. It must fund at least 2×Nodes dev keys.
	Chain *testnet.DevChain
	// BatchWait and StatusInterval tune every node; zero means 100 ms and
	// 500 ms, quick enough for tests and demos.
	BatchWait, StatusInterval time.Duration
	// Logger receives the nodes' logs; nil discards them.
	Logger *slog.Logger
	// P2P joins the nodes in a libp2p network on loopback: each
	// bootstraps from the nodes started before it.
	P2P bool
	// MaxBatchSize is each node's; zero means the node's default.
	MaxBatchSize int
	// QueryRate is each node's per-peer query rate (p2p.Config); negative
	// means no limit, as a benchmark from one peer needs.
	QueryRate float64
	// LogRange is each node's blocks per eth_getLogs call of the catch-up
	// (node.P2PConfig); zero means the node's default.
	LogRange uint64
	// OnCatchUp, when set, follows the catch-ups of every node (see
	// node.Config.OnCatchUp), given the institution's index.
	OnCatchUp func(institution int, p node.CatchUpProgress)
}

// Institution is one consortium member and its node.
type Institution struct {
	Name string
	// Member is the member's registry address; MemberKey governs, NodeKey
	// anchors for it.
	Member             common.Address
	MemberKey, NodeKey *ecdsa.PrivateKey
	// Issuer signs its credentials; its did:key is the member's DID.
	Issuer *node.IssuerIdentity
	// Token is the issuer token of its node's API.
	Token string
	// URL is its node's HTTP API.
	URL string
	// PeerAddrs are its node's libp2p addresses (with /p2p/<id>), with
	// Config.P2P.
	PeerAddrs []string

	dir     string
	node    *node.Node
	store   *store.Store
	serving *httpapi.Serving
	stop    context.CancelFunc
	done    chan struct{}
}

// Node is the institution's running node, nil while it is stopped.
func (in *Institution) Node() *node.Node { return in.node }

// Cluster is a running consortium.
type Cluster struct {
	Chain        *testnet.DevChain
	Registry     common.Address
	Institutions []*Institution

	cfg       Config
	ownChain  bool
	ownDir    bool
	closeOnce sync.Once
}

// Start deploys the registry, makes every institution a member by the
// registry's governance, authorises each node key and starts the nodes.
func Start(ctx context.Context, cfg Config) (c *Cluster, err error) {
	if cfg.Nodes < 1 {
		return nil, errors.New("cluster: Config.Nodes must be at least 1")
	}
	if cfg.BatchWait == 0 {
		cfg.BatchWait = 100 * time.Millisecond
	}
	if cfg.StatusInterval == 0 {
		cfg.StatusInterval = 500 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c = &Cluster{cfg: cfg}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if cfg.Dir == "" {
		if c.cfg.Dir, err = os.MkdirTemp("", "credanchor-cluster"); err != nil {
			return nil, err
		}
		c.ownDir = true
	}
	c.Chain = cfg.Chain
	if c.Chain == nil {
		if c.Chain, err = testnet.New(ctx, testnet.Config{Keys: 2 * cfg.Nodes}); err != nil {
			return nil, err
		}
		c.ownChain = true
	}
	keys := c.Chain.Keys()
	if len(keys) < 2*cfg.Nodes {
		return nil, fmt.Errorf("cluster: the chain funds %d keys, %d nodes need %d", len(keys), cfg.Nodes, 2*cfg.Nodes)
	}
	for i := range cfg.Nodes {
		name := fmt.Sprintf("Institution %d", i+1)
		if i < len(Names) {
			name = Names[i]
		}
		seed := sha256.Sum256([]byte("credanchor cluster issuer " + name))
		id, err := node.NewDIDKeyIssuer(ed25519.NewKeyFromSeed(seed[:]), name)
		if err != nil {
			return nil, err
		}
		in := &Institution{Name: name, MemberKey: keys[2*i], NodeKey: keys[2*i+1], Issuer: id,
			Token: fmt.Sprintf("cluster-token-%d", i+1), dir: filepath.Join(c.cfg.Dir, fmt.Sprintf("node-%d", i+1))}
		in.Member = crypto.PubkeyToAddress(in.MemberKey.PublicKey)
		c.Institutions = append(c.Institutions, in)
	}
	if err := c.govern(ctx); err != nil {
		return nil, err
	}
	for i := range c.Institutions {
		if err := c.StartNode(ctx, i); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// govern deploys the registry with the founding members and adds the
// others by threshold vote, then has every member authorise its node key.
func (c *Cluster) govern(ctx context.Context) error {
	client := c.Chain.Client()
	member := func(in *Institution) anchor.Member {
		return anchor.Member{Address: in.Member, DID: in.Issuer.DID, Name: in.Name}
	}
	founders := c.Institutions[:min(2, len(c.Institutions))]
	var ms []anchor.Member
	for _, in := range founders {
		ms = append(ms, member(in))
	}
	var err error
	if c.Registry, err = anchor.DeployRegistry(ctx, client, founders[0].MemberKey, ms, uint64(len(founders))); err != nil {
		return fmt.Errorf("cluster: deploy registry: %w", err)
	}
	reg := registry.NewRegistry()
	for _, in := range c.Institutions[len(founders):] {
		// The first founder proposes (and so approves); the second's
		// approval reaches the threshold of two.
		if _, err := anchor.Transact(ctx, client, c.Registry, founders[0].MemberKey, reg.PackProposeAddMember(in.Member, in.Issuer.DID, in.Name)); err != nil {
			return fmt.Errorf("cluster: propose %s: %w", in.Name, err)
		}
		out, err := client.CallContract(ctx, callMsg(c.Registry, reg.PackGovernance()), nil)
		if err != nil {
			return err
		}
		g, err := reg.UnpackGovernance(out)
		if err != nil {
			return err
		}
		if _, err := anchor.Transact(ctx, client, c.Registry, founders[1].MemberKey, reg.PackApprove(g.ProposalCount)); err != nil {
			return fmt.Errorf("cluster: approve %s: %w", in.Name, err)
		}
	}
	for _, in := range c.Institutions {
		if err := anchor.AuthorizeKey(ctx, client, c.Registry, in.MemberKey, crypto.PubkeyToAddress(in.NodeKey.PublicKey)); err != nil {
			return fmt.Errorf("cluster: authorise the node key of %s: %w", in.Name, err)
		}
	}
	return nil
}

// StartNode starts (or restarts, on the same store and address) the node of
// institution i.
func (c *Cluster) StartNode(ctx context.Context, i int) error {
	in := c.Institutions[i]
	if in.node != nil {
		return fmt.Errorf("cluster: the node of %s is running", in.Name)
	}
	addr := "127.0.0.1:0"
	if in.URL != "" {
		// The same address: it is in the status entries of its credentials.
		addr = in.URL[len("http://"):]
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	st, err := store.Open(store.Config{Dir: in.dir, Logger: c.cfg.Logger})
	if err != nil {
		ln.Close()
		return err
	}
	url := "http://" + ln.Addr().String()
	var p2pCfg *node.P2PConfig
	if c.cfg.P2P {
		p2pCfg = &node.P2PConfig{DataDir: filepath.Join(in.dir, "p2p"), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, QueryRate: c.cfg.QueryRate, LogRange: c.cfg.LogRange}
		for _, other := range c.Institutions {
			if other != in && other.node != nil {
				p2pCfg.Bootstrap = append(p2pCfg.Bootstrap, other.PeerAddrs...)
			}
		}
	}
	var onCatchUp func(node.CatchUpProgress)
	if c.cfg.OnCatchUp != nil {
		onCatchUp = func(p node.CatchUpProgress) { c.cfg.OnCatchUp(i, p) }
	}
	n, err := node.New(ctx, node.Config{
		Store:                 st,
		Chain:                 c.Chain.Client(),
		Registry:              c.Registry,
		NodeKey:               in.NodeKey,
		MaxBatchWait:          c.cfg.BatchWait,
		MaxBatchSize:          c.cfg.MaxBatchSize,
		Anchor:                anchor.Config{PollInterval: 50 * time.Millisecond},
		Logger:                c.cfg.Logger.With("institution", in.Name),
		Issuer:                in.Issuer,
		PublicURL:             url,
		StatusPublishInterval: c.cfg.StatusInterval,
		// Every member's lists live on loopback.
		Status:      node.StatusConfig{Fetch: webfetch.Config{AllowPrivate: true}},
		DIDResolver: did.NewMultiResolver(map[string]did.Resolver{"key": did.KeyResolver{}}),
		P2P:         p2pCfg,
		OnCatchUp:   onCatchUp,
	})
	if err != nil {
		ln.Close()
		st.Close()
		return err
	}
	api, err := httpapi.New(httpapi.Config{Node: n, IssuerTokens: []string{in.Token}, Logger: c.cfg.Logger})
	if err != nil {
		ln.Close()
		n.Close()
		st.Close()
		return err
	}
	if h := n.P2P(); h != nil {
		in.PeerAddrs = h.Addrs()
	}
	runCtx, stop := context.WithCancel(context.Background())
	in.node, in.store, in.URL, in.stop, in.done = n, st, url, stop, make(chan struct{})
	in.serving = httpapi.Serve(runCtx, ln, api.Handler())
	go func() {
		defer close(in.done)
		_ = n.Run(runCtx)
	}()
	return nil
}

// StopNode stops the node of institution i cleanly; its store and address
// stay for StartNode.
func (c *Cluster) StopNode(i int) error {
	in := c.Institutions[i]
	if in.node == nil {
		return nil
	}
	in.stop()
	<-in.done
	err := errors.Join(in.serving.Close(), in.node.Close(), in.store.Close())
	in.node, in.store, in.serving = nil, nil, nil
	return err
}

// Close stops every node and, if the cluster made them, the chain and the
// directory.
func (c *Cluster) Close() error {
	var errs []error
	c.closeOnce.Do(func() {
		for i := range c.Institutions {
			errs = append(errs, c.StopNode(i))
		}
		if c.ownChain && c.Chain != nil {
			errs = append(errs, c.Chain.Close())
		}
		if c.ownDir {
			errs = append(errs, os.RemoveAll(c.cfg.Dir))
		}
	})
	return errors.Join(errs...)
}

func callMsg(to common.Address, data []byte) ethereum.CallMsg {
	return ethereum.CallMsg{To: &to, Data: data}
}
