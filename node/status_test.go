package node_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
)

// counter reads a counter of the node's metrics.
func counter(tb testing.TB, n *node.Node, name string) float64 {
	tb.Helper()
	mfs, err := n.Metrics().Registry.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var sum float64
			for _, m := range mf.GetMetric() {
				sum += metricValue(m)
			}
			return sum
		}
	}
	return 0
}

func metricValue(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}

// BenchmarkPublishStatusList measures publishing a status change of a
// 131,072-entry list: a new version encoded, signed (eddsa-rdfc-2022),
// stored, anchored on an in-process chain and confirmed. It reports the gas
// of one status anchor.
func BenchmarkPublishStatusList(b *testing.B) {
	ctx := context.Background()
	chain, err := testnet.New(ctx, testnet.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer chain.Close()
	c, err := testnet.DeployConsortium(ctx, chain)
	if err != nil {
		b.Fatal(err)
	}
	id, err := node.NewDIDKeyIssuer(testnet.ExampleIssuerKey, "Example University")
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(store.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	n, err := node.New(ctx, node.Config{
		Store: st, Chain: chain.Client(), Registry: c.Registry, NodeKey: c.NodeKey, Issuer: id,
		PublicURL: "http://127.0.0.1:8080", StatusPublishInterval: time.Hour,
		Anchor: anchor.Config{PollInterval: 5 * time.Millisecond},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	iss, err := n.Issue(ctx, []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:learner"}}`), node.IssueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if err := n.PublishStatusLists(ctx); err != nil {
		b.Fatal(err)
	}
	gas0, v0 := counter(b, n, "credanchor_status_list_gas_total"), counter(b, n, "credanchor_status_list_versions_anchored_total")
	actions := []string{node.ActionSuspend, node.ActionUnsuspend}
	i := 0
	for b.Loop() {
		if _, err := n.ChangeStatus(iss.Submission.Digest, actions[i%2], ""); err != nil {
			b.Fatal(err)
		}
		i++
		if err := n.PublishStatusLists(ctx); err != nil {
			b.Fatal(err)
		}
	}
	gas, v := counter(b, n, "credanchor_status_list_gas_total")-gas0, counter(b, n, "credanchor_status_list_versions_anchored_total")-v0
	if v != float64(b.N) {
		b.Fatalf("%v versions anchored for %d changes", v, b.N)
	}
	b.ReportMetric(gas/v, "gas/anchor")
}
