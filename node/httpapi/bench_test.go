package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/credanchor/credanchor/anchor/merkle"
)

// benchClients is how many clients submit at once: enough in flight for
// Pebble to group their WAL syncs.
const benchClients = 64

// benchSeq keeps credentials distinct across the benchmark's runs.
var benchSeq atomic.Int64

func post(c *http.Client, url, contentType string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+issuerToken)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// BenchmarkSubmit measures durable submissions through the HTTP API with
// benchClients concurrent clients, each submitting distinct credentials,
// while the node batches and anchors them.
func BenchmarkSubmit(b *testing.B) {
	e := newEnv(b, envOptions{run: true})
	url := e.srv.URL + "/v1/credentials"
	b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			cred := testCredential(fmt.Sprintf("bench-submit-%d", benchSeq.Add(1)))
			code, err := post(e.client, url, "application/json", cred)
			if err != nil || code != http.StatusAccepted {
				b.Errorf("submit: %d %v", code, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submissions/s")
}

// BenchmarkGetCredential measures lookups of anchored credentials by digest
// (GET /v1/credentials/{digest}) with benchClients concurrent clients.
func BenchmarkGetCredential(b *testing.B) {
	e := newEnv(b, envOptions{run: true})
	const n = 1000
	var body bytes.Buffer
	paths := make([]string, n)
	var last merkle.Hash
	for i := range n {
		var line bytes.Buffer
		cred := testCredential(fmt.Sprintf("bench-get-%d", benchSeq.Add(1)))
		if err := compactJSON(&line, cred); err != nil {
			b.Fatal(err)
		}
		last = jsonDigest(b, line.Bytes())
		paths[i] = e.srv.URL + "/v1/credentials/" + last.String()
		body.Write(line.Bytes())
		body.WriteByte('\n')
	}
	if code, err := post(e.client, e.srv.URL+"/v1/credentials/bulk", "application/x-ndjson", body.Bytes()); err != nil || code != http.StatusOK {
		b.Fatalf("bulk: %d %v", code, err)
	}
	e.waitAnchored(last)

	b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := e.client.Get(paths[rand.IntN(n)])
			if err != nil {
				b.Errorf("get: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("get: %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
