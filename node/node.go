package node

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/p2p"
	"github.com/credanchor/credanchor/store"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxBatchSize = 10_000
	DefaultMaxBatchWait = 5 * time.Second
)

var (
	// ErrNotFound: the node has no record of the digest or batch.
	ErrNotFound = errors.New("node: not found")
	// ErrPending: the credential is known but its batch is not anchored yet.
	ErrPending = errors.New("node: credential not anchored yet")
)

// Config configures a Node.
type Config struct {
	// Store is the node's open Pebble store. Required; the caller closes it
	// after the node.
	Store *store.Store
	// Chain is the chain RPC. Required.
	Chain anchor.Backend
	// Registry is the consortium registry's address. Required.
	Registry common.Address
	// NodeKey signs anchor transactions. Required.
	NodeKey *ecdsa.PrivateKey
	// MaxBatchSize closes a batch when this many digests wait. Zero means
	// DefaultMaxBatchSize.
	MaxBatchSize int
	// MaxBatchWait closes a batch when its oldest digest has waited this
	// long. Zero means DefaultMaxBatchWait.
	MaxBatchWait time.Duration
	// Anchor tunes the anchorer; its Backend, Store, Registry and Key are
	// set from the fields above.
	Anchor anchor.Config
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Issuer is the institution's signing identity, with which the node
	// issues credentials. Nil means the node cannot issue (Issue answers
	// ErrNoIssuer); it still anchors and verifies.
	Issuer *IssuerIdentity
	// DIDResolver resolves the DIDs of issuers when verifying proofs. Nil
	// means did:key and did:web (public addresses only).
	DIDResolver did.Resolver
	// RequireSignedSubmissions makes Submit and SubmitMany accept only
	// credentials whose proof verifies and whose signer is this node's
	// Issuer (ErrNotOwnCredential otherwise). Default false: any credential
	// is anchored, as tests of anchoring alone want.
	RequireSignedSubmissions bool
	// Status configures how the node reads the status lists of the
	// credentials it verifies.
	Status StatusConfig
	// PublicURL is the node's HTTP base URL as verifiers reach it. The
	// credentials it issues get status entries in status lists served
	// under it (StatusListPath); empty means it issues them without status.
	PublicURL string
	// StatusPublishInterval is how often changed status lists are signed
	// and anchored. Zero means DefaultStatusPublishInterval.
	StatusPublishInterval time.Duration
	// P2P, when set, joins the node to the consortium's libp2p network.
	P2P *P2PConfig
	// OnCatchUp, when set, follows each catch-up from peers that finds
	// batches missing or reads more than one range of blocks (a CLI draws
	// it as a progress bar): it is called after each range read (Reading),
	// once the totals are known or grow, after every batch stored, and at
	// the end with Done. It runs on the catch-up's goroutine, which waits for
	// it, so it must return quickly.
	OnCatchUp func(CatchUpProgress)
	// ChallengeTTL is how long a presentation challenge of POST /challenges
	// may be used. Zero means DefaultChallengeTTL.
	ChallengeTTL time.Duration
	// StatsFlushInterval is how often Run makes the stats counts durable
	// (stats.go); a crash loses at most the counts of one interval. Zero
	// means DefaultStatsFlushInterval.
	StatsFlushInterval time.Duration
}

// Node accepts credentials, batches their digests, anchors the batches and
// answers for them.
type Node struct {
	cfg      Config
	keys     *DIDKeys
	st       *store.Store
	anchorer *anchor.Anchorer
	log      *slog.Logger
	chainID  *big.Int
	metrics  *Metrics
	// status reads status lists when verifying.
	status *StatusChecker
	// publish wakes the status list publisher after a change, to publish
	// at the next interval; publishNow for a new list, to publish at once.
	// publishMu keeps one publication at a time.
	publish    chan struct{}
	publishNow chan struct{}
	publishMu  sync.Mutex
	// statusRechecked: the anchors of the lists were checked against the
	// chain since the start (under publishMu).
	statusRechecked bool
	// verifyChain answers verifications' chain reads from a short cache.
	verifyChain *chainCache
	// host is the libp2p host, and consortium its handlers, with P2P.
	host       *p2p.Host
	consortium *consortium
	catchUpMu  sync.Mutex
	logRange   uint64 // blocks an eth_getLogs call of the catch-up reads
	// challenges issues the single-use challenges of presentations.
	challenges *Challenges
	wake       chan struct{}
	trees      *lru[*merkle.Tree]
	// confirmed caches the records of confirmed batches; only a reorg
	// changes them, and onReorged drops them then.
	confirmed *lru[*store.Batch]
	// records caches batched credential records, which never change again
	// (a reorg changes their batch's state, which is read separately).
	records *lru[*store.Credential]
	// reorgs counts onReorged calls, so that a record read from the store
	// before a reorg is not cached after it.
	reorgs atomic.Uint64
	// stats counts for the institution in the store; queueWaits keeps
	// the queue waits of batches until their anchor is confirmed.
	stats      *stats
	queueWaits queueWaits

	mu      sync.Mutex
	pending int // digests in the queue
}

// New checks cfg, reads the chain id and returns a Node; Run starts it.
func New(ctx context.Context, cfg Config) (*Node, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("node: Config.Store is required")
	case cfg.Chain == nil:
		return nil, errors.New("node: Config.Chain is required")
	}
	if cfg.MaxBatchSize <= 0 {
		cfg.MaxBatchSize = DefaultMaxBatchSize
	}
	if cfg.MaxBatchWait <= 0 {
		cfg.MaxBatchWait = DefaultMaxBatchWait
	}
	if cfg.StatusPublishInterval <= 0 {
		cfg.StatusPublishInterval = DefaultStatusPublishInterval
	}
	if cfg.StatsFlushInterval <= 0 {
		cfg.StatsFlushInterval = DefaultStatsFlushInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.Issuer.check(); err != nil {
		return nil, err
	}
	if cfg.RequireSignedSubmissions && cfg.Issuer == nil {
		return nil, errors.New("node: Config.RequireSignedSubmissions needs Config.Issuer")
	}
	keys := &DIDKeys{Resolver: cfg.DIDResolver}
	if cfg.DIDResolver == nil {
		var err error
		if keys, err = defaultKeys(); err != nil {
			return nil, err
		}
	}
	n := &Node{
		keys:       keys,
		cfg:        cfg,
		st:         cfg.Store,
		log:        cfg.Logger.With("component", "node"),
		metrics:    newMetrics(),
		wake:       make(chan struct{}, 1),
		publish:    make(chan struct{}, 1),
		publishNow: make(chan struct{}, 1),
		trees:      newLRU[*merkle.Tree](8),
		confirmed:  newLRU[*store.Batch](4096),
		records:    newLRU[*store.Credential](recordCacheSize),
	}
	var err error
	if n.challenges, err = NewChallenges(cfg.ChallengeTTL); err != nil {
		return nil, err
	}
	scfg := cfg.Status
	if scfg.Local == nil {
		scfg.Local = n.localStatusList
	}
	if n.status, err = NewStatusChecker(scfg); err != nil {
		return nil, err
	}
	acfg := cfg.Anchor
	acfg.Backend, acfg.Store, acfg.Registry, acfg.Key = cfg.Chain, cfg.Store, cfg.Registry, cfg.NodeKey
	if acfg.Logger == nil {
		acfg.Logger = cfg.Logger
	}
	acfg.OnConfirmed = n.onConfirmed
	acfg.OnReorged = n.onReorged
	if n.anchorer, err = anchor.New(acfg); err != nil {
		return nil, err
	}
	if n.chainID, err = cfg.Chain.ChainID(ctx); err != nil {
		return nil, fmt.Errorf("node: chain id: %w", err)
	}
	if n.stats, err = newStats(n.st, n.institution(ctx)); err != nil {
		return nil, err
	}
	n.metrics.institution.WithLabelValues(n.stats.institution).Set(1)
	n.verifyChain = newChainCache(cfg.Chain, verifyCacheTTL)
	if err := n.startP2P(ctx); err != nil {
		return nil, err
	}
	queued, err := n.st.PendingCount()
	if err != nil {
		return nil, err
	}
	n.pending = queued
	n.metrics.pending.Set(float64(queued))
	return n, nil
}

// Metrics returns the node's Prometheus metrics.
func (n *Node) Metrics() *Metrics { return n.metrics }

// ChainID is the chain the node anchors on.
func (n *Node) ChainID() *big.Int { return new(big.Int).Set(n.chainID) }

// Registry is the registry contract's address.
func (n *Node) Registry() common.Address { return n.cfg.Registry }

// Run batches and anchors until ctx ends, and returns ctx's error.
func (n *Node) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		n.anchorer.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		n.runPublisher(ctx)
	}()
	if n.host != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.runCatchUp(ctx)
		}()
	}
	go func() {
		defer wg.Done()
		n.runStatsFlusher(ctx)
	}()
	err := n.batchLoop(ctx)
	wg.Wait()
	return err
}

// Submission is the answer to a submitted credential.
type Submission struct {
	Digest merkle.Hash
	// Created is false when the digest was already known: the same
	// credential submitted again.
	Created bool
	Record  *Record
}

// Submit durably records a credential and queues it for the next batch.
// When it returns without error the credential survives a crash.
func (n *Node) Submit(data []byte, form credential.Form) (*Submission, error) {
	sub, err := n.submit(data, form)
	if err == nil && sub.Created {
		n.stats.submitted.Add(time.Now(), 1)
	}
	return sub, err
}

// submit is Submit without the stats, which count issued credentials apart.
func (n *Node) submit(data []byte, form credential.Form) (*Submission, error) {
	digest, err := credential.Digest(data, form)
	if err != nil {
		return nil, err
	}
	issuer := ""
	if form == credential.FormJSON {
		issuer = credential.Issuer(data)
	}
	rec, created, err := n.st.AddCredential(digest, issuer, time.Now())
	if err != nil {
		return nil, err
	}
	if created {
		n.queued(1)
	}
	r, err := n.record(rec)
	if err != nil {
		return nil, err
	}
	return &Submission{Digest: digest, Created: created, Record: r}, nil
}

func (n *Node) kick() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// State is a credential's state as users see it.
type State string

const (
	StatePending  State = "pending"
	StateAnchored State = "anchored"
	StateFailed   State = "failed"
)

// Record is what the node knows of a credential.
type Record struct {
	Digest      merkle.Hash     `json:"digest"`
	State       State           `json:"state"`
	Issuer      string          `json:"issuer,omitempty"`
	SubmittedAt time.Time       `json:"submittedAt"`
	BatchRoot   *merkle.Hash    `json:"batchRoot,omitempty"`
	LeafIndex   *uint64         `json:"leafIndex,omitempty"`
	TxHash      *common.Hash    `json:"txHash,omitempty"`
	BlockNumber uint64          `json:"blockNumber,omitempty"`
	BlockTime   *time.Time      `json:"blockTime,omitempty"`
	Member      *common.Address `json:"member,omitempty"`
	// Status is the credential's status entries, for one this node issued
	// with status lists.
	Status []EntryState `json:"status,omitempty"`
}

// recordCacheSize bounds the batched credential records kept in memory
// (about 200 bytes each): the credentials being verified right now.
const recordCacheSize = 1 << 16

// Credential returns the record of a digest, with its status, or
// ErrNotFound.
func (n *Node) Credential(digest merkle.Hash) (*Record, error) {
	r, err := n.credential(digest)
	if err != nil {
		return nil, err
	}
	if r.Status, err = n.StatusOf(digest); err != nil {
		return nil, err
	}
	return r, nil
}

func (n *Node) credential(digest merkle.Hash) (*Record, error) {
	if rec, ok := n.records.get(digest); ok {
		return n.record(rec)
	}
	rec, err := n.st.Credential(digest)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: credential %s", ErrNotFound, digest)
	}
	if err != nil {
		return nil, err
	}
	if rec.Batched {
		n.records.put(digest, rec)
	}
	return n.record(rec)
}

func (n *Node) record(rec *store.Credential) (*Record, error) {
	r := &Record{Digest: rec.Digest, State: StatePending, Issuer: rec.Issuer, SubmittedAt: rec.SubmittedAt}
	if !rec.Batched {
		return r, nil
	}
	root, idx := merkle.Hash(rec.BatchRoot), rec.LeafIndex
	r.BatchRoot, r.LeafIndex = &root, &idx
	b, err := n.batch(rec.BatchRoot)
	if err != nil {
		return nil, err
	}
	switch b.State {
	case store.BatchConfirmed:
		tx, member, bt := common.Hash(b.TxHash), common.Address(b.Member), b.BlockTime
		r.State, r.TxHash, r.BlockNumber, r.BlockTime, r.Member = StateAnchored, &tx, b.BlockNumber, &bt, &member
	case store.BatchFailed:
		r.State = StateFailed
	}
	return r, nil
}

// Receipt returns the receipt of an anchored credential: ErrNotFound for an
// unknown digest, ErrPending while its batch is not confirmed.
func (n *Node) Receipt(digest merkle.Hash) (*anchor.Receipt, error) {
	rec, err := n.st.Credential(digest)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: credential %s", ErrNotFound, digest)
	}
	if err != nil {
		return nil, err
	}
	if !rec.Batched {
		return nil, fmt.Errorf("%w: %s waits for a batch", ErrPending, digest)
	}
	b, err := n.batch(rec.BatchRoot)
	if err != nil {
		return nil, err
	}
	if b.State != store.BatchConfirmed {
		return nil, fmt.Errorf("%w: batch %s is %v", ErrPending, merkle.Hash(b.Root), b.State)
	}
	tree, err := n.tree(b.Root)
	if err != nil {
		return nil, err
	}
	return anchor.NewReceipt(tree, rec.LeafIndex, digest, anchor.AnchorInfo{
		ChainID:     n.chainID.Uint64(),
		Contract:    n.cfg.Registry,
		TxHash:      b.TxHash,
		BlockNumber: b.BlockNumber,
		Member:      b.Member,
	})
}

// tree returns a batch's Merkle tree, rebuilt from its stored digests.
func (n *Node) tree(root [32]byte) (*merkle.Tree, error) {
	if t, ok := n.trees.get(root); ok {
		return t, nil
	}
	ds, err := n.st.BatchDigests(root)
	if err != nil {
		return nil, err
	}
	hs := make([]merkle.Hash, len(ds))
	for i, d := range ds {
		hs[i] = d
	}
	t, err := merkle.New(hs)
	if err != nil {
		return nil, err
	}
	if t.Root() != root {
		return nil, fmt.Errorf("node: stored digests of batch %x rebuild root %s", root, t.Root())
	}
	n.trees.put(root, t)
	return t, nil
}

// Batch returns a stored batch, or ErrNotFound.
func (n *Node) Batch(root merkle.Hash) (*store.Batch, error) {
	b, err := n.st.Batch(root)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: batch %s", ErrNotFound, root)
	}
	return b, err
}

// PendingCount is the number of digests waiting for a batch.
func (n *Node) PendingCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pending
}

// batch reads a batch record, from the cache once it is confirmed. Callers
// must not modify it.
func (n *Node) batch(root [32]byte) (*store.Batch, error) {
	if b, ok := n.confirmed.get(root); ok {
		return b, nil
	}
	gen := n.reorgs.Load()
	b, err := n.st.Batch(root)
	if err != nil {
		return nil, err
	}
	if b.State == store.BatchConfirmed && n.reorgs.Load() == gen {
		n.confirmed.put(root, b)
	}
	return b, nil
}

// Close releases what New opened beside the store: the libp2p host.
func (n *Node) Close() error {
	if n.host != nil {
		return n.host.Close()
	}
	return nil
}

func (n *Node) onConfirmed(b *store.Batch) {
	go n.announceBatch(b)
	n.confirmed.remove(b.Root)
	n.metrics.anchored.Add(float64(b.Size))
	n.metrics.batches.Inc()
	n.metrics.gasSpent.Add(float64(b.GasUsed))
	n.countAnchored(b, time.Now())
}

func (n *Node) onReorged(b *store.Batch) {
	n.reorgs.Add(1)
	n.confirmed.remove(b.Root)
	n.metrics.reorgs.Inc()
}

func callMsg(to common.Address, data []byte) ethereum.CallMsg {
	return ethereum.CallMsg{To: &to, Data: data}
}
