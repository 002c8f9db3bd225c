package main

import (
	"path/filepath"
	"testing"
)

// TestDevnetSurvivesSIGKILL submits credentials concurrently to a devnet,
// kills it (and its in-process chain) with SIGKILL mid-stream, restarts it
// on the same data dir, and checks that every acknowledged credential is
// there and ends up anchored exactly once, with a receipt the chain accepts.
func TestDevnetSurvivesSIGKILL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "devnet")
	p := startDevnet(t, dir)
	info := readDevnetInfo(t, dir)
	key, err := loadIssuerKey(filepath.Join(dir, "issuer.key"))
	if err != nil {
		t.Fatal(err)
	}
	s := startStream(info.HTTP, info.Token, key)
	// Let some batches close and anchor, then kill mid-stream.
	s.waitAcked(400)
	p.kill()
	acked := s.stop()
	t.Logf("%d credentials acknowledged before SIGKILL", len(acked))

	p = startDevnet(t, dir)
	info = readDevnetInfo(t, dir)
	for _, d := range acked {
		pollReceipt(t, info.HTTP, d)
	}
	p.stop(t)
	checkExactlyOnce(t, filepath.Join(dir, "store"), acked)
}
