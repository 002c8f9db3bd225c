package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/node"
)

var progressFlag = &cli.StringFlag{
	Name:     "progress",
	Usage:    "how to show the catch-up from peers on stderr: auto (a bar on a terminal, plain lines otherwise), bar, plain or off",
	Value:    "auto",
	Category: catNode,
	EnvVars:  envVars("progress"),
}

const (
	// barRedrawInterval spares the terminal a redraw for every batch.
	barRedrawInterval = 100 * time.Millisecond
	// plainInterval spaces plain progress lines, which logs keep, besides
	// the first and the last of a catch-up.
	plainInterval = 5 * time.Second
	// defaultColumns is the line the bar fits in when $COLUMNS does not
	// say: every terminal is at least this wide, and a longer line would
	// wrap, so that \r no longer returns to its start.
	defaultColumns = 80
	// readingDelay is how long a catch-up reads events, with nothing found
	// missing yet, before it is shown.
	readingDelay = time.Second
	// minBarWidth is the narrowest bar worth drawing.
	minBarWidth = 10
)

// catchUpView shows the node's catch-ups on the standard error: a bar
// redrawn in place on a terminal, or plain lines for logs and pipes.
type catchUpView struct {
	w    io.Writer
	bar  bool
	cols int

	mu sync.Mutex
	// started and last are the start of the catch-up shown and the time it
	// was last drawn or printed.
	started, last time.Time
	// reading: the state last drawn was a reading of events.
	reading bool
	// shown is the bar on the terminal's last line, "" when there is none.
	shown string
}

// newCatchUpView returns the view that --progress asks for on w, or nil for
// none.
func newCatchUpView(mode string, w io.Writer) (*catchUpView, error) {
	v := &catchUpView{w: w, cols: defaultColumns}
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		v.cols = c
	}
	switch mode {
	case "off":
		return nil, nil
	case "auto":
		v.bar = isTerminal(w)
	case "bar":
		v.bar = true
	case "plain":
	default:
		return nil, fmt.Errorf("unknown mode %q (want auto, bar, plain or off)", mode)
	}
	return v, nil
}

// isTerminal reports whether w is a terminal that can redraw a line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update is the node's Config.OnCatchUp: it draws the first and the last
// state of a catch-up, and the others when the last drawing is old enough.
// A catch-up that has found nothing missing is drawn only once it has read
// events for readingDelay, and then to its end.
func (v *catchUpView) update(p node.CatchUpProgress) {
	now := time.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	every := plainInterval
	if v.bar {
		every = barRedrawInterval
	}
	shown := p.Started.Equal(v.started)
	if p.TotalBatches == 0 && !shown && (p.Done || now.Sub(p.Started) < readingDelay) {
		// Reading a few ranges of events, with nothing missing, is not
		// worth a line: the node does it every 30 s.
		return
	}
	// The end of the reading, when the totals become known, is drawn at
	// once, as the first and the last states are.
	if !p.Done && shown && p.Reading == v.reading && now.Sub(v.last) < every {
		return
	}
	v.started, v.last, v.reading = p.Started, now, p.Reading
	elapsed := now.Sub(p.Started)
	if !v.bar {
		fmt.Fprintln(v.w, plainLine(p, elapsed))
		return
	}
	v.shown = barLine(v.cols, p, elapsed)
	fmt.Fprint(v.w, "\r"+v.shown+"\x1b[K")
	if p.Done {
		// The line is ended before what comes next: the node's summary.
		fmt.Fprintln(v.w)
		v.shown = ""
	}
}

// Write writes a log record above the bar: it clears the bar's line, writes
// the record and draws the bar again below it. With a bar, the logger writes
// through the view.
func (v *catchUpView) Write(b []byte) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.shown == "" {
		return v.w.Write(b)
	}
	if _, err := io.WriteString(v.w, "\r\x1b[K"); err != nil {
		return 0, err
	}
	n, err := v.w.Write(b)
	if err == nil {
		_, err = io.WriteString(v.w, v.shown)
	}
	return n, err
}

// barLine renders a catch-up as one line of at most cols-1 columns (the last
// column would wrap on some terminals):
//
//	catching up  [=========>          ]  412/1,000 batches  41,200/100,000 credentials  1,850/s  ETA 32s
//
// The bar fills with the credentials stored, and takes the columns the text
// leaves; where fewer than minBarWidth are left, the rate and then the
// batches give way.
func barLine(cols int, p node.CatchUpProgress, elapsed time.Duration) string {
	label := "catching up"
	rate, eta := catchUpRate(p, elapsed)
	end := "ETA " + eta
	switch {
	case p.Done && p.Err != nil:
		label, end = "stopped", "after "+formatDuration(elapsed)
	case p.Done:
		label, end = "caught up", "in "+formatDuration(elapsed)
	}
	var fields []string
	switch {
	case p.Reading:
		label = "reading"
		fields = []string{"registry events to block " + commas(p.Scanned) + "/" + commas(p.HeadBlock)}
	case p.TotalBatches == 0:
		fields = []string{"nothing missing to block " + commas(p.HeadBlock), end}
	default:
		fields = []string{
			commas(uint64(p.Batches)) + "/" + commas(uint64(p.TotalBatches)) + " batches",
			commas(p.Credentials) + "/" + commas(p.TotalCredentials) + " credentials",
			rate + "/s",
			end,
		}
	}
	// The label, padded to the longest, and the bar's "  [" and "]  ".
	const around = len("catching up") + 6
	text := strings.Join(fields, "  ")
	if len(fields) == 4 {
		for _, drop := range []int{2, 0} {
			if cols-1-around-len(text) >= minBarWidth {
				break
			}
			fields = append(fields[:drop], fields[drop+1:]...)
			text = strings.Join(fields, "  ")
		}
	}
	width := max(cols-1-around-len(text), minBarWidth)
	return fmt.Sprintf("%-11s  [%s]  %s", label, bar(width, fraction(p)), text)
}

// plainLine renders a catch-up as a line for logs and pipes.
func plainLine(p node.CatchUpProgress, elapsed time.Duration) string {
	var line string
	switch {
	case p.Reading:
		return fmt.Sprintf("catch-up: reading registry events, block %d/%d", p.Scanned, p.HeadBlock)
	case p.TotalBatches == 0:
		line = fmt.Sprintf("catch-up: nothing missing to block %d", p.HeadBlock)
	default:
		line = fmt.Sprintf("catch-up: %d/%d batches, %d/%d credentials (%d%%), block %d/%d",
			p.Batches, p.TotalBatches, p.Credentials, p.TotalCredentials, int(100*fraction(p)), p.Block, p.HeadBlock)
	}
	switch {
	case p.Done && p.Err != nil:
		line += ", stopped"
	case p.Done:
		line += ", done in " + formatDuration(elapsed)
	}
	return line
}

// fraction is the share of the blocks read, while reading, and then of
// the credentials found missing that are stored.
func fraction(p node.CatchUpProgress) float64 {
	switch {
	case p.Reading && p.HeadBlock > 0:
		return float64(p.Scanned) / float64(p.HeadBlock)
	case p.TotalCredentials == 0 && p.Done && p.Err == nil:
		return 1 // nothing was missing
	case p.TotalCredentials == 0:
		return 0
	}
	return float64(p.Credentials) / float64(p.TotalCredentials)
}

// catchUpRate returns the credentials stored per second and the time the
// rest will take at that rate ("?" before the first batch).
func catchUpRate(p node.CatchUpProgress, elapsed time.Duration) (rate, eta string) {
	if p.Credentials == 0 || elapsed <= 0 {
		return "0", "?"
	}
	perSec := float64(p.Credentials) / elapsed.Seconds()
	left := time.Duration(float64(p.TotalCredentials-p.Credentials) / perSec * float64(time.Second))
	return commas(uint64(math.Round(perSec))), formatDuration(left)
}

// bar draws a bar of width columns, filled to f (from 0 to 1).
func bar(width int, f float64) string {
	full := min(int(f*float64(width)), width)
	if full == width {
		return strings.Repeat("=", width)
	}
	return strings.Repeat("=", full) + ">" + strings.Repeat(" ", width-full-1)
}

// formatDuration writes d to the second, in at most two units: 32s, 4m05s,
// 2h07m.
func formatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
}

// commas writes n with thousands separators: 1,000,000.
func commas(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
