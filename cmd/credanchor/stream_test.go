package main

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/store"
)

// stream submits distinct credentials to a node from 16 clients until the
// node stops answering or stop is called, and remembers the digests the
// node acknowledged.
type stream struct {
	mu    sync.Mutex
	acked []string
	next  atomic.Int64
	done  atomic.Bool
	wg    sync.WaitGroup
}

// streamCredential is the n-th credential a stream submits, signed by key.
func streamCredential(key ed25519.PrivateKey, n int64) string {
	return signedCredential(key, fmt.Sprintf("did:example:%d", n))
}

// startStream submits credentials signed by key.
func startStream(node, token string, key ed25519.PrivateKey) *stream {
	s := &stream{}
	client := &http.Client{Timeout: 10 * time.Second}
	for range 16 {
		s.wg.Go(func() {
			for !s.done.Load() {
				req, _ := http.NewRequest("POST", node+"/v1/credentials", strings.NewReader(streamCredential(key, s.next.Add(1))))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					return // the node is gone
				}
				var sub struct{ Digest string }
				if decodeJSONBody(resp, &sub) == nil && resp.StatusCode == http.StatusAccepted {
					s.mu.Lock()
					s.acked = append(s.acked, sub.Digest)
					s.mu.Unlock()
				}
			}
		})
	}
	return s
}

// waitAcked returns once n submissions were acknowledged.
func (s *stream) waitAcked(n int) {
	for {
		s.mu.Lock()
		got := len(s.acked)
		s.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the stream and returns the acknowledged digests.
func (s *stream) stop() []string {
	s.done.Store(true)
	s.wg.Wait()
	return s.acked
}

// checkExactlyOnce reads a stopped node's store and checks that no digest
// is in two confirmed batches and every acknowledged one is in exactly one.
func checkExactlyOnce(t *testing.T, storeDir string, acked []string) {
	t.Helper()
	st, err := store.Open(store.Config{Dir: storeDir})
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
