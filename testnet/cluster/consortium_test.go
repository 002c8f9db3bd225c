package cluster_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/p2p"
	"github.com/credanchor/credanchor/testnet/cluster"
)

// eventually polls f until it returns "" or a minute passes.
func eventually(t *testing.T, what string, f func() string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		why := f()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsortiumReplicates: three institutions' nodes on libp2p. A
// credential one issues is replicated by the others, which then serve its
// receipt and verify it without being given one, over HTTP and over the
// libp2p query protocol; its revocation reaches their answers.
func TestConsortiumReplicates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Config{Nodes: 3, P2P: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, in := range c.Institutions {
		eventually(t, in.Name+" sees the other members", func() string {
			if n := len(in.Node().P2P().Peers()); n != 2 {
				return "peers: " + strings.Repeat("x", n)
			}
			return ""
		})
	}
	a := c.Institutions[0]
	iss := issueTo(t, a, badge("https://uni.example/achievements/ds-101", "DS 101", "did:example:learner"))
	for _, in := range c.Institutions[1:] {
		eventually(t, in.Name+" serves the receipt of a credential of "+a.Name, func() string {
			code, body := get(t, in.URL+"/v1/credentials/"+iss.digest+"/receipt")
			if code != http.StatusOK {
				return string(body)
			}
			return ""
		})
		eventually(t, in.Name+" verifies it with no receipt given", func() string {
			code, body := post(t, in.URL+"/v1/verify", "", map[string]json.RawMessage{"credential": iss.cred})
			if code != http.StatusOK || !strings.Contains(string(body), `"verified":true`) {
				return string(body)
			}
			return ""
		})
	}
	// Over libp2p: the second node asks the third.
	b, third := c.Institutions[1].Node().P2P(), c.Institutions[2].Node().P2P()
	body, _ := json.Marshal(map[string]json.RawMessage{"credential": iss.cred})
	code, resp, err := b.Query(ctx, third.ID(), p2p.QueryVerify, body)
	if err != nil || code != http.StatusOK || !strings.Contains(string(resp), `"verified":true`) {
		t.Fatalf("verify over libp2p: %d %s %v", code, resp, err)
	}
	code, resp, err = b.Query(ctx, third.ID(), p2p.QueryReceipt, []byte(`{"digest":"`+iss.digest+`"}`))
	if err != nil || code != http.StatusOK || !strings.Contains(string(resp), iss.digest) {
		t.Fatalf("receipt over libp2p: %d %s %v", code, resp, err)
	}
	if code, _, err := b.Query(ctx, third.ID(), p2p.QueryVerify, []byte(`{"nonsense":1}`)); err != nil || code != http.StatusBadRequest {
		t.Errorf("malformed query: %d %v, want 400", code, err)
	}
	// The third node counts the verification in its libp2p channel.
	if _, m := get(t, c.Institutions[2].URL+"/metrics"); !strings.Contains(string(m), `credanchor_verify_requests_total{channel="libp2p",outcome="verified"} 1`) {
		t.Error("the libp2p verification is not counted in /metrics")
	}
	code, st := get(t, c.Institutions[2].URL+"/v1/stats?bucket=day")
	var stats struct {
		Totals struct {
			Verifications map[string]map[string]int `json:"verifications"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(st, &stats); code != http.StatusOK || err != nil || stats.Totals.Verifications["verified"]["libp2p"] != 1 {
		t.Errorf("/v1/stats: %d %s", code, st)
	}

	// Revocation by the issuer reaches the others' answers.
	if code, body := post(t, a.URL+"/v1/credentials/"+iss.digest+"/revoke", a.Token, map[string]string{}); code != http.StatusOK {
		t.Fatalf("revoke: %d %s", code, body)
	}
	for _, in := range c.Institutions[1:] {
		eventually(t, in.Name+" answers revoked", func() string {
			_, body := post(t, in.URL+"/v1/verify", "", map[string]json.RawMessage{"credential": iss.cred})
			if !strings.Contains(string(body), `"detail":"revoked"`) {
				return string(body)
			}
			return ""
		})
	}
}

// TestConsortiumCatchUp: a node that was down while the others issued, and
// a fourth that joins afterwards, read the registry's events and fetch the
// batches they missed from peers, then answer for every member's
// credentials. Their catch-ups report progress up to the totals, which are
// the missed batches and credentials, and leave the metrics at them. With a
// log range of a few blocks they also report the events read, range by
// range.
func TestConsortiumCatchUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var (
		mu sync.Mutex
		// stored sums, by institution, what its ended catch-ups stored;
		// ended counts those that ended without error.
		stored  = map[int]node.CatchUpProgress{}
		ended   = map[int]int{}
		reading = map[int]uint64{} // by institution, the last block read
		reports []string
	)
	onCatchUp := func(i int, p node.CatchUpProgress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Batches > p.TotalBatches || p.Credentials > p.TotalCredentials || p.TotalCredentials < uint64(p.TotalBatches) ||
			p.Block > p.Scanned || p.Scanned > p.HeadBlock || p.Started.IsZero() {
			t.Errorf("institution %d: inconsistent progress %+v", i, p)
		}
		if p.Reading {
			if p.Done || p.Scanned >= p.HeadBlock || p.Batches != p.TotalBatches {
				t.Errorf("institution %d: inconsistent reading %+v", i, p)
			}
			reading[i] = p.Scanned
		}
		if !p.Done {
			return
		}
		reports = append(reports, fmt.Sprintf("institution %d: %+v", i, p))
		s := stored[i]
		s.Batches += p.Batches
		s.Credentials += p.Credentials
		stored[i] = s
		if p.Err == nil {
			ended[i]++
			if p.Batches != p.TotalBatches || p.Credentials != p.TotalCredentials || p.Block != p.HeadBlock {
				t.Errorf("institution %d: a catch-up ended at %+v", i, p)
			}
		}
	}
	c, err := cluster.Start(ctx, cluster.Config{Nodes: 4, P2P: true, OnCatchUp: onCatchUp, LogRange: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The third node goes down, and the fourth has not joined yet.
	for _, i := range []int{2, 3} {
		if err := c.StopNode(i); err != nil {
			t.Fatal(err)
		}
	}
	var issued []held
	for i, in := range c.Institutions[:2] {
		for j := range 3 {
			issued = append(issued, issueTo(t, in, badge(fmt.Sprintf("https://example.org/a/%d-%d", i, j), "Course", "did:example:late")))
		}
	}
	// And a batch of several credentials, submitted at once.
	items := make([]node.Item, 5)
	for i := range items {
		items[i] = node.Item{Data: fmt.Appendf(nil, `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:bulk-%d"}}`, i), Form: credential.FormJSON}
	}
	for _, r := range c.Institutions[0].Node().SubmitMany(items) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		d := r.Submission.Digest.String()
		issued = append(issued, held{digest: d, receipt: waitReceipt(t, c.Institutions[0], d)})
	}
	roots := map[merkle.Hash]bool{}
	for _, h := range issued {
		roots[h.receipt.Root] = true
	}
	// GossipSub offers a message to peers that join for three heartbeats
	// (of a second): after that the missed batches come by catch-up only.
	time.Sleep(4 * time.Second)
	for _, i := range []int{2, 3} {
		if err := c.StartNode(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	for k, in := range c.Institutions[2:] {
		i := k + 2
		for _, h := range issued {
			eventually(t, in.Name+" serves a receipt it missed", func() string {
				code, body := get(t, in.URL+"/v1/credentials/"+h.digest+"/receipt")
				if code != http.StatusOK {
					return string(body)
				}
				return ""
			})
		}
		eventually(t, in.Name+" reports its catch-up done", func() string {
			mu.Lock()
			defer mu.Unlock()
			if ended[i] == 0 || stored[i].Batches != len(roots) {
				return fmt.Sprintf("%d ended; %d of %d batches stored; reports:\n%s", ended[i], stored[i].Batches, len(roots), strings.Join(reports, "\n"))
			}
			return ""
		})
		mu.Lock()
		if got := stored[i].Credentials; got != uint64(len(issued)) {
			t.Errorf("%s: catch-ups stored %d credentials, want %d", in.Name, got, len(issued))
		}
		if reading[i] == 0 {
			t.Errorf("%s: no report of the events read", in.Name)
		}
		mu.Unlock()
		code, body := get(t, in.URL+"/metrics")
		if code != http.StatusOK {
			t.Fatalf("%s metrics: %d", in.Name, code)
		}
		for name, want := range map[string]int{
			"credanchor_catchup_batches_total":         len(roots),
			"credanchor_catchup_remaining_batches":     0,
			"credanchor_catchup_remaining_credentials": 0,
		} {
			if got := metric(t, body, name); got != float64(want) {
				t.Errorf("%s: %s = %v, want %d", in.Name, name, got, want)
			}
		}
	}
}

// metric returns the value of an unlabelled metric in a Prometheus text
// exposition.
func metric(t *testing.T, exposition []byte, name string) float64 {
	t.Helper()
	for line := range strings.Lines(string(exposition)) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in the metrics", name)
	return 0
}

// liar is a libp2p host outside the cluster's nodes, keyed by nodeKey,
// that validates nothing it hears.
func liar(t *testing.T, c *cluster.Cluster, in *cluster.Institution, key *ecdsa.PrivateKey) *p2p.Host {
	t.Helper()
	h, err := p2p.New(t.Context(), p2p.Config{DataDir: t.TempDir(), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		ChainID: c.Chain.ChainID().Uint64(), Registry: c.Registry, NodeKey: key,
		Membership: node.NewMembership(c.Chain.Client(), c.Registry), Validator: acceptAll{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

type acceptAll struct{}

func (acceptAll) ValidateBatch(context.Context, p2p.Peer, *p2p.BatchAnnouncement) error { return nil }
func (acceptAll) ValidateStatusList(context.Context, p2p.Peer, *p2p.StatusListAnnouncement) error {
	return nil
}

// TestConsortiumRefusesLies: a member's node key announcing a root the
// chain does not hold, or a status list hash that is not anchored, is
// dropped by the nodes, which store nothing and score it down; a peer whose
// key is no member's gets no answer at all.
func TestConsortiumRefusesLies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Config{Nodes: 2, P2P: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := c.Institutions[0]
	target := a.Node().P2P()

	// A member's key, lying.
	l := liar(t, c, c.Institutions[1], c.Institutions[1].NodeKey)
	if _, err := l.Connect(ctx, a.PeerAddrs[0]); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the liar joins the mesh", func() string {
		for _, p := range target.Peers() {
			if p.ID == l.ID() {
				return ""
			}
		}
		return "not a peer yet"
	})
	fake := merkle.Hash{0xde, 0xad}
	// The liar keeps lying until the node has scored it down: its first
	// messages may go out before the gossip mesh has formed.
	eventually(t, "the liar's score falls", func() string {
		if err := l.PublishBatch(ctx, &p2p.BatchAnnouncement{Root: fake, Size: 3, Member: c.Institutions[1].Member, Block: 1}); err != nil {
			return err.Error()
		}
		if err := l.PublishStatusList(ctx, &p2p.StatusListAnnouncement{Member: c.Institutions[1].Member, URL: c.Institutions[1].URL + "/v1/status-lists/revocation-1", Hash: fake, Version: 9}); err != nil {
			return err.Error()
		}
		if s := target.PeerScore(l.ID()); s >= 0 {
			return fmt.Sprintf("score %v", s)
		}
		return ""
	})
	if code, _ := get(t, a.URL+"/v1/batches/"+fake.String()); code != http.StatusNotFound {
		t.Errorf("the lie was stored: GET batch %d", code)
	}

	// A key that is no member's: no answers.
	stranger, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s := liar(t, c, c.Institutions[1], stranger)
	// It may reach the node, which then checks its record and drops it.
	_, _ = s.Connect(ctx, a.PeerAddrs[0])
	if code, _, err := s.Query(ctx, target.ID(), p2p.QueryReceipt, []byte(`{"digest":"`+fake.String()+`"}`)); err == nil {
		t.Errorf("a non-member's query was answered: %d", code)
	}
	for _, p := range target.Peers() {
		if p.ID == s.ID() {
			t.Error("a non-member is among the node's peers")
		}
	}
	if sc := target.PeerScore(s.ID()); sc >= 0 {
		t.Errorf("the non-member's score is %v", sc)
	}
}
