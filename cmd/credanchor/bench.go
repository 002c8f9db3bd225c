package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/httpapi"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
)

var (
	benchCredsFlag    = &cli.IntFlag{Name: "credentials", Usage: "credentials to submit in bulk", Value: 100_000}
	benchSingleFlag   = &cli.IntFlag{Name: "single", Usage: "credentials to submit one request each", Value: 20_000}
	benchClientsFlag  = &cli.IntFlag{Name: "clients", Usage: "concurrent clients (and wrk connections)", Value: 64}
	benchDurationFlag = &cli.DurationFlag{Name: "duration", Usage: "how long each wrk run lasts", Value: 10 * time.Second}
	benchProfileFlag  = &cli.PathFlag{Name: "cpuprofile", Usage: "write a CPU profile of the whole run to FILE (go tool pprof)"}
)

var benchCommand = &cli.Command{
	Name:  "bench",
	Usage: "measure a node's HTTP throughput on loopback",
	Subcommands: []*cli.Command{{
		Name:  "http",
		Usage: "durable submissions per second (single and bulk) and verify-by-digest requests per second",
		Description: `Starts an in-process dev chain and a node with its HTTP API on 127.0.0.1, then
measures: single submissions with --clients concurrent clients; bulk (NDJSON)
submissions; and, with wrk (Debian's wrk package) sharing the machine,
GET /v1/credentials/{digest} against a Go handler that answers a constant
60-byte JSON, the ceiling of net/http in the same run. Reports medians of
the latency as wrk measures them.`,
		Flags:  []cli.Flag{benchCredsFlag, benchSingleFlag, benchClientsFlag, benchDurationFlag, benchProfileFlag},
		Action: benchHTTP,
	}},
}

func benchHTTP(c *cli.Context) error {
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	w := c.App.Writer
	if p := c.Path(benchProfileFlag.Name); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "credanchor-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	chain, err := testnet.New(ctx, testnet.Config{})
	if err != nil {
		return err
	}
	defer chain.Close()
	consortium, err := testnet.DeployConsortium(ctx, chain)
	if err != nil {
		return err
	}
	reg, nodeKey := consortium.Registry, consortium.NodeKey
	st, err := store.Open(store.Config{Dir: filepath.Join(dir, "store")})
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := node.New(ctx, node.Config{Store: st, Chain: chain.Client(), Registry: reg, NodeKey: nodeKey, MaxBatchWait: time.Second})
	if err != nil {
		return err
	}
	go n.Run(ctx)
	const token = "bench-token"
	api, err := httpapi.New(httpapi.Config{Node: n, IssuerTokens: []string{token}})
	if err != nil {
		return err
	}
	srv, err := api.ListenAndServe(ctx, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer srv.Close()
	base := srv.URL()
	clients := max(c.Int(benchClientsFlag.Name), 1)
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

	// Single submissions, one credential per request.
	single := c.Int(benchSingleFlag.Name)
	var next atomic.Int64
	var failures atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(single) {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/credentials", strings.NewReader(benchCredential("single", i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := httpc.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	singleRate := float64(single) / time.Since(start).Seconds()
	fmt.Fprintf(w, "single submissions: %d in %s, %.0f/s with %d clients (%d failed)\n",
		single, time.Since(start).Round(time.Millisecond), singleRate, clients, failures.Load())

	// Bulk: NDJSON bodies of 5,000, four requests in flight.
	total := c.Int(benchCredsFlag.Name)
	const perRequest = 5000
	var bodies [][]byte
	for off := 0; off < total; off += perRequest {
		var b bytes.Buffer
		for i := off; i < min(off+perRequest, total); i++ {
			b.WriteString(benchCredential("bulk", int64(i)))
			b.WriteByte('\n')
		}
		bodies = append(bodies, b.Bytes())
	}
	start = time.Now()
	sem := make(chan struct{}, 4)
	var bulkErr error
	var mu sync.Mutex
	for _, body := range bodies {
		wg.Add(1)
		sem <- struct{}{}
		go func(body []byte) {
			defer wg.Done()
			defer func() { <-sem }()
			req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/credentials/bulk", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-ndjson")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := httpc.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("bulk answered %d", resp.StatusCode)
				}
			}
			if err != nil {
				mu.Lock()
				bulkErr = errors.Join(bulkErr, err)
				mu.Unlock()
			}
		}(body)
	}
	wg.Wait()
	if bulkErr != nil {
		return bulkErr
	}
	fmt.Fprintf(w, "bulk submissions:   %d in %s, %.0f/s\n", total, time.Since(start).Round(time.Millisecond),
		float64(total)/time.Since(start).Seconds())

	// Verify by digest: wrk against the node and against a constant handler.
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		fmt.Fprintln(w, "wrk not found (apt-get install wrk): skipping the read benchmark")
		return nil
	}
	digests := make([]string, 0, 1000)
	for i := range int64(min(1000, total)) {
		d, err := digestOfJSON(benchCredential("bulk", i))
		if err != nil {
			return err
		}
		digests = append(digests, d)
	}
	script := filepath.Join(dir, "digests.lua")
	if err := os.WriteFile(script, []byte(wrkScript(digests)), 0o600); err != nil {
		return err
	}
	constant, err := httpapi.ListenAndServe(ctx, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"digest":"0x00","state":"anchored","note":"constant answer"}`))
	}))
	if err != nil {
		return err
	}
	defer constant.Close()
	dur := c.Duration(benchDurationFlag.Name).String()
	conns := fmt.Sprint(clients)
	for _, run := range []struct {
		name string
		args []string
	}{
		{"constant 60-byte JSON (net/http ceiling)", []string{"-t2", "-c" + conns, "-d" + dur, "--latency", constant.URL() + "/"}},
		{"GET /v1/credentials/{digest}", []string{"-t2", "-c" + conns, "-d" + dur, "--latency", "-s", script, base}},
	} {
		out, err := exec.CommandContext(ctx, wrk, run.args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("wrk: %w\n%s", err, out)
		}
		fmt.Fprintf(w, "%-42s %s\n", run.name+":", summariseWrk(string(out)))
	}
	return nil
}

func benchCredential(kind string, i int64) string {
	return fmt.Sprintf(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:web:bench.example","credentialSubject":{"id":"did:example:%s-%d"}}`, kind, i)
}

// wrkScript makes wrk cycle through the digests.
func wrkScript(digests []string) string {
	var b strings.Builder
	b.WriteString("local d = {")
	for _, d := range digests {
		fmt.Fprintf(&b, "%q,", d)
	}
	b.WriteString("}\nlocal i = 0\nrequest = function()\n  i = i % #d + 1\n  return wrk.format(\"GET\", \"/v1/credentials/\" .. d[i])\nend\n")
	return b.String()
}

var (
	wrkRate = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkP50  = regexp.MustCompile(`\s50%\s+([\d.]+\w+)`)
	wrkP99  = regexp.MustCompile(`\s99%\s+([\d.]+\w+)`)
	wrkErrs = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
)

func summariseWrk(out string) string {
	get := func(re *regexp.Regexp) string {
		if m := re.FindStringSubmatch(out); m != nil {
			return m[1]
		}
		return "?"
	}
	s := fmt.Sprintf("%s req/s, p50 %s, p99 %s", get(wrkRate), get(wrkP50), get(wrkP99))
	if m := wrkErrs.FindStringSubmatch(out); m != nil {
		s += ", " + m[1] + " non-2xx"
	}
	return s
}
