package p2p

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/credanchor/credanchor/anchor/merkle"
)

const testChainID = 31337

var testRegistry = common.HexToAddress("0x00000000000000000000000000000000000c0de1")

// testWait bounds every wait in these tests: generous, since a loaded
// two-core machine may be slow, and never a sleep that a result must beat.
const testWait = 60 * time.Second

// memMembership maps node keys to members.
type memMembership struct {
	mu   sync.Mutex
	keys map[common.Address]common.Address
}

func newMembership() *memMembership {
	return &memMembership{keys: make(map[common.Address]common.Address)}
}

func (m *memMembership) add(key *ecdsa.PrivateKey, member common.Address) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[crypto.PubkeyToAddress(key.PublicKey)] = member
}

func (m *memMembership) MemberOf(_ context.Context, k common.Address) (common.Address, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	member, ok := m.keys[k]
	return member, ok, nil
}

// testValidator accepts everything unless reject is set, and counts calls.
type testValidator struct {
	reject atomic.Bool
	calls  atomic.Int64
}

func (v *testValidator) ValidateBatch(context.Context, Peer, *BatchAnnouncement) error {
	v.calls.Add(1)
	if v.reject.Load() {
		return errors.New("not anchored")
	}
	return nil
}

func (v *testValidator) ValidateStatusList(context.Context, Peer, *StatusListAnnouncement) error {
	v.calls.Add(1)
	if v.reject.Load() {
		return errors.New("not the latest")
	}
	return nil
}

type delivery struct {
	from  Peer
	batch *BatchAnnouncement
	list  *StatusListAnnouncement
}

// chanHandler forwards deliveries to a channel.
type chanHandler struct{ ch chan delivery }

func newHandler() *chanHandler { return &chanHandler{ch: make(chan delivery, 64)} }

func (h *chanHandler) OnBatch(_ context.Context, from Peer, a *BatchAnnouncement) {
	h.ch <- delivery{from: from, batch: a}
}

func (h *chanHandler) OnStatusList(_ context.Context, from Peer, a *StatusListAnnouncement) {
	h.ch <- delivery{from: from, list: a}
}

// memProvider serves fixed batches and status lists.
type memProvider struct {
	mu      sync.Mutex
	batches map[merkle.Hash][]merkle.Hash
	lists   map[merkle.Hash][]byte
}

func newProvider() *memProvider {
	return &memProvider{batches: make(map[merkle.Hash][]merkle.Hash), lists: make(map[merkle.Hash][]byte)}
}

func (p *memProvider) Digests(_ context.Context, root merkle.Hash) ([]merkle.Hash, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ds, ok := p.batches[root]
	if !ok {
		return nil, ErrNotFound
	}
	return ds, nil
}

func (p *memProvider) StatusList(_ context.Context, _ string, hash merkle.Hash) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.lists[hash]
	if !ok {
		return nil, ErrNotFound
	}
	return b, nil
}

// echoQuerier answers 200 with the request body.
type echoQuerier struct{}

func (echoQuerier) Query(_ context.Context, _ string, body []byte) (int, []byte, error) {
	return 200, body, nil
}

type testNode struct {
	*Host
	key       *ecdsa.PrivateKey
	dir       string
	validator *testValidator
	handler   *chanHandler
	provider  *memProvider
}

// nodeOpts adjusts a test node's config before start.
type nodeOpts struct {
	membership *memMembership
	member     common.Address // zero: the node key is not registered
	bootstrap  []string
	dir        string
	key        *ecdsa.PrivateKey
	edit       func(*Config)
}

func newTestNode(t testing.TB, o nodeOpts) *testNode {
	t.Helper()
	key := o.key
	if key == nil {
		var err error
		if key, err = crypto.GenerateKey(); err != nil {
			t.Fatal(err)
		}
	}
	if o.member != (common.Address{}) {
		o.membership.add(key, o.member)
	}
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	n := &testNode{key: key, dir: dir, validator: &testValidator{}, handler: newHandler(), provider: newProvider()}
	cfg := Config{
		DataDir:          dir,
		Bootstrap:        o.bootstrap,
		BootstrapBackoff: 100 * time.Millisecond,
		ChainID:          testChainID,
		Registry:         testRegistry,
		NodeKey:          key,
		Membership:       o.membership,
		Validator:        n.validator,
		Handler:          n.handler,
		Provider:         n.provider,
		Querier:          echoQuerier{},
		Logger:           testLogger(),
	}
	if o.edit != nil {
		o.edit(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	h, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	n.Host = h
	return n
}

// waitFor polls cond until it holds or testWait passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasPeer(h *Host, id peer.ID) bool {
	for _, p := range h.Peers() {
		if p.ID == id {
			return true
		}
	}
	return false
}

func hasTopicPeer(h *Host, id peer.ID) bool {
	for _, p := range h.topicPeers() {
		if p == id {
			return true
		}
	}
	return false
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	t.Cleanup(cancel)
	return ctx
}

func member(i byte) common.Address { return common.BytesToAddress([]byte{0xaa, i}) }

func newKey() (*ecdsa.PrivateKey, error) { return crypto.GenerateKey() }

// testDigests returns n distinct digests derived from seed.
func testDigests(n int, seed byte) []merkle.Hash {
	ds := make([]merkle.Hash, n)
	for i := range ds {
		ds[i][0] = seed
		ds[i][1], ds[i][2], ds[i][3], ds[i][4] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	}
	return ds
}

// addBatch stores a batch of n digests in p and returns its root.
func addBatch(t testing.TB, p *memProvider, n int) merkle.Hash {
	t.Helper()
	ds := testDigests(n, byte(n))
	tr, err := merkle.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.batches[tr.Root()] = ds
	p.mu.Unlock()
	return tr.Root()
}

// connectedPair returns two member nodes that see each other.
func connectedPair(t testing.TB, edit func(*Config)) (a, b *testNode) {
	t.Helper()
	ms := newMembership()
	a = newTestNode(t, nodeOpts{membership: ms, member: member(1), edit: edit})
	b = newTestNode(t, nodeOpts{membership: ms, member: member(2), bootstrap: a.Addrs(), edit: edit})
	waitFor(t, "a and b see each other", func() bool { return hasPeer(a.Host, b.ID()) && hasPeer(b.Host, a.ID()) })
	return a, b
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testLogger() *slog.Logger {
	if os.Getenv("P2P_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func protocolID(s string) protocol.ID { return protocol.ID(s) }

func deadline() time.Time { return time.Now().Add(testWait) }

func (m *memMembership) remove(key *ecdsa.PrivateKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, crypto.PubkeyToAddress(key.PublicKey))
}

func (p *memProvider) addList(hash merkle.Hash, cred []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lists[hash] = cred
}
