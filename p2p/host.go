package p2p

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/credanchor/credanchor/anchor/merkle"
)

// DefaultListenAddrs are the listen addresses used when Config.ListenAddrs
// is empty: TCP and QUIC on loopback with ports chosen by the kernel, which
// suits tests. A production node sets its own, typically
// /ip4/0.0.0.0/tcp/4001 and /ip4/0.0.0.0/udp/4001/quic-v1 (plus the /ip6/::
// forms), and opens that port in its firewall.
var DefaultListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}

// Defaults for zero Config fields.
const (
	DefaultQueryRate        = 2000
	DefaultQueryBurst       = 4000
	DefaultGuestQueryRate   = 100
	DefaultGuestQueryBurst  = 200
	DefaultGuestQueryTotal  = 1000
	DefaultBanDuration      = 10 * time.Minute
	DefaultReverifyInterval = 5 * time.Minute
	DefaultBootstrapBackoff = time.Second
	maxBootstrapBackoff     = time.Minute
	// handshakeTimeout bounds the member record exchange on a new
	// connection, and how long a protocol handler waits for it.
	handshakeTimeout = 10 * time.Second
	// Connection manager watermarks: above connHigh connections, the
	// newest guests' beyond their grace period are closed down to connLow.
	// Member nodes are protected, so guests can never crowd them out.
	connLow   = 160
	connHigh  = 192
	connGrace = 30 * time.Second
)

// Membership tells whether an Ethereum node key is an active key of a
// consortium member. The node implements it with the registry contract's
// keyOf; it is asked on every new connection and for every announcement's
// author, so it should be cheap (cached) or fast.
type Membership interface {
	// MemberOf returns the member nodeKey anchors for and ok = true, or
	// ok = false if it is no member's active key. err is for failures to
	// ask (chain RPC down): the peer is then disconnected but not scored.
	MemberOf(ctx context.Context, nodeKey common.Address) (member common.Address, ok bool, err error)
}

// Validator checks announcements against the chain before they are
// accepted, relayed and delivered. A nil error accepts; an error wrapping
// ErrIgnore drops the message without penalty; any other error rejects it
// and counts against the peer that delivered it.
type Validator interface {
	// ValidateBatch checks that a.Root is anchored by a.Member with a.Size
	// leaves, in a.TxHash at a.Block. from is the announcing node.
	ValidateBatch(ctx context.Context, from Peer, a *BatchAnnouncement) error
	// ValidateStatusList checks that a.Hash is the latest hash anchored for
	// a.Member's status list at a.URL.
	ValidateStatusList(ctx context.Context, from Peer, a *StatusListAnnouncement) error
}

// Handler receives accepted announcements from other nodes, one at a
// time from a single goroutine: a slow handler delays the next one.
type Handler interface {
	OnBatch(ctx context.Context, from Peer, a *BatchAnnouncement)
	OnStatusList(ctx context.Context, from Peer, a *StatusListAnnouncement)
}

// Provider answers sync requests from the node's store.
type Provider interface {
	// Digests returns the ordered digests of the batch with the given
	// root, or an error wrapping ErrNotFound.
	Digests(ctx context.Context, root merkle.Hash) ([]merkle.Hash, error)
	// StatusList returns the signed status list credential published at
	// url whose hash is hash, or an error wrapping ErrNotFound.
	StatusList(ctx context.Context, url string, hash merkle.Hash) ([]byte, error)
}

// Querier answers query protocol requests, as the HTTP API does: kind is
// "verify", "receipt" or "status", body and resp are JSON, status is an
// HTTP status code. An error is answered as "could not answer" and logged.
type Querier interface {
	Query(ctx context.Context, kind string, body []byte) (status int, resp []byte, err error)
}

// Config configures a Host. DataDir, ChainID, Registry and Membership are
// required, and NodeKey and Validator for a member node.
type Config struct {
	// DataDir holds the libp2p identity key (IdentityFile), created on
	// first start with mode 0600 (and DataDir with 0700 if missing). A key
	// file with any group or other permission bit is refused, not fixed.
	DataDir string
	// ListenAddrs are multiaddrs to listen on (TCP and QUIC v1); empty
	// means DefaultListenAddrs, which are loopback only.
	ListenAddrs []string
	// Bootstrap are full multiaddrs (with /p2p/<id>) of peers to dial at
	// start and to dial again, with exponential backoff, whenever the
	// connection is lost. There is no DHT, relay, mDNS or NAT port mapping:
	// these are the only peers a node finds by itself.
	Bootstrap []string
	// BootstrapBackoff is the first delay before re-dialling a bootstrap
	// peer; it doubles up to a minute. Zero means DefaultBootstrapBackoff.
	BootstrapBackoff time.Duration

	// ChainID and Registry name the consortium: the registry contract on
	// that chain. Peers of other consortia are refused, and the GossipSub
	// topic is named after both.
	ChainID  uint64
	Registry common.Address
	// NodeKey is this node's Ethereum key, authorised in the registry by
	// its member; it signs the node's MemberRecord. A Host without one is
	// a guest, a verifier's client: it has no record, follows no
	// announcements and answers no protocol. It can only Query member
	// nodes, which it checks with Membership as a member node does, and
	// member nodes answer it at the guest rates.
	NodeKey *ecdsa.PrivateKey

	Membership Membership
	Validator  Validator
	// Handler, if not nil, receives accepted announcements.
	Handler Handler
	// Provider, if not nil, answers sync requests; without it they are
	// answered "not found".
	Provider Provider
	// Querier, if not nil, answers query requests; without it they are
	// answered "could not answer".
	Querier Querier
	// QueryRate and QueryBurst set each peer's query token bucket
	// (requests per second and burst). Zero means DefaultQueryRate and
	// DefaultQueryBurst; a negative QueryRate means no limit.
	QueryRate  float64
	QueryBurst int
	// GuestQueryRate and GuestQueryBurst set the query token bucket of
	// each guest: a peer that runs no member protocol, such as a
	// verifier's `credanchor query`. GuestQueryTotal bounds all guests'
	// queries together, per second with a burst of twice that, so that
	// many guest identities cannot take the members' share. Zero means
	// the defaults; a negative GuestQueryRate refuses guests, which are
	// then disconnected (without penalty) as soon as they connect.
	GuestQueryRate  float64
	GuestQueryBurst int
	GuestQueryTotal float64
	// ReverifyInterval is how often connected peers' node keys are checked
	// again with Membership, so that a revoked key loses its connections.
	// Zero means DefaultReverifyInterval.
	ReverifyInterval time.Duration
	// BanDuration is how long a peer dropped for misbehaving or for not
	// being a member is refused. Zero means DefaultBanDuration.
	BanDuration time.Duration

	// Registerer, if not nil, receives libp2p's Prometheus metrics.
	Registerer prometheus.Registerer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Peer is a connected node verified to belong to a consortium member.
type Peer struct {
	ID      peer.ID
	Member  common.Address // the member the node anchors for
	NodeKey common.Address // the node key that signed its MemberRecord
}

// Host is a node's libp2p host: the connection to the consortium. It is
// safe for concurrent use.
type Host struct {
	cfg    Config
	log    *slog.Logger
	host   host.Host
	score  *scorer
	record []byte // this node's signed MemberRecord

	ps    *pubsub.PubSub
	topic *pubsub.Topic
	sub   *pubsub.Subscription

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	guests *rate.Limiter // all guests' queries together

	mu       sync.Mutex
	peers    map[peer.ID]*peerState
	limiters map[peer.ID]*rate.Limiter
	psScores map[peer.ID]float64
	closed   bool // set under mu by Close, so no goroutine starts after it

	authors authorCache
	mesh    meshTracker
	queries queryPool

	closeOnce sync.Once
	closeErr  error
}

// New starts a host: it loads (or creates) the identity, listens, joins the
// consortium's topic (unless it is a guest) and dials the bootstrap peers.
// ctx bounds only the start; the host runs until Close.
func New(ctx context.Context, cfg Config) (*Host, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	key, err := loadIdentity(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	boot, err := parseBootstrap(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	h := &Host{
		cfg:      cfg,
		log:      cfg.Logger,
		score:    newScorer(cfg.BanDuration),
		peers:    make(map[peer.ID]*peerState),
		limiters: make(map[peer.ID]*rate.Limiter),
		psScores: make(map[peer.ID]float64),
		guests:   rate.NewLimiter(rate.Limit(cfg.GuestQueryTotal), int(2*cfg.GuestQueryTotal)),
	}
	cm, err := connmgr.NewConnManager(connLow, connHigh, connmgr.WithGracePeriod(connGrace))
	if err != nil {
		return nil, fmt.Errorf("p2p: connection manager: %w", err)
	}
	h.authors.init()
	h.queries.init()
	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		libp2p.NoTransports,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.DisableRelay(),
		libp2p.ConnectionGater(h.score),
		libp2p.ConnectionManager(cm),
		// The consortium is small and every peer is a member: no reason
		// to learn our address from strangers or to probe reachability.
		libp2p.DisableIdentifyAddressDiscovery(),
		libp2p.ForceReachabilityPublic(),
	}
	if cfg.Registerer != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(cfg.Registerer))
	} else {
		opts = append(opts, libp2p.DisableMetrics())
	}
	lh, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("p2p: start libp2p: %w", err)
	}
	h.host = lh
	h.ctx, h.cancel = context.WithCancel(context.Background())

	if cfg.NodeKey != nil {
		rec, err := NewMemberRecord(lh.ID(), cfg.ChainID, cfg.Registry, cfg.NodeKey, time.Now())
		if err != nil {
			h.Close()
			return nil, err
		}
		h.record = rec.Marshal()
		lh.SetStreamHandler(MemberProtocol, h.handleMember)
		lh.SetStreamHandler(SyncProtocol, h.handleSync)
		lh.SetStreamHandler(QueryProtocol, h.handleQuery)
	}
	lh.Network().Notify(&network.NotifyBundle{
		ConnectedF:    func(_ network.Network, c network.Conn) { h.onConnected(c.RemotePeer()) },
		DisconnectedF: func(_ network.Network, c network.Conn) { h.onDisconnected(c.RemotePeer()) },
	})

	if cfg.NodeKey != nil {
		if err := h.startGossip(); err != nil {
			h.Close()
			return nil, err
		}
	}
	for _, ai := range boot {
		h.wg.Add(1)
		go h.keepConnected(ai)
	}
	h.wg.Add(1)
	go h.reverifyLoop(cfg.ReverifyInterval)
	if err := ctx.Err(); err != nil {
		h.Close()
		return nil, err
	}
	h.log.InfoContext(ctx, "p2p host started", slog.String("peer", lh.ID().String()), slog.Any("addrs", h.Addrs()))
	return h, nil
}

func (cfg *Config) fill() error {
	switch {
	case cfg.DataDir == "":
		return fmt.Errorf("%w: DataDir is required", ErrConfig)
	case cfg.Membership == nil:
		return fmt.Errorf("%w: Membership is required", ErrConfig)
	case cfg.NodeKey != nil && cfg.Validator == nil:
		return fmt.Errorf("%w: Validator is required", ErrConfig)
	case cfg.ChainID == 0:
		return fmt.Errorf("%w: ChainID is required", ErrConfig)
	case cfg.Registry == (common.Address{}):
		return fmt.Errorf("%w: Registry is required", ErrConfig)
	}
	if len(cfg.ListenAddrs) == 0 {
		cfg.ListenAddrs = DefaultListenAddrs
	}
	if cfg.BootstrapBackoff <= 0 {
		cfg.BootstrapBackoff = DefaultBootstrapBackoff
	}
	if cfg.QueryRate == 0 {
		cfg.QueryRate = DefaultQueryRate
	}
	if cfg.QueryBurst <= 0 {
		cfg.QueryBurst = DefaultQueryBurst
	}
	if cfg.GuestQueryRate == 0 {
		cfg.GuestQueryRate = DefaultGuestQueryRate
	}
	if cfg.GuestQueryBurst <= 0 {
		cfg.GuestQueryBurst = DefaultGuestQueryBurst
	}
	if cfg.GuestQueryTotal <= 0 {
		cfg.GuestQueryTotal = DefaultGuestQueryTotal
	}
	if cfg.ReverifyInterval <= 0 {
		cfg.ReverifyInterval = DefaultReverifyInterval
	}
	if cfg.BanDuration <= 0 {
		cfg.BanDuration = DefaultBanDuration
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return nil
}

func parseBootstrap(addrs []string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, s := range addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: bootstrap %q: %w", ErrConfig, s, err)
		}
		ai, err := peer.AddrInfoFromP2pAddr(m)
		if err != nil {
			return nil, fmt.Errorf("%w: bootstrap %q needs a /p2p/<id> part: %w", ErrConfig, s, err)
		}
		out = append(out, *ai)
	}
	return out, nil
}

// ID returns the host's peer ID.
func (h *Host) ID() peer.ID { return h.host.ID() }

// Addrs returns the addresses the host listens on, each with its
// /p2p/<id> part, as another node's Config.Bootstrap takes them.
func (h *Host) Addrs() []string {
	ai := peer.AddrInfo{ID: h.host.ID(), Addrs: h.host.Addrs()}
	mas, err := peer.AddrInfoToP2pAddrs(&ai)
	if err != nil {
		return nil
	}
	out := make([]string, len(mas))
	for i, m := range mas {
		out[i] = m.String()
	}
	return out
}

// Peers returns the connected peers verified as member nodes, by peer ID.
func (h *Host) Peers() []Peer {
	h.mu.Lock()
	var out []Peer
	for _, st := range h.peers {
		if p, ok := st.result(); ok {
			out = append(out, p)
		}
	}
	h.mu.Unlock()
	// A peer just dropped may not have been forgotten yet.
	out = slices.DeleteFunc(out, func(p Peer) bool { return h.host.Network().Connectedness(p.ID) != network.Connected })
	slices.SortFunc(out, func(a, b Peer) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

// Connect dials addr (a full multiaddr with /p2p/<id>) and waits until the
// peer is verified as a member node.
func (h *Host) Connect(ctx context.Context, addr string) (Peer, error) {
	ais, err := parseBootstrap([]string{addr})
	if err != nil {
		return Peer{}, err
	}
	if err := h.host.Connect(ctx, ais[0]); err != nil {
		return Peer{}, fmt.Errorf("p2p: connect %s: %w", ais[0].ID, err)
	}
	return h.member(ctx, ais[0].ID)
}

// Close stops the host: it closes every connection and waits for its
// goroutines. It is safe to call more than once.
func (h *Host) Close() error {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		if h.cancel != nil {
			h.cancel()
		}
		if h.sub != nil {
			h.sub.Cancel()
		}
		if h.topic != nil {
			_ = h.topic.Close()
		}
		h.queries.closeAll()
		if h.host != nil {
			h.closeErr = h.host.Close()
		}
		h.wg.Wait()
	})
	return h.closeErr
}

// keepConnected dials a bootstrap peer and dials it again whenever the
// connection is lost, backing off exponentially between failures.
func (h *Host) keepConnected(ai peer.AddrInfo) {
	defer h.wg.Done()
	backoff := h.cfg.BootstrapBackoff
	for {
		if h.host.Network().Connectedness(ai.ID) != network.Connected && !h.score.isBanned(ai.ID) {
			ctx, cancel := context.WithTimeout(h.ctx, handshakeTimeout)
			err := h.host.Connect(ctx, ai)
			cancel()
			switch {
			case err == nil:
				backoff = h.cfg.BootstrapBackoff
			case h.ctx.Err() != nil:
				return
			default:
				h.log.DebugContext(h.ctx, "p2p bootstrap dial failed", slog.String("peer", ai.ID.String()), slog.Any("error", err), slog.Duration("retry", backoff))
			}
		}
		t := time.NewTimer(backoff)
		select {
		case <-h.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if h.host.Network().Connectedness(ai.ID) != network.Connected {
			backoff = min(2*backoff, maxBootstrapBackoff)
		}
	}
}

// drop disconnects p and refuses it for BanDuration.
func (h *Host) drop(p peer.ID, why string) {
	h.score.ban(p)
	h.log.WarnContext(h.ctx, "p2p peer dropped", slog.String("peer", p.String()), slog.String("reason", why))
	_ = h.host.Network().ClosePeer(p)
}

// penalize lowers p's score and drops it once the score is low enough.
func (h *Host) penalize(p peer.ID, v float64, why string) {
	if h.score.add(p, v) {
		h.drop(p, why)
	}
}

// PeerScore returns p's score: its GossipSub score as last inspected (once
// a second), which includes the penalties this package adds for
// misbehaviour on the other protocols, or those penalties alone if they
// are newer and lower.
func (h *Host) PeerScore(p peer.ID) float64 {
	s := h.score.appScore(p)
	h.mu.Lock()
	defer h.mu.Unlock()
	if ps, ok := h.psScores[p]; ok && ps < s {
		s = ps
	}
	return s
}
