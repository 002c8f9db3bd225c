package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/testnet/cluster"
)

// BenchmarkCatchUp1M measures a node catching up with 1,000,000 credentials
// another member anchored while it was down: from its start to serving the
// receipt of the batch's last credential (the registry's events read, the
// digests fetched from the peer over libp2p and checked against the root,
// and stored). The issue's goal: at most 60 s on this machine. Run it with
// -benchtime 1x: a node catches up once.
func BenchmarkCatchUp1M(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	c, err := cluster.Start(ctx, cluster.Config{Nodes: 2, P2P: true, MaxBatchSize: n, BatchWait: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	a := c.Institutions[0]
	if err := c.StopNode(1); err != nil {
		b.Fatal(err)
	}
	items := make([]node.Item, n)
	for i := range items {
		items[i] = node.Item{Data: fmt.Appendf(nil, `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:%d"}}`, i), Form: credential.FormJSON}
	}
	for start := 0; start < n; start += 100_000 {
		for _, r := range a.Node().SubmitMany(items[start : start+100_000]) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	last, err := credential.Digest(items[n-1].Data, items[n-1].Form)
	if err != nil {
		b.Fatal(err)
	}
	lastHex := fmt.Sprintf("0x%x", last)
	waitReceiptAt := func(url string, limit time.Duration) {
		deadline := time.Now().Add(limit)
		for {
			resp, err := http.Get(url + "/v1/credentials/" + lastHex + "/receipt")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			if time.Now().After(deadline) {
				b.Fatalf("no receipt at %s within %v", url, limit)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitReceiptAt(a.URL, 5*time.Minute)
	for b.Loop() {
		start := time.Now()
		if err := c.StartNode(ctx, 1); err != nil {
			b.Fatal(err)
		}
		waitReceiptAt(c.Institutions[1].URL, 5*time.Minute)
		b.ReportMetric(time.Since(start).Seconds(), "s/catch-up")
	}
}

// BenchmarkQueryVerify measures verify queries over libp2p answered by a
// node's real Querier: one node asks another to verify a credential the
// other issued (full checks, with the chain calls of the anchor checks).
// The issue's goal: at least 10,000/s (1e9 / ns/op). The per-peer rate
// limit is lifted: all queries come from one peer here.
func BenchmarkQueryVerify(b *testing.B) {
	ctx := context.Background()
	c, err := cluster.Start(ctx, cluster.Config{Nodes: 2, P2P: true, QueryRate: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	a, asker := c.Institutions[0], c.Institutions[1].Node().P2P()
	iss, err := a.Node().Issue(ctx, []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:q"}}`), node.IssueOptions{Cryptosuite: "eddsa-jcs-2022"})
	if err != nil {
		b.Fatal(err)
	}
	body := fmt.Appendf(nil, `{"credential":%s}`, iss.Credential)
	target := a.Node().P2P().ID()
	deadline := time.Now().Add(time.Minute)
	for {
		code, resp, err := asker.Query(ctx, target, "verify", body)
		if err == nil && code == http.StatusOK && strings.Contains(string(resp), `"verified":true`) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("never verified: %d %s %v", code, resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code, resp, err := asker.Query(ctx, target, "verify", body); err != nil || code != http.StatusOK {
				b.Errorf("query: %d %s %v", code, resp, err)
				return
			}
		}
	})
}
