package node

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/p2p"
	"github.com/credanchor/credanchor/store"
)

// P2PConfig configures the node's place in the consortium's libp2p
// network: it announces what it anchors, replicates what other members
// anchor, and answers queries for every member's credentials.
type P2PConfig struct {
	// DataDir holds the libp2p identity. Required.
	DataDir string
	// ListenAddrs and Bootstrap are multiaddrs; see p2p.Config.
	ListenAddrs, Bootstrap []string
	// QueryRate and QueryBurst bound each member node's queries, and
	// GuestQueryRate, GuestQueryBurst and GuestQueryTotal those of guests:
	// verifiers that query without being member nodes. See p2p.Config.
	QueryRate       float64
	QueryBurst      int
	GuestQueryRate  float64
	GuestQueryBurst int
	GuestQueryTotal float64
	// LogRange is how many blocks one eth_getLogs call of the catch-up
	// reads. Zero means DefaultLogRange; RPC providers that bound the
	// range of a logs query need less.
	LogRange uint64
}

// memberCacheTTL is how long a node key's membership, read from the
// registry, is reused.
const memberCacheTTL = 30 * time.Second

// maxForeignLists bounds the other members' status lists kept in memory.
const maxForeignLists = 4096

// consortium implements the p2p interfaces for a node: membership and
// announcements checked against the registry, other members' batches and
// status lists stored, and queries answered as the HTTP API answers them.
type consortium struct {
	*Membership
	n *Node

	mu sync.Mutex
	// lists are other members' status list credentials by URL, as their
	// announcements brought them.
	lists map[string][]byte
}

// Membership is the registry's answer to p2p's membership question: a node
// key is a member's if keyOf says it is an active key. It implements
// p2p.Membership for nodes and for clients of the query protocol.
type Membership struct {
	chain    anchor.ChainReader
	registry common.Address

	mu      sync.Mutex
	members map[common.Address]memberEntry
}

// NewMembership reads membership from the registry at reg on chain.
func NewMembership(chain anchor.ChainReader, reg common.Address) *Membership {
	return &Membership{chain: chain, registry: reg, members: make(map[common.Address]memberEntry)}
}

type memberEntry struct {
	member  common.Address
	ok      bool
	expires time.Time
}

// P2P is the node's libp2p host, nil without Config.P2P.
func (n *Node) P2P() *p2p.Host { return n.host }

// startP2P opens the node's libp2p host.
func (n *Node) startP2P(ctx context.Context) error {
	cfg := n.cfg.P2P
	if cfg == nil {
		return nil
	}
	c := &consortium{Membership: NewMembership(n.cfg.Chain, n.cfg.Registry), n: n, lists: make(map[string][]byte)}
	n.consortium = c
	h, err := p2p.New(ctx, p2p.Config{
		DataDir:     cfg.DataDir,
		ListenAddrs: cfg.ListenAddrs,
		Bootstrap:   cfg.Bootstrap,
		ChainID:     n.chainID.Uint64(),
		Registry:    n.cfg.Registry,
		NodeKey:     n.cfg.NodeKey,
		Membership:  c,
		Validator:   c,
		Handler:     c,
		Provider:    c,
		Querier:     c,
		QueryRate:   cfg.QueryRate,
		QueryBurst:  cfg.QueryBurst,
		Logger:      n.log.With("component", "p2p"),

		GuestQueryRate:  cfg.GuestQueryRate,
		GuestQueryBurst: cfg.GuestQueryBurst,
		GuestQueryTotal: cfg.GuestQueryTotal,
	})
	if err != nil {
		return fmt.Errorf("node: p2p: %w", err)
	}
	n.host = h
	n.logRange = cmp.Or(cfg.LogRange, DefaultLogRange)
	return nil
}

// MemberOf reads the registry's keyOf, cached for memberCacheTTL.
func (c *Membership) MemberOf(ctx context.Context, nodeKey common.Address) (common.Address, bool, error) {
	now := time.Now()
	c.mu.Lock()
	e, hit := c.members[nodeKey]
	c.mu.Unlock()
	if hit && now.Before(e.expires) {
		return e.member, e.ok, nil
	}
	reg := registry.NewRegistry()
	out, err := c.chain.CallContract(ctx, callMsg(c.registry, reg.PackKeyOf(nodeKey)), nil)
	if err != nil {
		return common.Address{}, false, err
	}
	k, err := reg.UnpackKeyOf(out)
	if err != nil {
		return common.Address{}, false, err
	}
	e = memberEntry{member: k.Member, ok: k.State == 1 && k.Member != (common.Address{}), expires: now.Add(memberCacheTTL)}
	c.mu.Lock()
	if len(c.members) > 4096 {
		clear(c.members)
	}
	c.members[nodeKey] = e
	c.mu.Unlock()
	return e.member, e.ok, nil
}

// ValidateBatch accepts an announcement only if its author's member
// anchored that root, with that size, in that block.
func (c *consortium) ValidateBatch(ctx context.Context, from p2p.Peer, a *p2p.BatchAnnouncement) error {
	if a.Member != from.Member {
		return fmt.Errorf("node: %s announces a batch of member %s", from.Member, a.Member)
	}
	reg := registry.NewRegistry()
	out, err := c.n.cfg.Chain.CallContract(ctx, callMsg(c.n.cfg.Registry, reg.PackAnchorOf(a.Root)), nil)
	if err != nil {
		return fmt.Errorf("%w: anchorOf: %v", p2p.ErrIgnore, err)
	}
	got, err := reg.UnpackAnchorOf(out)
	if err != nil {
		return fmt.Errorf("%w: anchorOf answer: %v", p2p.ErrIgnore, err)
	}
	if got.Member != a.Member || got.Size != a.Size || got.BlockNumber != a.Block {
		return fmt.Errorf("node: root %s is anchored by %s, size %d, block %d on chain, not as announced", a.Root, got.Member, got.Size, got.BlockNumber)
	}
	return nil
}

// ValidateStatusList accepts an announcement only if its hash is the latest
// its author's member anchored for that list.
func (c *consortium) ValidateStatusList(ctx context.Context, from p2p.Peer, a *p2p.StatusListAnnouncement) error {
	if a.Member != from.Member {
		return fmt.Errorf("node: %s announces a status list of member %s", from.Member, a.Member)
	}
	got, err := anchor.StatusList(ctx, c.n.cfg.Chain, c.n.cfg.Registry, a.Member, StatusListID(a.URL))
	switch {
	case errors.Is(err, anchor.ErrStatusListNotAnchored):
		return fmt.Errorf("node: status list %s is not anchored", a.URL)
	case err != nil:
		return fmt.Errorf("%w: %v", p2p.ErrIgnore, err)
	case got.Hash != a.Hash:
		return fmt.Errorf("node: status list %s: anchored hash %x, announced %x", a.URL, got.Hash, a.Hash)
	}
	return nil
}

// OnBatch fetches an announced batch's digests from the announcing node,
// which checks that they rebuild the root, and stores the batch.
func (c *consortium) OnBatch(ctx context.Context, from p2p.Peer, a *p2p.BatchAnnouncement) {
	if err := c.fetchBatch(ctx, from, a.Root, a.Size, a.Member, a.TxHash, a.Block); err != nil {
		c.n.log.Warn("replicating a batch", slog.String("root", a.Root.String()), slog.Any("error", err))
		return
	}
	c.n.log.Info("batch replicated", slog.String("root", a.Root.String()), slog.Uint64("size", a.Size), slog.String("member", a.Member.Hex()))
}

func (c *consortium) fetchBatch(ctx context.Context, from p2p.Peer, root merkle.Hash, size uint64, member common.Address, tx common.Hash, block uint64) error {
	n := c.n
	if _, err := n.st.Batch(root); err == nil {
		return nil
	}
	ds, err := n.host.GetDigests(ctx, from.ID, root)
	if err != nil {
		return err
	}
	if uint64(len(ds)) != size {
		return fmt.Errorf("%d digests for a batch of %d", len(ds), size)
	}
	h, err := n.cfg.Chain.HeaderByNumber(ctx, new(big.Int).SetUint64(block))
	if err != nil {
		return err
	}
	flat := make([][32]byte, len(ds))
	for i, d := range ds {
		flat[i] = d
	}
	b := &store.Batch{Root: root, Size: size, CreatedAt: time.Now(), TxHash: tx, BlockNumber: block,
		BlockHash: h.Hash(), BlockTime: time.Unix(int64(h.Time), 0).UTC(), Member: member}
	if err := n.st.AddForeignBatch(b, flat); err != nil && !errors.Is(err, store.ErrExists) {
		return err
	}
	// The catch-up reports its progress by itself: a line a batch is
	// for debugging there.
	n.log.Debug("batch stored", slog.String("root", root.String()), slog.Uint64("size", size), slog.String("member", member.Hex()))
	return nil
}

// OnStatusList fetches an announced status list version, checked against
// the announced (and anchored) hash, for the node's own verifications.
func (c *consortium) OnStatusList(ctx context.Context, from p2p.Peer, a *p2p.StatusListAnnouncement) {
	data, err := c.n.host.GetStatusList(ctx, from.ID, a.URL, a.Hash)
	if err != nil {
		c.n.log.Warn("replicating a status list", slog.String("url", a.URL), slog.Any("error", err))
		return
	}
	c.mu.Lock()
	if len(c.lists) >= maxForeignLists {
		clear(c.lists)
	}
	c.lists[a.URL] = data
	c.mu.Unlock()
}

// list returns another member's status list as announced.
func (c *consortium) list(url string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.lists[url]
	return d, ok
}

// Digests serves a stored batch's digests.
func (c *consortium) Digests(_ context.Context, root merkle.Hash) ([]merkle.Hash, error) {
	ds, err := c.n.st.BatchDigests(root)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: batch %s", p2p.ErrNotFound, root)
	}
	if err != nil {
		return nil, err
	}
	out := make([]merkle.Hash, len(ds))
	for i, d := range ds {
		out[i] = d
	}
	return out, nil
}

// StatusList serves this node's status list version of that hash, or
// another member's it holds.
func (c *consortium) StatusList(_ context.Context, url string, hash merkle.Hash) ([]byte, error) {
	if id, ok := strings.CutPrefix(url, strings.TrimRight(c.n.cfg.PublicURL, "/")+StatusListPath); ok && c.n.cfg.PublicURL != "" {
		v, err := c.n.StatusListByHash(id, hash)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", p2p.ErrNotFound, err)
		}
		return v.Credential, nil
	}
	if d, ok := c.list(url); ok {
		if h, err := credential.Digest(d, credential.FormJSON); err == nil && merkle.Hash(h) == hash {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: status list %s", p2p.ErrNotFound, url)
}

// QueryRequest is the body of a verify or status query: the credential (a
// JSON object, or a VC-JWT as a JSON string) and, optionally, its receipt.
type QueryRequest struct {
	Credential json.RawMessage `json:"credential"`
	Receipt    json.RawMessage `json:"receipt,omitempty"`
	// Digest is the body of a receipt query.
	Digest *merkle.Hash `json:"digest,omitempty"`
}

// Query answers the query protocol as the HTTP API answers /v1/verify,
// /v1/credentials/{digest}/receipt and /credentials/status.
func (c *consortium) Query(ctx context.Context, kind string, body []byte) (int, []byte, error) {
	var req QueryRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return queryProblem(http.StatusBadRequest, "malformed query: "+err.Error())
	}
	switch kind {
	case p2p.QueryReceipt:
		if req.Digest == nil {
			return queryProblem(http.StatusBadRequest, "a receipt query needs a digest")
		}
		r, err := c.n.Receipt(*req.Digest)
		switch {
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrPending):
			return queryProblem(http.StatusNotFound, err.Error())
		case err != nil:
			return 0, nil, err
		}
		out, err := json.Marshal(r)
		return http.StatusOK, out, err
	case p2p.QueryVerify, p2p.QueryStatus:
		data, form := []byte(req.Credential), credential.FormJSON
		// Only a JSON string (or null) unmarshals into a string: a look at
		// the first byte spares scanning a credential object to learn it.
		var jwt string
		if cred := bytes.TrimLeft(req.Credential, " \t\r\n"); len(cred) > 0 && (cred[0] == '"' || cred[0] == 'n') && json.Unmarshal(cred, &jwt) == nil {
			data, form = []byte(jwt), credential.FormJWT
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return queryProblem(http.StatusBadRequest, "a query needs a credential")
		}
		var rc *anchor.Receipt
		if len(req.Receipt) > 0 && !bytes.Equal(req.Receipt, []byte("null")) {
			var err error
			if rc, err = anchor.ParseReceipt(req.Receipt); err != nil {
				return queryProblem(http.StatusBadRequest, err.Error())
			}
		}
		v, err := c.n.Verify(ctx, data, form, rc)
		if err != nil {
			c.n.CountVerification(ChannelLibp2p, OutcomeError)
			return 0, nil, err
		}
		if kind == p2p.QueryStatus {
			out, err := json.Marshal(map[string]any{"status": v.Status})
			return http.StatusOK, out, err
		}
		o := OutcomeFailed
		if v.Verified {
			o = OutcomeVerified
		}
		c.n.CountVerification(ChannelLibp2p, o)
		out, err := json.Marshal(v)
		return http.StatusOK, out, err
	}
	return queryProblem(http.StatusBadRequest, fmt.Sprintf("unknown query kind %q", kind))
}

func queryProblem(status int, detail string) (int, []byte, error) {
	out, err := json.Marshal(map[string]any{"status": status, "detail": detail})
	return status, out, err
}

// announceBatch tells the consortium about a batch this node anchored.
func (n *Node) announceBatch(b *store.Batch) {
	if n.host == nil || b.Foreign {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := &p2p.BatchAnnouncement{Root: b.Root, Size: b.Size, Member: b.Member, TxHash: b.TxHash, Block: b.BlockNumber}
	if err := n.host.PublishBatch(ctx, a); err != nil {
		n.log.Warn("announcing a batch", slog.String("root", merkle.Hash(b.Root).String()), slog.Any("error", err))
	}
}

// announceStatusList tells the consortium about a new anchored version of
// one of this node's status lists.
func (n *Node) announceStatusList(ctx context.Context, id string, version uint64, hash [32]byte) {
	if n.host == nil {
		return
	}
	member, err := n.anchorer.Member(ctx)
	if err == nil {
		err = n.host.PublishStatusList(ctx, &p2p.StatusListAnnouncement{Member: member, URL: n.statusListURL(id), Hash: hash, Version: version})
	}
	if err != nil {
		n.log.Warn("announcing a status list", slog.String("list", id), slog.Any("error", err))
	}
}
