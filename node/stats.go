package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/store"
)

// The node's analytics: what it counts for its institution, kept per hour
// in the store (durable, served by Stats) and in Prometheus (served at
// /metrics). Counts only: no verifier, credential content or digest is
// recorded.

// DefaultStatsFlushInterval is how often Run writes the counts made since
// the last flush to the store: what a crash can lose.
const DefaultStatsFlushInterval = time.Second

// Channel is where a verification request came from.
type Channel uint8

// Verification channels.
const (
	// ChannelHTTP: POST /v1/verify.
	ChannelHTTP Channel = iota
	// ChannelVCAPI: POST /credentials/verify and /presentations/verify.
	ChannelVCAPI
	// ChannelPage: the node's web page, whichever route it calls.
	ChannelPage
	// ChannelLibp2p: the consortium's request/response protocol.
	ChannelLibp2p
	numChannels
)

var channelNames = [numChannels]string{"http", "vc-api", "page", "libp2p"}

func (c Channel) String() string {
	if c < numChannels {
		return channelNames[c]
	}
	return fmt.Sprintf("Channel(%d)", uint8(c))
}

// Outcome is how a verification request ended.
type Outcome uint8

// Verification outcomes.
const (
	// OutcomeVerified: a verdict, and the credential verified.
	OutcomeVerified Outcome = iota
	// OutcomeFailed: a verdict, and a check failed.
	OutcomeFailed
	// OutcomeError: no verdict: bad input, or the node could not check.
	OutcomeError
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"verified", "failed", "error"}

func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Stats metric names, as stored. They are part of the store's data: never
// rename one.
const (
	statIssued      = "issued"
	statSubmitted   = "submitted"
	statAnchored    = "anchored"
	statBatches     = "batches"
	statRevoked     = "revoked"
	statSuspended   = "suspended"
	statUnsuspended = "unsuspended"
	// statVerify's label is "<outcome>/<channel>".
	statVerify = "verify"
	// statWaitCount, statWaitMillis and statWaitBucket (label: the bucket's
	// index in waitBuckets) describe the time from submission to anchor.
	statWaitCount  = "anchor-wait-count"
	statWaitMillis = "anchor-wait-ms"
	statWaitBucket = "anchor-wait-bucket"
	// statGas's label is gasAnchors or gasStatusLists.
	statGas        = "gas"
	gasAnchors     = "anchors"
	gasStatusLists = "status-lists"
)

// waitBuckets are the upper bounds, in seconds, of the buckets of the time
// from submission to anchor that Stats reports; a last bucket holds what is
// longer.
var waitBuckets = []float64{1, 5, 15, 60, 300, 3600}

// stats holds the store's counter handles.
type stats struct {
	institution string
	issued, submitted, anchored, batches,
	revoked, suspended, unsuspended,
	waitCount, waitMillis, gasAnchors, gasStatusLists *store.StatCounter
	verify      [numOutcomes][numChannels]*store.StatCounter
	waitBuckets []*store.StatCounter // len(waitBuckets)+1
}

func newStats(st *store.Store, institution string) (*stats, error) {
	s := &stats{institution: institution}
	var errs []error
	counter := func(metric, label string) *store.StatCounter {
		c, err := st.StatCounter(institution, store.StatSeries{Metric: metric, Label: label})
		errs = append(errs, err)
		return c
	}
	s.issued, s.submitted, s.anchored, s.batches = counter(statIssued, ""), counter(statSubmitted, ""), counter(statAnchored, ""), counter(statBatches, "")
	s.revoked, s.suspended, s.unsuspended = counter(statRevoked, ""), counter(statSuspended, ""), counter(statUnsuspended, "")
	s.waitCount, s.waitMillis = counter(statWaitCount, ""), counter(statWaitMillis, "")
	s.gasAnchors, s.gasStatusLists = counter(statGas, gasAnchors), counter(statGas, gasStatusLists)
	for o := range numOutcomes {
		for c := range numChannels {
			s.verify[o][c] = counter(statVerify, verifyLabel(o, c))
		}
	}
	for i := range len(waitBuckets) + 1 {
		s.waitBuckets = append(s.waitBuckets, counter(statWaitBucket, fmt.Sprint(i)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("node: stats counters: %w", err)
	}
	return s, nil
}

func verifyLabel(o Outcome, c Channel) string { return o.String() + "/" + c.String() }

// institution names the node's institution in its stats: its issuer DID,
// or without one the consortium member its node key anchors for. A node
// whose key is not (yet) a member's counts under its own key's address.
// Counts are kept by this name: those made under another (before the node
// got an issuer identity) stay in the store but are not reported.
func (n *Node) institution(ctx context.Context) string {
	if n.cfg.Issuer != nil {
		return n.cfg.Issuer.DID
	}
	m, err := n.anchorer.Member(ctx)
	if err == nil && m != ([20]byte{}) {
		return m.Hex()
	}
	own := crypto.PubkeyToAddress(n.cfg.NodeKey.PublicKey).Hex()
	n.log.Warn("stats: no member for the node key: counting under the key's address", slog.String("address", own), slog.Any("error", err))
	return own
}

// Institution is the name the node's stats are kept under.
func (n *Node) Institution() string { return n.stats.institution }

// CountVerification counts a verification request: its channel and
// outcome. The HTTP API counts its own requests; the libp2p protocol calls
// it for its queries. Values outside the constants are not counted.
func (n *Node) CountVerification(ch Channel, o Outcome) {
	if ch >= numChannels || o >= numOutcomes {
		return
	}
	n.stats.verify[o][ch].Add(time.Now(), 1)
	n.metrics.verify[o][ch].Inc()
}

// countStatus counts a status change that changed something.
func (n *Node) countStatus(action string) {
	n.metrics.statusChanges.WithLabelValues(action).Inc()
	var c *store.StatCounter
	switch action {
	case ActionRevoke:
		c = n.stats.revoked
	case ActionSuspend:
		c = n.stats.suspended
	case ActionUnsuspend:
		c = n.stats.unsuspended
	}
	c.Add(time.Now(), 1)
}

// countStatusGas counts the gas of a status list anchor.
func (n *Node) countStatusGas(gas uint64) {
	n.metrics.statusGas.Add(float64(gas))
	n.stats.gasStatusLists.Add(time.Now(), gas)
}

// queueWaits remembers, per batch cut since the start, how long each of its
// credentials waited in the queue, so that the time from submission to
// anchor is known without reading the records back when the batch is
// confirmed. It keeps at most maxQueueWaits batches: a batch it forgot (or
// cut before a restart) is read from the store instead.
type queueWaits struct {
	mu    sync.Mutex
	waits map[[32]byte][]float32 // seconds, in leaf order
}

const maxQueueWaits = 64

func (q *queueWaits) put(root [32]byte, waits []float32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waits == nil {
		q.waits = map[[32]byte][]float32{}
	}
	if len(q.waits) < maxQueueWaits {
		q.waits[root] = waits
	}
}

func (q *queueWaits) take(root [32]byte) ([]float32, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	w, ok := q.waits[root]
	delete(q.waits, root)
	return w, ok
}

// noteCut remembers the queue waits of a batch just cut.
func (n *Node) noteCut(b *store.Batch, entries []store.QueuedDigest) {
	waits := make([]float32, len(entries))
	for i, e := range entries {
		waits[i] = float32(max(0, b.CreatedAt.Sub(e.Record.SubmittedAt).Seconds()))
	}
	n.queueWaits.put(b.Root, waits)
}

// countAnchored counts a confirmed batch: its credentials, its gas and each
// credential's time from submission to the confirmed anchor. A batch
// anchored again after a reorg counts again, as in Prometheus.
func (n *Node) countAnchored(b *store.Batch, now time.Time) {
	n.stats.anchored.Add(now, b.Size)
	n.stats.batches.Add(now, 1)
	n.stats.gasAnchors.Add(now, b.GasUsed)
	if b.CreatedAt.IsZero() {
		return
	}
	waits, err := n.batchQueueWaits(b)
	if err != nil {
		n.log.Warn("stats: the batch's submission times are unreadable: its anchor latency is not counted",
			slog.String("root", fmt.Sprintf("%x", b.Root)), slog.Any("error", err))
		return
	}
	since := max(0, now.Sub(b.CreatedAt).Seconds())
	var sumMillis uint64
	counts := make([]uint64, len(waitBuckets)+1)
	for _, q := range waits {
		w := float64(q) + since
		n.metrics.anchorLatency.Observe(w)
		sumMillis += uint64(math.Round(w * 1000))
		i := 0
		for i < len(waitBuckets) && w > waitBuckets[i] {
			i++
		}
		counts[i]++
	}
	n.stats.waitCount.Add(now, uint64(len(waits)))
	n.stats.waitMillis.Add(now, sumMillis)
	for i, c := range counts {
		n.stats.waitBuckets[i].Add(now, c)
	}
}

// batchQueueWaits returns how long each credential of b waited in the
// queue: remembered since its cut, or read from the records.
func (n *Node) batchQueueWaits(b *store.Batch) ([]float32, error) {
	if w, ok := n.queueWaits.take(b.Root); ok && uint64(len(w)) == b.Size {
		return w, nil
	}
	ds, err := n.st.BatchDigests(b.Root)
	if err != nil {
		return nil, err
	}
	waits := make([]float32, len(ds))
	for i, d := range ds {
		rec, err := n.st.Credential(d)
		if err != nil {
			return nil, err
		}
		waits[i] = float32(max(0, b.CreatedAt.Sub(rec.SubmittedAt).Seconds()))
	}
	return waits, nil
}

// runStatsFlusher flushes the stats counts every interval until ctx ends,
// then once more: what Run counted is then durable. What is counted after
// Run returns (a request still being answered) the store's Close flushes.
func (n *Node) runStatsFlusher(ctx context.Context) {
	t := time.NewTicker(n.cfg.StatsFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := n.st.FlushStats(); err != nil {
				n.log.Warn("stats: final flush", slog.Any("error", err))
			}
			return
		case <-t.C:
			if err := n.st.FlushStats(); err != nil {
				n.log.WarnContext(ctx, "stats: flush", slog.Any("error", err))
			}
		}
	}
}

// Stats reports the node's counts in [from, to), widened to whole hours,
// per bucket. A range of more than store.MaxStatsBuckets buckets, an empty
// or reversed one is ErrStatsQuery.
func (n *Node) Stats(from, to time.Time, bucket store.Bucket) (*StatsReport, error) {
	res, err := n.st.Stats(n.stats.institution, from, to, bucket)
	if err != nil {
		return nil, err
	}
	rep := &StatsReport{Institution: n.stats.institution, From: res.From, To: res.To, Bucket: bucket.String(),
		Buckets: make([]StatsBucket, len(res.Periods))}
	total := map[store.StatSeries]uint64{}
	for i, p := range res.Periods {
		rep.Buckets[i] = StatsBucket{Start: p.Start, End: p.End, StatsCounts: statsCounts(p.Counts)}
		for k, v := range p.Counts {
			total[k] += v
		}
	}
	rep.Totals = statsCounts(total)
	return rep, nil
}

// ErrStatsQuery: a stats query with an empty or reversed range, an unknown
// bucket, or too many buckets.
var ErrStatsQuery = store.ErrStatsQuery

// StatsReport is the answer of Stats and GET /v1/stats.
type StatsReport struct {
	// Institution is the issuer DID or member address the counts are for.
	Institution string `json:"institution"`
	// From and To are the range, widened to whole hours: [From, To).
	From    time.Time     `json:"from"`
	To      time.Time     `json:"to"`
	Bucket  string        `json:"bucket"`
	Buckets []StatsBucket `json:"buckets"`
	// Totals sums the buckets.
	Totals StatsCounts `json:"totals"`
}

// StatsBucket is one bucket: its calendar bounds in UTC (the first and
// last count only the hours of the range) and its counts.
type StatsBucket struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	StatsCounts
}

// StatsCounts are the counts of a bucket or of a whole range.
type StatsCounts struct {
	// Issued: credentials the node signed and submitted (Issue).
	Issued uint64 `json:"issued"`
	// Submitted: credentials submitted already signed (POST
	// /v1/credentials and /v1/credentials/bulk), a resubmission counting
	// once.
	Submitted uint64 `json:"submitted"`
	// Anchored: credentials whose batch anchor was confirmed, in Batches
	// batches.
	Anchored    uint64 `json:"anchored"`
	Batches     uint64 `json:"batches"`
	Revoked     uint64 `json:"revoked"`
	Suspended   uint64 `json:"suspended"`
	Unsuspended uint64 `json:"unsuspended"`
	// Verifications counts verification requests by outcome (verified,
	// failed, error), then by channel (http, vc-api, page, libp2p); every
	// pair is present.
	Verifications map[string]map[string]uint64 `json:"verifications"`
	// AnchorLatency is the time from each credential's submission to its
	// batch's confirmed anchor, counted when the anchor is confirmed.
	AnchorLatency LatencyStats `json:"anchorLatency"`
	Gas           GasStats     `json:"gas"`
}

// LatencyStats summarise the time from submission to anchor.
type LatencyStats struct {
	Count       uint64  `json:"count"`
	MeanSeconds float64 `json:"meanSeconds"`
	// Buckets count the credentials by latency, each up to MaxSeconds
	// (and over the previous bucket's); the last has no MaxSeconds.
	Buckets []LatencyBucket `json:"buckets"`
}

// LatencyBucket is one latency bucket (not cumulative).
type LatencyBucket struct {
	MaxSeconds *float64 `json:"maxSeconds,omitempty"`
	Count      uint64   `json:"count"`
}

// GasStats is the gas of confirmed anchor transactions: of batches and of
// status lists.
type GasStats struct {
	Anchors     uint64 `json:"anchors"`
	StatusLists uint64 `json:"statusLists"`
}

func statsCounts(m map[store.StatSeries]uint64) StatsCounts {
	get := func(metric, label string) uint64 { return m[store.StatSeries{Metric: metric, Label: label}] }
	c := StatsCounts{
		Issued: get(statIssued, ""), Submitted: get(statSubmitted, ""), Anchored: get(statAnchored, ""), Batches: get(statBatches, ""),
		Revoked: get(statRevoked, ""), Suspended: get(statSuspended, ""), Unsuspended: get(statUnsuspended, ""),
		Verifications: map[string]map[string]uint64{},
		Gas:           GasStats{Anchors: get(statGas, gasAnchors), StatusLists: get(statGas, gasStatusLists)},
	}
	for o := range numOutcomes {
		byChannel := map[string]uint64{}
		for ch := range numChannels {
			byChannel[ch.String()] = get(statVerify, verifyLabel(o, ch))
		}
		c.Verifications[o.String()] = byChannel
	}
	lat := &c.AnchorLatency
	lat.Count = get(statWaitCount, "")
	if lat.Count > 0 {
		lat.MeanSeconds = float64(get(statWaitMillis, "")) / 1000 / float64(lat.Count)
	}
	for i := range len(waitBuckets) + 1 {
		b := LatencyBucket{Count: get(statWaitBucket, fmt.Sprint(i))}
		if i < len(waitBuckets) {
			upTo := waitBuckets[i]
			b.MaxSeconds = &upTo
		}
		lat.Buckets = append(lat.Buckets, b)
	}
	return c
}
