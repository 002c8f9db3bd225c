package store

import (
	"errors"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBucketBoundaries(t *testing.T) {
	for _, tc := range []struct {
		bucket      Bucket
		at          string
		start, next string
	}{
		{BucketHour, "2026-03-14T15:09:26Z", "2026-03-14T15:00:00Z", "2026-03-14T16:00:00Z"},
		{BucketHour, "2026-12-31T23:59:59Z", "2026-12-31T23:00:00Z", "2027-01-01T00:00:00Z"},
		// Times in another zone fall in their UTC bucket.
		{BucketHour, "2026-03-14T15:09:26+05:30", "2026-03-14T09:00:00Z", "2026-03-14T10:00:00Z"},
		{BucketDay, "2026-03-14T00:00:00Z", "2026-03-14T00:00:00Z", "2026-03-15T00:00:00Z"},
		{BucketDay, "2026-03-14T23:59:59Z", "2026-03-14T00:00:00Z", "2026-03-15T00:00:00Z"},
		{BucketDay, "2026-03-15T01:00:00+02:00", "2026-03-14T00:00:00Z", "2026-03-15T00:00:00Z"},
		{BucketDay, "2028-02-28T12:00:00Z", "2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z"},
		// ISO weeks start on Monday: 2026-03-09 is a Monday.
		{BucketWeek, "2026-03-09T00:00:00Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z"},
		{BucketWeek, "2026-03-15T23:59:59Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z"},
		{BucketWeek, "2026-03-11T08:00:00Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z"},
		{BucketWeek, "2027-01-01T00:00:00Z", "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z"},
		{BucketMonth, "2026-01-31T23:00:00Z", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"},
		{BucketMonth, "2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"},
		{BucketMonth, "2026-12-15T00:00:00Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
	} {
		t.Run(tc.bucket.String()+" "+tc.at, func(t *testing.T) {
			start := tc.bucket.Start(utc(tc.at))
			if !start.Equal(utc(tc.start)) || start.Location() != time.UTC {
				t.Errorf("Start = %s, want %s", start, tc.start)
			}
			if next := tc.bucket.Next(start); !next.Equal(utc(tc.next)) {
				t.Errorf("Next = %s, want %s", next, tc.next)
			}
		})
	}
}

func TestParseBucket(t *testing.T) {
	for _, name := range []string{"hour", "day", "week", "month"} {
		b, err := ParseBucket(name)
		if err != nil || b.String() != name {
			t.Errorf("ParseBucket(%q) = %v, %v", name, b, err)
		}
	}
	for _, bad := range []string{"", "Day", "year", "minute", "days"} {
		if _, err := ParseBucket(bad); !errors.Is(err, ErrStatsQuery) {
			t.Errorf("ParseBucket(%q): got %v, want ErrStatsQuery", bad, err)
		}
	}
}

func TestStatsRange(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from, to string
		bucket   Bucket
		wantFrom string
		wantTo   string
		buckets  int
		err      bool
	}{
		{"whole hours", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", BucketHour, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", 24, false},
		{"widened to hours", "2026-03-01T00:30:00Z", "2026-03-01T02:00:01Z", BucketHour, "2026-03-01T00:00:00Z", "2026-03-01T03:00:00Z", 3, false},
		{"days, partial ends", "2026-03-01T12:00:00Z", "2026-03-03T01:00:00Z", BucketDay, "2026-03-01T12:00:00Z", "2026-03-03T01:00:00Z", 3, false},
		{"one week across months", "2026-03-30T00:00:00Z", "2026-04-05T00:00:00Z", BucketWeek, "2026-03-30T00:00:00Z", "2026-04-05T00:00:00Z", 1, false},
		{"months", "2026-01-15T00:00:00Z", "2026-04-01T00:00:00Z", BucketMonth, "2026-01-15T00:00:00Z", "2026-04-01T00:00:00Z", 3, false},
		{"hour limit", "2026-01-01T00:00:00Z", "2026-03-25T08:00:00Z", BucketHour, "2026-01-01T00:00:00Z", "2026-03-25T08:00:00Z", MaxStatsBuckets, false},
		{"over the hour limit", "2026-01-01T00:00:00Z", "2026-03-25T09:00:00Z", BucketHour, "", "", 0, true},
		{"three years of hours", "2023-01-01T00:00:00Z", "2026-01-01T00:00:00Z", BucketHour, "", "", 0, true},
		{"three years of days", "2023-01-01T00:00:00Z", "2026-01-01T00:00:00Z", BucketDay, "2023-01-01T00:00:00Z", "2026-01-01T00:00:00Z", 1096, false},
		{"centuries of months", "1970-01-01T00:00:00Z", "9999-01-01T00:00:00Z", BucketMonth, "", "", 0, true},
		{"empty", "2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z", BucketDay, "", "", 0, true},
		{"reversed", "2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z", BucketDay, "", "", 0, true},
		{"before 1970", "1969-12-31T00:00:00Z", "1970-01-02T00:00:00Z", BucketDay, "", "", 0, true},
		{"unknown bucket", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", Bucket(9), "", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to, n, err := StatsRange(utc(tc.from), utc(tc.to), tc.bucket)
			if tc.err {
				if !errors.Is(err, ErrStatsQuery) {
					t.Fatalf("got %v, want ErrStatsQuery", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !from.Equal(utc(tc.wantFrom)) || !to.Equal(utc(tc.wantTo)) || n != tc.buckets {
				t.Errorf("got [%s, %s) in %d buckets, want [%s, %s) in %d", from, to, n, tc.wantFrom, tc.wantTo, tc.buckets)
			}
		})
	}
}

func openMem(t *testing.T, fs vfs.FS) *Store {
	t.Helper()
	s, err := Open(Config{Dir: "db", FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	seriesA = StatSeries{Metric: "issued"}
	seriesB = StatSeries{Metric: "verify", Label: "verified/http"}
)

// TestStatsSums counts at known hours and checks the sums of queries over
// them, with counts pending in memory, flushed, and both.
func TestStatsSums(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	a, err := s.StatCounter("did:example:uni", seriesA)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.StatCounter("did:example:uni", seriesB)
	other, _ := s.StatCounter("did:example:other", seriesA)
	// Monday 2026-03-09 to Sunday 2026-03-15, then the next Monday.
	a.Add(utc("2026-03-09T00:00:00Z"), 1)
	a.Add(utc("2026-03-09T00:59:59Z"), 2)
	a.Add(utc("2026-03-10T13:10:00Z"), 4)
	if err := s.FlushStats(); err != nil {
		t.Fatal(err)
	}
	a.Add(utc("2026-03-10T13:50:00Z"), 8) // the same hour as a flushed count
	a.Add(utc("2026-03-15T23:59:59Z"), 16)
	a.Add(utc("2026-03-16T00:00:00Z"), 32)
	b.Add(utc("2026-03-12T06:00:00Z"), 5)
	other.Add(utc("2026-03-10T13:00:00Z"), 1000)

	check := func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			from, to string
			bucket   Bucket
			want     []uint64 // seriesA per bucket
			wantB    uint64   // seriesB in all
		}{
			{"week", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z", BucketWeek, []uint64{31}, 5},
			{"two weeks", "2026-03-09T00:00:00Z", "2026-03-17T00:00:00Z", BucketWeek, []uint64{31, 32}, 5},
			{"days", "2026-03-09T00:00:00Z", "2026-03-12T00:00:00Z", BucketDay, []uint64{3, 12, 0}, 0},
			{"hours", "2026-03-09T00:00:00Z", "2026-03-09T03:00:00Z", BucketHour, []uint64{3, 0, 0}, 0},
			// The first day counts from 13:00 only, the hour of from.
			{"clipped from", "2026-03-10T13:59:00Z", "2026-03-12T00:00:00Z", BucketDay, []uint64{12, 0}, 0},
			// The range ends before 13:00: the counts of 13:xx are out.
			{"clipped to", "2026-03-10T00:00:00Z", "2026-03-10T13:00:00Z", BucketDay, []uint64{0}, 0},
			{"month", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", BucketMonth, []uint64{63}, 5},
			{"nothing", "2026-04-01T00:00:00Z", "2026-04-03T00:00:00Z", BucketDay, []uint64{0, 0}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res, err := s.Stats("did:example:uni", utc(tc.from), utc(tc.to), tc.bucket)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Periods) != len(tc.want) {
					t.Fatalf("got %d buckets, want %d", len(res.Periods), len(tc.want))
				}
				var gotB uint64
				for i, p := range res.Periods {
					if got := p.Counts[seriesA]; got != tc.want[i] {
						t.Errorf("bucket %s: got %d, want %d", p.Start, got, tc.want[i])
					}
					if !p.Start.Equal(tc.bucket.Start(p.Start)) || !p.End.Equal(tc.bucket.Next(p.Start)) {
						t.Errorf("bucket [%s, %s) not aligned to %s", p.Start, p.End, tc.bucket)
					}
					gotB += p.Counts[seriesB]
				}
				if gotB != tc.wantB {
					t.Errorf("series B: got %d, want %d", gotB, tc.wantB)
				}
			})
		}
	}
	t.Run("pending and flushed", check)
	if err := s.FlushStats(); err != nil {
		t.Fatal(err)
	}
	t.Run("flushed", check)
}

// TestStatsDurable: a flush makes counts durable, and Close flushes what is
// pending; counts made after a reopen add to the stored ones.
func TestStatsDurable(t *testing.T) {
	fs := vfs.NewMem()
	s := openMem(t, fs)
	c, err := s.StatCounter("0xabc", seriesB)
	if err != nil {
		t.Fatal(err)
	}
	at := utc("2026-05-01T10:00:00Z")
	c.Add(at, 3)
	if err := s.FlushStats(); err != nil {
		t.Fatal(err)
	}
	c.Add(at, 4) // pending at Close
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.FlushStats(); !errors.Is(err, ErrClosed) {
		t.Errorf("FlushStats after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Stats("0xabc", at, at.Add(time.Hour), BucketHour); !errors.Is(err, ErrClosed) {
		t.Errorf("Stats after Close: %v, want ErrClosed", err)
	}

	s = openMem(t, fs)
	defer s.Close()
	c, _ = s.StatCounter("0xabc", seriesB)
	c.Add(at.Add(30*time.Minute), 5)
	res, err := s.Stats("0xabc", at, at.Add(time.Hour), BucketHour)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Periods[0].Counts[seriesB]; got != 12 {
		t.Errorf("after reopen: got %d, want 12", got)
	}
}

func TestStatCounterNames(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	for _, tc := range []struct {
		subject string
		series  StatSeries
		ok      bool
	}{
		{"did:key:z6Mk", StatSeries{Metric: "issued"}, true},
		{"did:key:z6Mk", StatSeries{Metric: "verify", Label: "failed/page"}, true},
		{"", StatSeries{Metric: "issued"}, false},
		{"did:key:z6Mk", StatSeries{}, false},
		{"did\x00key", StatSeries{Metric: "issued"}, false},
		{"did:key:z6Mk", StatSeries{Metric: "is\x00sued"}, false},
		{"did:key:z6Mk", StatSeries{Metric: "verify", Label: "a\x00b"}, false},
	} {
		_, err := s.StatCounter(tc.subject, tc.series)
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrStatsName) {
			t.Errorf("StatCounter(%q, %q): %v", tc.subject, tc.series, err)
		}
	}
	a1, _ := s.StatCounter("x", seriesA)
	a2, _ := s.StatCounter("x", seriesA)
	if a1.id != a2.id {
		t.Errorf("the same counter got two ids: %d, %d", a1.id, a2.id)
	}
}

func BenchmarkStatCounterAdd(b *testing.B) {
	s, err := Open(Config{Dir: "db", FS: vfs.NewMem()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, _ := s.StatCounter("did:example:uni", seriesB)
	now := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Add(now, 1)
		}
	})
}
