package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/store"
)

// TestDevnetSurvivesSIGKILL submits credentials concurrently to a devnet,
// kills it (and its in-process chain) with SIGKILL mid-stream, restarts it
// on the same data dir, and checks that every acknowledged credential is
// there and ends up anchored exactly once, with a receipt the chain accepts.
func TestDevnetSurvivesSIGKILL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "devnet")
	p := startDevnet(t, dir)
	info := readDevnetInfo(t, dir)

	var (
		mu    sync.Mutex
		acked []string
		next  atomic.Int64
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := next.Add(1)
				body := fmt.Sprintf(`{"type":["VerifiableCredential"],"issuer":"did:web:localhost","credentialSubject":{"id":"did:example:%d"}}`, i)
				req, _ := http.NewRequest("POST", info.HTTP+"/v1/credentials", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+info.Token)
				resp, err := client.Do(req)
				if err != nil {
					return // the node is gone
				}
				var sub struct{ Digest string }
				err = decodeJSONBody(resp, &sub)
				if err == nil && resp.StatusCode == http.StatusAccepted {
					mu.Lock()
					acked = append(acked, sub.Digest)
					mu.Unlock()
				}
			}
		}()
	}
	// Let some batches close and anchor, then kill mid-stream.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 400 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	stop.Store(true)
	wg.Wait()
	t.Logf("%d credentials acknowledged before SIGKILL", len(acked))

	p = startDevnet(t, dir)
	info = readDevnetInfo(t, dir)
	for _, d := range acked {
		pollReceipt(t, info.HTTP, d)
	}
	p.stop(t)

	// Exactly once: read the node's own store after it stopped.
	st, err := store.Open(store.Config{Dir: filepath.Join(dir, "store")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seen := map[merkle.Hash]int{}
	batches, err := st.BatchesInState(store.BatchConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		ds, err := st.BatchDigests(b.Root)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			seen[d]++
		}
	}
	for d, n := range seen {
		if n != 1 {
			t.Errorf("digest %s is in %d anchored batches", d, n)
		}
	}
	for _, s := range acked {
		d, err := merkle.ParseHash(s)
		if err != nil {
			t.Fatal(err)
		}
		if seen[d] != 1 {
			t.Errorf("acknowledged digest %s is in %d anchored batches, want 1", s, seen[d])
		}
	}
}
