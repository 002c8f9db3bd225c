package node

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the node's Prometheus metrics, in a registry of their own that
// the HTTP API serves at /metrics.
type Metrics struct {
	Registry *prometheus.Registry

	submitted     prometheus.Counter
	issued        prometheus.Counter
	anchored      prometheus.Counter
	pending       prometheus.Gauge
	batches       prometheus.Counter
	batchSize     prometheus.Histogram
	anchorLatency prometheus.Histogram
	gasSpent      prometheus.Counter
	reorgs        prometheus.Counter
	// verify counts verification requests by outcome and channel; every
	// pair exists from the start, so that a rate over it has no gaps.
	verify          [numOutcomes][numChannels]prometheus.Counter
	statusChanges   *prometheus.CounterVec
	statusPublished prometheus.Counter
	statusGas       prometheus.Counter
	// catchUpRemaining, catchUpRemainingCredentials and catchUpBatches
	// follow the catch-up from peers.
	catchUpRemaining            prometheus.Gauge
	catchUpRemainingCredentials prometheus.Gauge
	catchUpBatches              prometheus.Counter
	// institution is an info metric: 1, labelled with the institution the
	// node counts for, which the other metrics leave out (one per node).
	institution *prometheus.GaugeVec
}

func newMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		submitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_credentials_submitted_total",
			Help: "Credentials accepted and durably queued, issued ones included (a resubmitted digest counts once).",
		}),
		issued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_credentials_issued_total",
			Help: "Credentials the node signed as its institution and queued.",
		}),
		anchored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_credentials_anchored_total",
			Help: "Credentials whose batch anchor was confirmed (again after a reorg, if one happened).",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credanchor_credentials_pending",
			Help: "Digests waiting for a batch.",
		}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_batches_anchored_total",
			Help: "Batches whose anchor was confirmed.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "credanchor_batch_size",
			Help:    "Digests per batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}),
		anchorLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "credanchor_anchor_latency_seconds",
			Help:    "Time from a credential's submission to its batch's confirmed anchor, one observation per credential.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
		gasSpent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_anchor_gas_total",
			Help: "Gas used by confirmed anchor transactions.",
		}),
		reorgs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_anchor_reorgs_total",
			Help: "Confirmed anchors that left the canonical chain.",
		}),
		statusChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credanchor_status_changes_total",
			Help: "Credentials whose status changed, by action (revoke, suspend, unsuspend).",
		}, []string{"action"}),
		statusPublished: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_status_list_versions_anchored_total",
			Help: "Status list versions signed and anchored.",
		}),
		statusGas: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_status_list_gas_total",
			Help: "Gas used by status list anchors.",
		}),
		catchUpRemaining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credanchor_catchup_remaining_batches",
			Help: "Other members' batches the chain names that the node's catch-up found missing and has not fetched from peers yet.",
		}),
		catchUpRemainingCredentials: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credanchor_catchup_remaining_credentials",
			Help: "Credentials in the batches of credanchor_catchup_remaining_batches.",
		}),
		catchUpBatches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_catchup_batches_total",
			Help: "Other members' batches fetched from peers by catching up.",
		}),
		institution: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "credanchor_institution_info",
			Help: "Always 1: names the institution (issuer DID or member address) whose counts the node exports.",
		}, []string{"institution"}),
	}
	verify := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "credanchor_verify_requests_total",
		Help: "Verification requests by outcome (verified, failed, error) and channel (http, vc-api, page, libp2p).",
	}, []string{"outcome", "channel"})
	for o := range numOutcomes {
		for c := range numChannels {
			m.verify[o][c] = verify.WithLabelValues(o.String(), c.String())
		}
	}
	for _, a := range []string{ActionRevoke, ActionSuspend, ActionUnsuspend} {
		m.statusChanges.WithLabelValues(a)
	}
	m.Registry.MustRegister(m.submitted, m.issued, m.anchored, m.pending, m.batches, m.batchSize, m.anchorLatency,
		m.gasSpent, m.reorgs, verify, m.statusChanges, m.statusPublished, m.statusGas, m.institution, m.catchUpRemaining, m.catchUpRemainingCredentials, m.catchUpBatches,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
