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
	anchored      prometheus.Counter
	pending       prometheus.Gauge
	batches       prometheus.Counter
	batchSize     prometheus.Histogram
	anchorLatency prometheus.Histogram
	gasSpent      prometheus.Counter
	reorgs        prometheus.Counter
	// Verify counts verification requests by outcome (verified, failed,
	// error).
	Verify          *prometheus.CounterVec
	statusChanges   *prometheus.CounterVec
	statusPublished prometheus.Counter
	statusGas       prometheus.Counter
}

func newMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		submitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_credentials_submitted_total",
			Help: "Credentials accepted and durably queued (a resubmitted digest counts once).",
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
			Help:    "Time from closing a batch to its confirmed anchor.",
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
		Verify: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credanchor_verify_requests_total",
			Help: "Verification requests by outcome.",
		}, []string{"outcome"}),
		statusChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credanchor_status_changes_total",
			Help: "Status changes recorded, by action (revoke, suspend, unsuspend).",
		}, []string{"action"}),
		statusPublished: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_status_list_versions_anchored_total",
			Help: "Status list versions signed and anchored.",
		}),
		statusGas: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credanchor_status_list_gas_total",
			Help: "Gas used by status list anchors.",
		}),
	}
	m.Registry.MustRegister(m.submitted, m.anchored, m.pending, m.batches, m.batchSize, m.anchorLatency,
		m.gasSpent, m.reorgs, m.Verify, m.statusChanges, m.statusPublished, m.statusGas, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
