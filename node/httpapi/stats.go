package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/store"
)

// Defaults of GET /v1/stats.
const (
	// defaultStatsRange is the range that ends now when from is not given.
	defaultStatsRange  = 30 * 24 * time.Hour
	defaultStatsBucket = store.BucketDay
)

// statsQuery is the parsed query of GET /v1/stats.
type statsQuery struct {
	from, to time.Time
	bucket   store.Bucket
}

// parseStatsQuery reads from and to (RFC 3339) and bucket (hour, day, week,
// month). Without to the range ends now; without from it starts
// defaultStatsRange before to. The store refuses a range of too many
// buckets.
func parseStatsQuery(q url.Values, now time.Time) (statsQuery, error) {
	for _, name := range []string{"from", "to", "bucket"} {
		if len(q[name]) > 1 {
			return statsQuery{}, problemErr(ptInvalidParameter, nil, "%s is given %d times", name, len(q[name]))
		}
	}
	sq := statsQuery{to: now, bucket: defaultStatsBucket}
	var err error
	if v := q.Get("to"); v != "" {
		if sq.to, err = time.Parse(time.RFC3339, v); err != nil {
			return statsQuery{}, problemErr(ptInvalidParameter, err, "to %q is not an RFC 3339 time (2026-01-31T00:00:00Z)", v)
		}
	}
	sq.from = sq.to.Add(-defaultStatsRange)
	if v := q.Get("from"); v != "" {
		if sq.from, err = time.Parse(time.RFC3339, v); err != nil {
			return statsQuery{}, problemErr(ptInvalidParameter, err, "from %q is not an RFC 3339 time (2026-01-01T00:00:00Z)", v)
		}
	}
	if v := q.Get("bucket"); v != "" {
		if sq.bucket, err = store.ParseBucket(v); err != nil {
			return statsQuery{}, problemErr(ptInvalidParameter, err, "bucket %q: want hour, day, week or month", v)
		}
	}
	if !sq.from.Before(sq.to) {
		return statsQuery{}, problemErr(ptInvalidParameter, nil, "from (%s) must be before to (%s)", sq.from.Format(time.RFC3339), sq.to.Format(time.RFC3339))
	}
	return sq, nil
}

// stats answers the node's counts over a range, per bucket.
func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	q, err := parseStatsQuery(r.URL.Query(), time.Now())
	if err != nil {
		return err
	}
	rep, err := s.node.Stats(q.from, q.to, q.bucket)
	if errors.Is(err, node.ErrStatsQuery) {
		return problemErr(ptInvalidParameter, nil, "%v", err)
	}
	if err != nil {
		return err
	}
	// Counts change every second: a cache would show stale ones.
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusOK, rep)
	return nil
}
