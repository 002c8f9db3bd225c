package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Stats are durable counters, kept per hour (UTC) so that a query over any
// range and bucket sums whole hours. A counter is named by a subject (the
// institution), a metric and a label (an outcome, a channel, a latency
// bucket); its value in an hour is a uint64 that only grows.
//
// Counting is on the hot path (every verification counts), so Add only
// touches memory; FlushStats writes what accumulated in one synced batch,
// and Close flushes before it closes the database. Counts up to the last
// flush therefore survive a crash, and a clean Close keeps them all. Stats
// reads both, so a query always sees every count made so far.
//
// Keys are bounded by hours × series: a node has a few dozen series and an
// hour without counts has no keys.

// Bucket is the period a Stats query sums hours into, aligned to UTC
// calendar boundaries.
type Bucket uint8

const (
	BucketHour Bucket = iota + 1
	BucketDay
	// BucketWeek: ISO weeks, from Monday 00:00 UTC.
	BucketWeek
	// BucketMonth: calendar months.
	BucketMonth
)

var bucketNames = map[Bucket]string{BucketHour: "hour", BucketDay: "day", BucketWeek: "week", BucketMonth: "month"}

func (b Bucket) String() string {
	if n, ok := bucketNames[b]; ok {
		return n
	}
	return fmt.Sprintf("Bucket(%d)", uint8(b))
}

// ParseBucket reads a bucket name: hour, day, week or month.
func ParseBucket(s string) (Bucket, error) {
	for b, n := range bucketNames {
		if n == s {
			return b, nil
		}
	}
	return 0, fmt.Errorf("%w: bucket %q (want hour, day, week or month)", ErrStatsQuery, s)
}

// MaxStatsBuckets bounds the buckets of one Stats query, and so the size of
// its answer: 83 days of hours, 5 years of days.
const MaxStatsBuckets = 2000

var (
	// ErrStatsQuery: a Stats query with an empty or reversed range, an
	// unknown bucket, or more than MaxStatsBuckets buckets.
	ErrStatsQuery = errors.New("store: invalid stats query")
	// ErrStatsName: a stats subject, metric or label holding a NUL byte,
	// which the key schema uses as a separator, or an empty subject or
	// metric.
	ErrStatsName = errors.New("store: invalid stats name")
)

// Start returns the start of the bucket that holds t.
func (b Bucket) Start(t time.Time) time.Time {
	t = t.UTC()
	switch b {
	case BucketHour:
		return t.Truncate(time.Hour)
	case BucketDay:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case BucketWeek:
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		// Weekday counts from Sunday; ISO weeks start on Monday.
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case BucketMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// Next returns the start of the bucket after the one that starts at start.
func (b Bucket) Next(start time.Time) time.Time {
	switch b {
	case BucketHour:
		return start.Add(time.Hour)
	case BucketDay:
		return start.AddDate(0, 0, 1)
	case BucketWeek:
		return start.AddDate(0, 0, 7)
	case BucketMonth:
		return start.AddDate(0, 1, 0)
	}
	return start
}

// StatSeries names a counter within a subject's stats.
type StatSeries struct {
	Metric string
	Label  string
}

// StatCounter is a handle on one counter of one subject; Add on it is a
// map update under a mutex, cheap enough for every request.
type StatCounter struct {
	acc *statsAcc
	id  uint32
}

// Add counts delta at time at (in its UTC hour).
func (c *StatCounter) Add(at time.Time, delta uint64) {
	if delta == 0 {
		return
	}
	c.acc.mu.Lock()
	c.acc.pending[hourCount{id: c.id, hour: hourOf(at)}] += delta
	c.acc.mu.Unlock()
}

// hourCount is a pending count: a counter in an hour.
type hourCount struct {
	id   uint32
	hour uint64
}

type statCounterName struct {
	subject string
	series  StatSeries
}

// statsAcc accumulates counts in memory until the next flush.
type statsAcc struct {
	// flushMu serialises flushes, which read and rewrite stored counts,
	// and keeps a query from reading between a flush's taking of the
	// pending counts and its commit, when they are in neither place.
	flushMu sync.Mutex
	// mu guards the fields below.
	mu       sync.Mutex
	pending  map[hourCount]uint64
	ids      map[statCounterName]uint32
	counters []statCounterName
}

// hourOf is t's hour since the Unix epoch; earlier times count in hour 0.
func hourOf(t time.Time) uint64 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	return uint64(s / 3600)
}

func hourTime(h uint64) time.Time { return time.Unix(int64(h)*3600, 0).UTC() }

func checkStatName(what, s string, empty bool) error {
	if (!empty && s == "") || strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%w: %s %q", ErrStatsName, what, s)
	}
	return nil
}

// StatCounter returns the handle of a counter, creating it on first use.
// Names must not hold a NUL byte; subject and metric must not be empty.
func (s *Store) StatCounter(subject string, series StatSeries) (*StatCounter, error) {
	if err := errors.Join(checkStatName("subject", subject, false), checkStatName("metric", series.Metric, false),
		checkStatName("label", series.Label, true)); err != nil {
		return nil, err
	}
	a := &s.stats
	a.mu.Lock()
	defer a.mu.Unlock()
	name := statCounterName{subject, series}
	id, ok := a.ids[name]
	if !ok {
		if a.ids == nil {
			a.ids, a.pending = map[statCounterName]uint32{}, map[hourCount]uint64{}
		}
		id = uint32(len(a.counters))
		a.ids[name] = id
		a.counters = append(a.counters, name)
	}
	return &StatCounter{acc: a, id: id}, nil
}

// FlushStats durably writes the counts made since the last flush, in one
// synced batch. On failure they stay pending for the next flush.
func (s *Store) FlushStats() error {
	a := &s.stats
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	a.mu.Lock()
	taken := a.pending
	if len(taken) == 0 {
		a.mu.Unlock()
		return nil
	}
	a.pending = make(map[hourCount]uint64, len(taken))
	names := a.counters
	a.mu.Unlock()
	if err := s.writeStats(taken, names); err != nil {
		a.mu.Lock()
		for k, v := range taken {
			a.pending[k] += v
		}
		a.mu.Unlock()
		return err
	}
	return nil
}

// writeStats adds counts to the stored ones. Only flushes write stats keys,
// and flushMu serialises them, so the read-modify-write cannot lose an
// update.
func (s *Store) writeStats(counts map[hourCount]uint64, names []statCounterName) error {
	wb := s.db.NewBatch()
	defer wb.Close()
	for k, v := range counts {
		n := names[k.id]
		key := statKey(n.subject, k.hour, n.series)
		old, err := s.get(key)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		case len(old) != 8:
			return fmt.Errorf("%w: stats value of %d bytes under %q", ErrCorrupt, len(old), key)
		default:
			v += binary.BigEndian.Uint64(old)
		}
		if err := wb.Set(key, binary.BigEndian.AppendUint64(nil, v), nil); err != nil {
			return err
		}
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: flush stats: %w", err)
	}
	return nil
}

// StatsPeriod is one bucket of a Stats answer. Start and End are the
// bucket's calendar bounds; the first and last bucket of a query count only
// the hours inside its range.
type StatsPeriod struct {
	Start, End time.Time
	Counts     map[StatSeries]uint64
}

// StatsResult is the answer of Stats.
type StatsResult struct {
	// From and To are the query's range widened to whole hours, the
	// resolution counts are kept at: [From, To).
	From, To time.Time
	Periods  []StatsPeriod
}

// StatsRange widens [from, to) to whole hours and checks it: not empty,
// not before the Unix epoch, and within MaxStatsBuckets buckets of b. It
// returns the widened range and its number of buckets.
func StatsRange(from, to time.Time, b Bucket) (time.Time, time.Time, int, error) {
	if _, ok := bucketNames[b]; !ok {
		return time.Time{}, time.Time{}, 0, fmt.Errorf("%w: unknown bucket %d", ErrStatsQuery, b)
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, 0, fmt.Errorf("%w: from %s is not before to %s", ErrStatsQuery, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if from.Before(time.Unix(0, 0)) {
		return time.Time{}, time.Time{}, 0, fmt.Errorf("%w: from %s is before 1970", ErrStatsQuery, from.Format(time.RFC3339))
	}
	from = from.UTC().Truncate(time.Hour)
	if t := to.UTC().Truncate(time.Hour); t.Before(to) {
		to = t.Add(time.Hour)
	} else {
		to = t
	}
	// Counting stops as soon as the limit is passed, so that a range of
	// centuries costs no more than one within it.
	n := 0
	for start := b.Start(from); start.Before(to); start = b.Next(start) {
		if n++; n > MaxStatsBuckets {
			return time.Time{}, time.Time{}, 0, fmt.Errorf("%w: the range holds over %d %s buckets: use a shorter range or a longer bucket", ErrStatsQuery, MaxStatsBuckets, b)
		}
	}
	return from, to, n, nil
}

// Stats returns subject's counts in [from, to), widened to whole hours,
// summed per bucket b: every bucket, those without counts included, so
// that a chart has no holes. Counts not yet flushed are included.
func (s *Store) Stats(subject string, from, to time.Time, b Bucket) (*StatsResult, error) {
	if err := checkStatName("subject", subject, false); err != nil {
		return nil, err
	}
	from, to, n, err := StatsRange(from, to, b)
	if err != nil {
		return nil, err
	}
	res := &StatsResult{From: from, To: to, Periods: make([]StatsPeriod, 0, n)}
	for start := b.Start(from); start.Before(to); start = b.Next(start) {
		res.Periods = append(res.Periods, StatsPeriod{Start: start, End: b.Next(start), Counts: map[StatSeries]uint64{}})
	}
	// Periods are in order and contiguous, and every hour counted is in
	// [from, to), so some period holds it.
	add := func(hour uint64, series StatSeries, v uint64) {
		t := hourTime(hour)
		i := sort.Search(len(res.Periods), func(i int) bool { return t.Before(res.Periods[i].End) })
		res.Periods[i].Counts[series] += v
	}

	a := &s.stats
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	lo, hi := hourOf(from), hourOf(to)
	a.mu.Lock()
	for k, v := range a.pending {
		if c := a.counters[k.id]; c.subject == subject && k.hour >= lo && k.hour < hi {
			add(k.hour, c.series, v)
		}
	}
	a.mu.Unlock()

	prefix := statSubjectPrefix(subject)
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: binary.BigEndian.AppendUint64(bytes.Clone(prefix), lo),
		UpperBound: binary.BigEndian.AppendUint64(bytes.Clone(prefix), hi),
	})
	if err != nil {
		return nil, fmt.Errorf("store: iterate stats: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		hour, series, err := parseStatKey(it.Key()[len(prefix):])
		if err != nil {
			return nil, err
		}
		if len(it.Value()) != 8 {
			return nil, fmt.Errorf("%w: stats value of %d bytes", ErrCorrupt, len(it.Value()))
		}
		add(hour, series, binary.BigEndian.Uint64(it.Value()))
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: iterate stats: %w", err)
	}
	return res, nil
}

// statSubjectPrefix is the prefix of every stats key of subject.
func statSubjectPrefix(subject string) []byte {
	return append(append([]byte{prefixStats, '/'}, subject...), 0)
}

func statKey(subject string, hour uint64, series StatSeries) []byte {
	k := binary.BigEndian.AppendUint64(statSubjectPrefix(subject), hour)
	k = append(append(k, series.Metric...), 0)
	return append(k, series.Label...)
}

// parseStatKey parses what follows the subject prefix: <hour:8><metric>0<label>.
func parseStatKey(rest []byte) (uint64, StatSeries, error) {
	if len(rest) < 9 {
		return 0, StatSeries{}, fmt.Errorf("%w: stats key of %d bytes", ErrCorrupt, len(rest))
	}
	metric, label, ok := bytes.Cut(rest[8:], []byte{0})
	if !ok {
		return 0, StatSeries{}, fmt.Errorf("%w: stats key %q without a label", ErrCorrupt, rest)
	}
	return binary.BigEndian.Uint64(rest), StatSeries{Metric: string(metric), Label: string(label)}, nil
}
