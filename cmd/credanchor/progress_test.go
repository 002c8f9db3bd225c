package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/credanchor/credanchor/node"
)

func TestBarLine(t *testing.T) {
	midway := node.CatchUpProgress{Batches: 412, TotalBatches: 1000, Credentials: 41_200, TotalCredentials: 100_000}
	for _, tc := range []struct {
		name    string
		cols    int
		p       node.CatchUpProgress
		elapsed time.Duration
		want    string
	}{{
		name: "wide", cols: 101, p: midway, elapsed: 20600 * time.Millisecond,
		want: "catching up  [========>           ]  412/1,000 batches  41,200/100,000 credentials  2,000/s  ETA 29s",
	}, {
		name: "80 columns: the rate and the batches give way", cols: 80, p: midway, elapsed: 20600 * time.Millisecond,
		want: "catching up  [===========>               ]  41,200/100,000 credentials  ETA 29s",
	}, {
		name: "before the first batch", cols: 80, p: node.CatchUpProgress{TotalBatches: 3, TotalCredentials: 15},
		want: "catching up  [>                    ]  0/3 batches  0/15 credentials  0/s  ETA ?",
	}, {
		name: "caught up", cols: 80, elapsed: 2 * time.Second,
		p:    node.CatchUpProgress{Batches: 7, TotalBatches: 7, Credentials: 11, TotalCredentials: 11, Done: true},
		want: "caught up    [====================]  7/7 batches  11/11 credentials  6/s  in 2s",
	}, {
		name: "stopped", cols: 80, elapsed: 65 * time.Second,
		p:    node.CatchUpProgress{Batches: 3, TotalBatches: 7, Credentials: 5, TotalCredentials: 11, Done: true, Err: errors.New("no peer")},
		want: "stopped      [======>        ]  3/7 batches  5/11 credentials  0/s  after 1m05s",
	}, {
		name: "reading events", cols: 80, elapsed: time.Second,
		p:    node.CatchUpProgress{Reading: true, Scanned: 5_000_000, HeadBlock: 20_000_000},
		want: "reading      [====>            ]  registry events to block 5,000,000/20,000,000",
	}, {
		name: "nothing missing", cols: 80, elapsed: 3 * time.Second,
		p:    node.CatchUpProgress{Scanned: 20_000_000, Block: 20_000_000, HeadBlock: 20_000_000, Done: true},
		want: "caught up    [====================]  nothing missing to block 20,000,000  in 3s",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := barLine(tc.cols, tc.p, tc.elapsed)
			if got != tc.want {
				t.Errorf("barLine:\ngot  %q\nwant %q", got, tc.want)
			}
			if len(got) > tc.cols-1 {
				t.Errorf("%d columns, want at most %d", len(got), tc.cols-1)
			}
		})
	}
}

func TestPlainLine(t *testing.T) {
	for _, tc := range []struct {
		p       node.CatchUpProgress
		elapsed time.Duration
		want    string
	}{
		{node.CatchUpProgress{Batches: 412, TotalBatches: 1000, Credentials: 41_200, TotalCredentials: 100_000, Block: 1234, HeadBlock: 5678}, time.Second,
			"catch-up: 412/1000 batches, 41200/100000 credentials (41%), block 1234/5678"},
		{node.CatchUpProgress{Batches: 7, TotalBatches: 7, Credentials: 11, TotalCredentials: 11, Block: 20, HeadBlock: 20, Done: true}, 2 * time.Second,
			"catch-up: 7/7 batches, 11/11 credentials (100%), block 20/20, done in 2s"},
		{node.CatchUpProgress{Batches: 3, TotalBatches: 7, Credentials: 5, TotalCredentials: 11, Block: 9, HeadBlock: 20, Done: true, Err: errors.New("no peer")}, time.Second,
			"catch-up: 3/7 batches, 5/11 credentials (45%), block 9/20, stopped"},
		{node.CatchUpProgress{Reading: true, Scanned: 15000, HeadBlock: 20000}, time.Second,
			"catch-up: reading registry events, block 15000/20000"},
		{node.CatchUpProgress{Scanned: 20000, Block: 20000, HeadBlock: 20000, Done: true}, 3 * time.Second,
			"catch-up: nothing missing to block 20000, done in 3s"},
	} {
		if got := plainLine(tc.p, tc.elapsed); got != tc.want {
			t.Errorf("plainLine:\ngot  %q\nwant %q", got, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{59400 * time.Millisecond, "59s"},
		{59600 * time.Millisecond, "1m00s"},
		{3599 * time.Second, "59m59s"},
		{7620 * time.Second, "2h07m"},
	} {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 100_000: "100,000", 1_000_000: "1,000,000", 12_345_678: "12,345,678"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestCatchUpView: the bar is redrawn below a log record and its line is
// ended with the catch-up; plain lines are spaced, but the last is printed.
func TestCatchUpView(t *testing.T) {
	start := node.CatchUpProgress{TotalBatches: 3, TotalCredentials: 15, Started: time.Now()}
	mid := start
	mid.Batches, mid.Credentials = 1, 5
	done := start
	done.Batches, done.Credentials, done.Done = 3, 15, true

	var out bytes.Buffer
	bar := &catchUpView{w: &out, bar: true, cols: 80}
	bar.update(start)
	first := barLine(80, start, 0)
	bar.Write([]byte("level=INFO msg=hello\n"))
	bar.update(done)
	want := "\r" + first + "\x1b[K" + "\r\x1b[K" + "level=INFO msg=hello\n" + first + "\rcaught up    [="
	if got := out.String(); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "in 0s\x1b[K\n") {
		t.Errorf("bar output:\ngot  %q\nwant %q…in 0s\x1b[K\n", got, want)
	}
	out.Reset()
	bar.Write([]byte("after\n"))
	if out.String() != "after\n" {
		t.Errorf("a log record after the catch-up: %q", out.String())
	}

	out.Reset()
	plain := &catchUpView{w: &out, cols: 80}
	for _, p := range []node.CatchUpProgress{start, mid, done} {
		plain.update(p)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "catch-up: 0/3 batches") || !strings.HasSuffix(lines[1], ", done in 0s") {
		t.Errorf("plain output: %q", out.String())
	}
}

// TestCatchUpViewReading: a catch-up still reading events is shown once it
// has read for a second, and then to its end; one that ends with nothing
// missing before that is not shown at all.
func TestCatchUpViewReading(t *testing.T) {
	var out bytes.Buffer
	v := &catchUpView{w: &out, cols: 80}
	quick := node.CatchUpProgress{Reading: true, Scanned: 5000, HeadBlock: 12000, Started: time.Now()}
	v.update(quick)
	quick.Reading, quick.Done, quick.Scanned, quick.Block = false, true, 12000, 12000
	v.update(quick)
	if out.Len() != 0 {
		t.Errorf("a quick catch-up with nothing missing was shown: %q", out.String())
	}

	slow := node.CatchUpProgress{Reading: true, Scanned: 5000, HeadBlock: 20_000_000, Started: time.Now().Add(-2 * time.Second)}
	v.update(slow)
	slow.Scanned = 10000
	v.update(slow) // within the interval: not drawn
	slow.Reading, slow.Done, slow.Scanned, slow.Block = false, true, 20_000_000, 20_000_000
	v.update(slow)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || lines[0] != "catch-up: reading registry events, block 5000/20000000" ||
		!strings.HasPrefix(lines[1], "catch-up: nothing missing to block 20000000, done in 2s") {
		t.Errorf("a slow catch-up with nothing missing: %q", out.String())
	}

	// Once the reading finds batches missing, their totals are drawn at
	// once.
	out.Reset()
	found := node.CatchUpProgress{Reading: true, Scanned: 5000, HeadBlock: 20_000_000, Started: time.Now().Add(-2 * time.Second)}
	v.update(found)
	found.Reading, found.Scanned, found.TotalBatches, found.TotalCredentials = false, 20_000_000, 3, 15
	v.update(found)
	lines = strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "catch-up: 0/3 batches, 0/15 credentials") {
		t.Errorf("reading, then batches found: %q", out.String())
	}
}

func TestNewCatchUpView(t *testing.T) {
	for _, tc := range []struct {
		mode    string
		none    bool
		bar     bool
		wantErr bool
	}{
		{mode: "auto"}, // a buffer is no terminal
		{mode: "bar", bar: true},
		{mode: "plain"},
		{mode: "off", none: true},
		{mode: "fancy", none: true, wantErr: true},
	} {
		v, err := newCatchUpView(tc.mode, &bytes.Buffer{})
		if (err != nil) != tc.wantErr || (v == nil) != tc.none || (v != nil && v.bar != tc.bar) {
			t.Errorf("newCatchUpView(%q) = %+v, %v", tc.mode, v, err)
		}
	}
}
