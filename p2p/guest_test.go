package p2p

import (
	"bufio"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// newGuest starts a host without a node key, as a verifier's
// `credanchor query` does.
func newGuest(t *testing.T, ms *memMembership) *Host {
	t.Helper()
	h, err := New(testContext(t), Config{
		DataDir:    t.TempDir(),
		ChainID:    testChainID,
		Registry:   testRegistry,
		Membership: ms,
		Logger:     testLogger(),
	})
	if err != nil {
		t.Fatalf("New guest: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestGuestQueries(t *testing.T) {
	const burst = 5
	ms := newMembership()
	a := newTestNode(t, nodeOpts{membership: ms, member: member(1), edit: func(c *Config) {
		c.GuestQueryRate = 0.001 // about no refill during the test
		c.GuestQueryBurst = burst
	}})
	g := newGuest(t, ms)
	ctx := testContext(t)

	// The guest checks that it asks a member's node.
	p, err := g.Connect(ctx, a.Addrs()[0])
	if err != nil {
		t.Fatalf("guest connect: %v", err)
	}
	if p.Member != member(1) {
		t.Errorf("guest sees member %s, want %s", p.Member, member(1))
	}
	for i := range burst {
		status, resp, err := g.Query(ctx, a.ID(), QueryVerify, []byte(`{"q":1}`))
		if err != nil || status != 200 || string(resp) != `{"q":1}` {
			t.Fatalf("guest query %d: %d %s %v", i, status, resp, err)
		}
	}
	// Guests have their own, lower, rate.
	if _, _, err := g.Query(ctx, a.ID(), QueryVerify, []byte(`{}`)); !errors.Is(err, ErrRateLimited) {
		t.Errorf("guest over its burst: error = %v, want ErrRateLimited", err)
	}

	// A guest stays connected, is no member peer, and has not lost score.
	if a.host.Network().Connectedness(g.ID()) != network.Connected {
		t.Error("a disconnected the guest")
	}
	if hasPeer(a.Host, g.ID()) {
		t.Error("a lists the guest as a member peer")
	}
	if s := a.PeerScore(g.ID()); s < 0 {
		t.Errorf("guest's score = %v", s)
	}
	// Queries are all a guest may do.
	root := addBatch(t, a.provider, 4)
	if _, err := g.GetDigests(ctx, a.ID(), root); err == nil {
		t.Error("guest fetched digests")
	}
	if err := g.PublishBatch(ctx, &BatchAnnouncement{Root: root, Size: 4, Member: member(1), Block: 1}); !errors.Is(err, ErrConfig) {
		t.Errorf("guest publish: error = %v, want ErrConfig", err)
	}
	// A guest host does not take a non-member for a node to ask.
	x := newTestNode(t, nodeOpts{membership: ms})
	if _, err := g.Connect(ctx, x.Addrs()[0]); !errors.Is(err, ErrNotMember) {
		t.Errorf("guest connect to a non-member: error = %v, want ErrNotMember", err)
	}
}

func TestGuestsShareATotal(t *testing.T) {
	ms := newMembership()
	a := newTestNode(t, nodeOpts{membership: ms, member: member(1), edit: func(c *Config) {
		c.GuestQueryTotal = 0.6 // a burst of one between all guests
	}})
	g1, g2 := newGuest(t, ms), newGuest(t, ms)
	ctx := testContext(t)
	for _, g := range []*Host{g1, g2} {
		if _, err := g.Connect(ctx, a.Addrs()[0]); err != nil {
			t.Fatal(err)
		}
	}
	// The bucket refills a token in 1.7 s: only a pair asked closer
	// together than that tells.
	for try := 0; ; try++ {
		if try == 10 {
			t.Fatal("no pair of queries told within 10 tries")
		}
		start := time.Now()
		_, _, err1 := g1.Query(ctx, a.ID(), QueryStatus, []byte(`{}`))
		_, _, err2 := g2.Query(ctx, a.ID(), QueryStatus, []byte(`{}`))
		if time.Since(start) > time.Second {
			continue
		}
		if err1 == nil && !errors.Is(err2, ErrRateLimited) {
			t.Fatalf("second guest: error = %v, want ErrRateLimited", err2)
		}
		if err1 == nil {
			break
		}
		time.Sleep(2 * time.Second)
	}
	// Members are not counted in the guests' total.
	b := newTestNode(t, nodeOpts{membership: ms, member: member(2), bootstrap: a.Addrs()})
	waitFor(t, "a and b", func() bool { return hasPeer(a.Host, b.ID()) && hasPeer(b.Host, a.ID()) })
	if _, _, err := b.Query(ctx, a.ID(), QueryStatus, []byte(`{}`)); err != nil {
		t.Errorf("member query with the guests' total spent: %v", err)
	}
}

func TestGuestsRefused(t *testing.T) {
	ms := newMembership()
	a := newTestNode(t, nodeOpts{membership: ms, member: member(1), edit: func(c *Config) { c.GuestQueryRate = -1 }})
	g := newGuest(t, ms)
	ctx := testContext(t)
	_, _ = g.Connect(ctx, a.Addrs()[0])
	waitFor(t, "a closes the guest's connection", func() bool {
		return a.host.Network().Connectedness(g.ID()) != network.Connected
	})
	if _, _, err := g.Query(ctx, a.ID(), QueryVerify, []byte(`{}`)); err == nil {
		t.Error("a refusing guests answered one")
	}
	// Refused, not punished: a verifier may come back when guests are
	// welcome.
	if s := a.PeerScore(g.ID()); s < 0 || a.score.isBanned(g.ID()) {
		t.Errorf("refused guest: score %v, banned %v", s, a.score.isBanned(g.ID()))
	}
}

func TestGuestBadRequestsDropped(t *testing.T) {
	ms := newMembership()
	a := newTestNode(t, nodeOpts{membership: ms, member: member(1)})
	g := newGuest(t, ms)
	ctx := testContext(t)
	if _, err := g.Connect(ctx, a.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	bad := append(binary.AppendUvarint(nil, 3), 9, 'a', 'b')
	for range 20 {
		s, err := g.host.NewStream(ctx, a.ID(), QueryProtocol)
		if err != nil {
			break
		}
		_ = s.SetDeadline(deadline())
		_, _ = s.Write(bad)
		_, _ = readFrame(bufio.NewReader(s), nil, 64)
		s.Reset()
	}
	waitFor(t, "a bans the guest", func() bool { return a.score.isBanned(g.ID()) })
	if _, err := g.Connect(ctx, a.Addrs()[0]); err == nil {
		t.Error("a banned guest reconnected")
	}
}
