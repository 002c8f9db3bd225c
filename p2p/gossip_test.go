package p2p

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/credanchor/credanchor/anchor/merkle"
)

func TestGossipReachesAllMembers(t *testing.T) {
	ms := newMembership()
	a := newTestNode(t, nodeOpts{membership: ms, member: member(1)})
	b := newTestNode(t, nodeOpts{membership: ms, member: member(2), bootstrap: a.Addrs()})
	c := newTestNode(t, nodeOpts{membership: ms, member: member(3), bootstrap: a.Addrs()})
	// b and c are connected only through a: the announcement is relayed.
	waitFor(t, "a meshes with b and c", func() bool { return hasTopicPeer(a.Host, b.ID()) && hasTopicPeer(a.Host, c.ID()) })
	waitFor(t, "b and c subscribe to a", func() bool { return hasTopicPeer(b.Host, a.ID()) && hasTopicPeer(c.Host, a.ID()) })
	waitFor(t, "a's mesh holds b and c", func() bool { return len(a.MeshPeers()) == 2 })

	ctx := testContext(t)
	batch := &BatchAnnouncement{Root: merkle.Hash{1}, Size: 3, Member: member(2), TxHash: common.Hash{9}, Block: 42}
	if err := b.PublishBatch(ctx, batch); err != nil {
		t.Fatalf("PublishBatch: %v", err)
	}
	for _, n := range []*testNode{a, c} {
		select {
		case d := <-n.handler.ch:
			if d.batch == nil || *d.batch != *batch {
				t.Errorf("got %+v, want batch %+v", d, batch)
			}
			if d.from.ID != b.ID() || d.from.Member != member(2) {
				t.Errorf("from = %+v, want b (%s) of %s", d.from, b.ID(), member(2))
			}
		case <-ctx.Done():
			t.Fatal("announcement not delivered")
		}
	}
	list := &StatusListAnnouncement{Member: member(1), URL: "https://example.edu/status/1", Hash: merkle.Hash{7}, Version: 3}
	if err := a.PublishStatusList(ctx, list); err != nil {
		t.Fatalf("PublishStatusList: %v", err)
	}
	for _, n := range []*testNode{b, c} {
		select {
		case d := <-n.handler.ch:
			if d.list == nil || *d.list != *list {
				t.Errorf("got %+v, want status list %+v", d, list)
			}
		case <-ctx.Done():
			t.Fatal("status list announcement not delivered")
		}
	}
	select {
	case d := <-b.handler.ch:
		t.Errorf("b got its own announcement back: %+v", d)
	default:
	}
}

func TestRejectedAnnouncementScoresSender(t *testing.T) {
	a, b := connectedPair(t, nil)
	waitFor(t, "topic peers", func() bool { return hasTopicPeer(a.Host, b.ID()) && hasTopicPeer(b.Host, a.ID()) })
	b.validator.reject.Store(true)
	ctx := testContext(t)
	if err := a.PublishBatch(ctx, &BatchAnnouncement{Root: merkle.Hash{2}, Size: 1, Member: member(1)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b's score of a falls", func() bool { return b.PeerScore(a.ID()) < 0 })
	if b.validator.calls.Load() == 0 {
		t.Error("b's validator was not asked")
	}
	select {
	case d := <-b.handler.ch:
		t.Fatalf("rejected announcement delivered: %+v", d)
	default:
	}
	// More lies: a falls below the graylist threshold and is dropped.
	for i := range 4 {
		if err := a.PublishBatch(ctx, &BatchAnnouncement{Root: merkle.Hash{3, byte(i)}, Size: 1, Member: member(1)}); err != nil {
			break // a may already be cut off
		}
	}
	waitFor(t, "b drops a", func() bool {
		return b.score.isBanned(a.ID()) && b.host.Network().Connectedness(a.ID()) != network.Connected && !hasPeer(b.Host, a.ID())
	})
}

func TestDecodeEnvelopeRejects(t *testing.T) {
	a, _ := connectedPair(t, nil)
	good := func() *envelope {
		return &envelope{V: 1, Record: a.record, Batch: &BatchAnnouncement{Root: merkle.Hash{1}, Size: 1}}
	}
	for _, tc := range []struct {
		name string
		data string
	}{
		{"empty", ``},
		{"not json", `{"v":1,`},
		{"version", `{"v":2}`},
		{"neither", `{"v":1,"record":""}`},
		{"unknown field", `{"v":1,"x":1}`},
		{"trailing", `{"v":1} {}`},
		{"oversized", `{"v":1,"pad":"` + string(make([]byte, MaxAnnouncementSize)) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := decodeEnvelope([]byte(tc.data)); err == nil {
				t.Error("decodeEnvelope accepted it")
			}
		})
	}
	e := good()
	e.Batch.Size = 0
	if _, _, err := decodeEnvelope(mustJSON(t, e)); err == nil {
		t.Error("size 0 accepted")
	}
	e = good()
	e.StatusList = &StatusListAnnouncement{URL: "x"}
	if _, _, err := decodeEnvelope(mustJSON(t, e)); err == nil {
		t.Error("both kinds accepted")
	}
	e = good()
	e.Record = append([]byte(nil), e.Record...)
	e.Record[len(e.Record)-10] ^= 1
	if _, _, err := decodeEnvelope(mustJSON(t, e)); err == nil {
		t.Error("corrupt record accepted")
	}
	if _, _, err := decodeEnvelope(mustJSON(t, good())); err != nil {
		t.Errorf("good envelope: %v", err)
	}
}

func TestMalformedAnnouncementScored(t *testing.T) {
	a, b := connectedPair(t, nil)
	waitFor(t, "topic peers", func() bool { return hasTopicPeer(a.Host, b.ID()) && hasTopicPeer(b.Host, a.ID()) })
	// a publishes raw bytes past its own checks.
	topic := Topic(testChainID, testRegistry)
	if err := a.ps.UnregisterTopicValidator(topic); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	for _, data := range [][]byte{
		[]byte("not json"),
		[]byte(`{"v":1,"batch":{"size":1}}`), // no record
		make([]byte, MaxAnnouncementSize+1),
	} {
		if err := a.topic.Publish(ctx, data); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	waitFor(t, "b drops a", func() bool { return b.score.isBanned(a.ID()) })
	if b.validator.calls.Load() != 0 {
		t.Error("malformed announcements reached the Validator")
	}
	select {
	case d := <-b.handler.ch:
		t.Errorf("malformed announcement delivered: %+v", d)
	default:
	}
}
