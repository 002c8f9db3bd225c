package p2p

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

func TestIdentityPersists(t *testing.T) {
	ms := newMembership()
	dir := t.TempDir()
	a := newTestNode(t, nodeOpts{membership: ms, member: member(1), dir: dir})
	id := a.ID()
	fi, err := os.Stat(filepath.Join(dir, IdentityFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("identity file mode = %#o, want 0600", got)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	b := newTestNode(t, nodeOpts{membership: ms, dir: dir, key: a.key})
	if b.ID() != id {
		t.Errorf("peer ID after restart = %s, want %s", b.ID(), id)
	}
	for _, addr := range b.Addrs() {
		if want := "/p2p/" + id.String(); len(addr) < len(want) || addr[len(addr)-len(want):] != want {
			t.Errorf("address %q does not end in %s", addr, want)
		}
	}
}

func TestIdentityRefusedWhenReadable(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		dir := t.TempDir()
		if _, err := loadIdentity(dir); err != nil {
			t.Fatalf("create identity: %v", err)
		}
		if err := os.Chmod(filepath.Join(dir, IdentityFile), mode); err != nil {
			t.Fatal(err)
		}
		_, err := loadIdentity(dir)
		if !errors.Is(err, ErrIdentity) {
			t.Errorf("mode %#o: loadIdentity error = %v, want ErrIdentity", mode, err)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, IdentityFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadIdentity(dir); !errors.Is(err, ErrIdentity) {
		t.Errorf("garbage key: error = %v, want ErrIdentity", err)
	}
}

func TestConfigRequired(t *testing.T) {
	ms := newMembership()
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"no data dir", func(c *Config) { c.DataDir = "" }},
		{"no membership", func(c *Config) { c.Membership = nil }},
		{"guest without membership", func(c *Config) { c.NodeKey, c.Validator, c.Membership = nil, nil, nil }},
		{"no validator", func(c *Config) { c.Validator = nil }},
		{"no chain", func(c *Config) { c.ChainID = 0 }},
		{"bad bootstrap", func(c *Config) { c.Bootstrap = []string{"/ip4/127.0.0.1/tcp/1"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{DataDir: t.TempDir(), ChainID: 1, Registry: testRegistry, Membership: ms, Validator: &testValidator{}}
			key, _ := newKey()
			cfg.NodeKey = key
			tc.edit(&cfg)
			if _, err := New(testContext(t), cfg); !errors.Is(err, ErrConfig) {
				t.Errorf("New error = %v, want ErrConfig", err)
			}
		})
	}
}

func TestThreeMembersViaBootstrap(t *testing.T) {
	ms := newMembership()
	a := newTestNode(t, nodeOpts{membership: ms, member: member(1)})
	b := newTestNode(t, nodeOpts{membership: ms, member: member(2), bootstrap: a.Addrs()})
	c := newTestNode(t, nodeOpts{membership: ms, member: member(3), bootstrap: append(a.Addrs(), b.Addrs()...)})
	nodes := []*testNode{a, b, c}
	for i, n := range nodes {
		for j, m := range nodes {
			if i == j {
				continue
			}
			waitFor(t, n.ID().String()+" sees "+m.ID().String(), func() bool { return hasPeer(n.Host, m.ID()) })
		}
	}
	for _, p := range a.Peers() {
		want := member(2)
		if p.ID == c.ID() {
			want = member(3)
		}
		if p.Member != want {
			t.Errorf("peer %s member = %s, want %s", p.ID, p.Member, want)
		}
	}
}

func TestNonMemberDisconnected(t *testing.T) {
	ms := newMembership()
	a := newTestNode(t, nodeOpts{membership: ms, member: member(1)})
	b := newTestNode(t, nodeOpts{membership: ms, member: member(2), bootstrap: a.Addrs()})
	// x's key is not registered, but x itself accepts a and b.
	x := newTestNode(t, nodeOpts{membership: ms, bootstrap: append(a.Addrs(), b.Addrs()...)})
	waitFor(t, "a and b see each other", func() bool { return hasPeer(a.Host, b.ID()) && hasPeer(b.Host, a.ID()) })
	waitFor(t, "a bans x", func() bool { return a.score.isBanned(x.ID()) && b.score.isBanned(x.ID()) })
	waitFor(t, "x disconnected", func() bool {
		return a.host.Network().Connectedness(x.ID()) != network.Connected && b.host.Network().Connectedness(x.ID()) != network.Connected
	})
	if hasPeer(a.Host, x.ID()) {
		t.Error("a lists non-member x as a peer")
	}
	if s := a.PeerScore(x.ID()); s >= 0 {
		t.Errorf("a's score of x = %v, want < 0", s)
	}

	// No sync or query for x.
	ctx := testContext(t)
	root := addBatch(t, a.provider, 10)
	if _, err := x.GetDigests(ctx, a.ID(), root); err == nil {
		t.Error("x fetched digests from a")
	}
	if _, _, err := x.Query(ctx, a.ID(), QueryVerify, []byte(`{}`)); err == nil {
		t.Error("x queried a")
	}
	// No gossip for x: a's announcement reaches b, and x gets nothing.
	waitFor(t, "b on a's topic", func() bool { return hasTopicPeer(a.Host, b.ID()) })
	ann := &BatchAnnouncement{Root: root, Size: 10, Member: member(1), Block: 7}
	if err := a.PublishBatch(ctx, ann); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-b.handler.ch:
		if d.batch == nil || d.batch.Root != root {
			t.Fatalf("b got %+v", d)
		}
	case <-ctx.Done():
		t.Fatal("b got no announcement")
	}
	select {
	case d := <-x.handler.ch:
		t.Errorf("non-member x got announcement %+v", d)
	default:
	}
}

func TestWrongConsortiumRefused(t *testing.T) {
	ms := newMembership()
	a := newTestNode(t, nodeOpts{membership: ms, member: member(1)})
	// y's key is a member, but y's record names another chain.
	y := newTestNode(t, nodeOpts{membership: ms, member: member(2), bootstrap: a.Addrs(), edit: func(c *Config) { c.ChainID = 1 }})
	// Each refuses the other; whichever decides first closes the
	// connection, so the other may only see it closed.
	waitFor(t, "a and y refuse each other", func() bool {
		return (a.score.isBanned(y.ID()) || y.score.isBanned(a.ID())) &&
			a.host.Network().Connectedness(y.ID()) != network.Connected
	})
	if hasPeer(a.Host, y.ID()) || hasPeer(y.Host, a.ID()) {
		t.Error("a and y list each other as peers")
	}
}

func TestBadMemberRecordRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write []byte
	}{
		{"garbage", append(binary.AppendUvarint(nil, 4), 1, 2, 3, 4)},
		{"oversized", binary.AppendUvarint(nil, MaxRecordSize+1)},
		{"cut short", append(binary.AppendUvarint(nil, 100), 1)},
		{"nothing", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := newMembership()
			a := newTestNode(t, nodeOpts{membership: ms, member: member(1)})
			z := newTestNode(t, nodeOpts{membership: ms, member: member(2)})
			z.host.SetStreamHandler(MemberProtocol, func(s network.Stream) {
				_, _ = s.Write(tc.write)
				_ = s.Close()
			})
			ctx := testContext(t)
			_, _ = z.Connect(ctx, a.Addrs()[0])
			waitFor(t, "a refuses z", func() bool {
				return a.score.isBanned(z.ID()) && a.host.Network().Connectedness(z.ID()) != network.Connected
			})
			if hasPeer(a.Host, z.ID()) {
				t.Error("a lists z")
			}
		})
	}
}

func TestRecordForAnotherPeerRefused(t *testing.T) {
	ms := newMembership()
	a := newTestNode(t, nodeOpts{membership: ms, member: member(1)})
	b := newTestNode(t, nodeOpts{membership: ms, member: member(2)})
	z := newTestNode(t, nodeOpts{membership: ms, member: member(3)})
	// z replays b's (valid, member-signed) record as its own.
	z.host.SetStreamHandler(MemberProtocol, b.handleMember)
	_, _ = z.Connect(testContext(t), a.Addrs()[0])
	waitFor(t, "a refuses z", func() bool { return a.score.isBanned(z.ID()) })
}

func TestRevokedKeyDropped(t *testing.T) {
	ms := newMembership()
	fast := func(c *Config) { c.ReverifyInterval = 50 * time.Millisecond }
	a := newTestNode(t, nodeOpts{membership: ms, member: member(1), edit: fast})
	b := newTestNode(t, nodeOpts{membership: ms, member: member(2), bootstrap: a.Addrs(), edit: fast})
	waitFor(t, "a sees b", func() bool { return hasPeer(a.Host, b.ID()) })
	ms.remove(b.key) // b's member revokes its key
	waitFor(t, "a drops b", func() bool {
		return a.score.isBanned(b.ID()) && !hasPeer(a.Host, b.ID()) && a.host.Network().Connectedness(b.ID()) != network.Connected
	})
}
