package p2p

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
)

func TestQuery(t *testing.T) {
	a, b := connectedPair(t, nil)
	ctx := testContext(t)
	for _, kind := range []string{QueryVerify, QueryReceipt, QueryStatus} {
		body := []byte(fmt.Sprintf(`{"kind":%q}`, kind))
		status, resp, err := b.Query(ctx, a.ID(), kind, body)
		if err != nil {
			t.Fatalf("Query(%s): %v", kind, err)
		}
		if status != 200 || !bytes.Equal(resp, body) {
			t.Errorf("Query(%s) = %d %s, want 200 %s", kind, status, resp, body)
		}
	}
	// Many at once share a few streams.
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			body := []byte(fmt.Sprintf(`{"i":%d}`, i))
			status, resp, err := b.Query(ctx, a.ID(), QueryVerify, body)
			if err == nil && (status != 200 || !bytes.Equal(resp, body)) {
				err = fmt.Errorf("got %d %s, want 200 %s", status, resp, body)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := b.Query(ctx, a.ID(), "delete", []byte(`{}`)); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown kind: error = %v, want ErrConfig", err)
	}
	if _, _, err := b.Query(ctx, a.ID(), QueryVerify, make([]byte, MaxQueryRequest)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: error = %v, want ErrTooLarge", err)
	}
}

type funcQuerier func(ctx context.Context, kind string, body []byte) (int, []byte, error)

func (f funcQuerier) Query(ctx context.Context, kind string, body []byte) (int, []byte, error) {
	return f(ctx, kind, body)
}

func TestQueryQuerierFailures(t *testing.T) {
	a, b := connectedPair(t, func(c *Config) {
		c.Querier = funcQuerier(func(_ context.Context, kind string, body []byte) (int, []byte, error) {
			switch string(body) {
			case `"fail"`:
				return 0, nil, errors.New("store down")
			case `"huge"`:
				return 200, make([]byte, MaxQueryResponse+1), nil
			case `"status"`:
				return 1000, nil, nil
			}
			return 404, []byte(`{"title":"not found"}`), nil
		})
	})
	ctx := testContext(t)
	for _, body := range []string{`"fail"`, `"huge"`, `"status"`} {
		if _, _, err := b.Query(ctx, a.ID(), QueryReceipt, []byte(body)); !errors.Is(err, ErrRemote) {
			t.Errorf("%s: error = %v, want ErrRemote", body, err)
		}
	}
	status, _, err := b.Query(ctx, a.ID(), QueryReceipt, []byte(`{}`))
	if err != nil || status != 404 {
		t.Errorf("got %d, %v, want 404", status, err)
	}
}

func TestQueryRateLimit(t *testing.T) {
	const burst = 5
	a, b := connectedPair(t, func(c *Config) {
		c.QueryRate = 0.001 // about no refill during the test
		c.QueryBurst = burst
	})
	ctx := testContext(t)
	for i := range burst {
		if _, _, err := b.Query(ctx, a.ID(), QueryStatus, []byte(`{}`)); err != nil {
			t.Fatalf("query %d within burst: %v", i, err)
		}
	}
	for range 3 {
		if _, _, err := b.Query(ctx, a.ID(), QueryStatus, []byte(`{}`)); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("query over the limit: error = %v, want ErrRateLimited", err)
		}
	}
	// a's own queries to b have their own bucket.
	if _, _, err := a.Query(ctx, b.ID(), QueryStatus, []byte(`{}`)); err != nil {
		t.Errorf("a's query to b: %v", err)
	}
	// Rate limiting is not misbehaviour.
	if s := a.score.appScore(b.ID()); s < 0 {
		t.Errorf("b's score = %v after being rate limited", s)
	}
}

func TestQueryServerBadRequests(t *testing.T) {
	a, b := connectedPair(t, nil)
	frame := func(kind string, body string) []byte {
		f := binary.AppendUvarint(nil, uint64(1+len(kind)+len(body)))
		return append(append(append(f, byte(len(kind))), kind...), body...)
	}
	s := rawStream(t, b, a, string(QueryProtocol))
	defer s.Reset()
	r := bufio.NewReader(s)
	// Malformed requests get "bad request" on the same stream...
	for i, f := range [][]byte{
		frame("", `{}`),
		frame("drop", `{}`),
		frame(QueryVerify, `{"unterminated`),
		append(binary.AppendUvarint(nil, 3), 9, 'a', 'b'),
	} {
		if _, err := s.Write(f); err != nil {
			t.Fatal(err)
		}
		resp, err := readFrame(r, nil, 64)
		if err != nil || len(resp) != queryHeader || resp[0] != codeBadRequest {
			t.Fatalf("request %d: got %v, %v, want a bad request answer", i, resp, err)
		}
	}
	// ...and a good one still works on it.
	if _, err := s.Write(frame(QueryVerify, `{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	resp, err := readFrame(r, nil, 64)
	if err != nil || resp[0] != codeOK || string(resp[3:]) != `{"ok":true}` {
		t.Fatalf("good request: got %q, %v", resp, err)
	}
	if a.score.appScore(b.ID()) >= 0 {
		t.Error("malformed requests did not lower b's score")
	}
	// An oversized frame resets the stream without reading it.
	if _, err := s.Write(binary.AppendUvarint(nil, MaxQueryRequest+1)); err != nil {
		t.Fatal(err)
	}
	if _, err := readFrame(r, nil, 64); err == nil {
		t.Fatal("oversized request answered")
	}
	// A peer that keeps at it is dropped.
	for range 10 {
		s, err := b.host.NewStream(testContext(t), a.ID(), QueryProtocol)
		if err != nil {
			break
		}
		_ = s.SetDeadline(deadline())
		_, _ = s.Write(frame("bad", `{}`))
		_, _ = readFrame(bufio.NewReader(s), nil, 64)
		s.Reset()
	}
	waitFor(t, "a drops b", func() bool { return a.score.isBanned(b.ID()) })
}

func TestQueryClientBadResponses(t *testing.T) {
	a, b := connectedPair(t, nil)
	ctx := testContext(t)
	for _, tc := range []struct {
		name string
		resp []byte
	}{
		{"nothing", nil},
		{"short frame", append(binary.AppendUvarint(nil, 2), 0, 0)},
		{"bad code", append(binary.AppendUvarint(nil, 3), 99, 0, 200)},
		{"bad status", append(binary.AppendUvarint(nil, 3), codeOK, 0, 7)},
		{"oversized", binary.AppendUvarint(nil, MaxQueryResponse+queryHeader+1)},
		{"cut short", append(binary.AppendUvarint(nil, 100), codeOK, 0, 200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.host.SetStreamHandler(QueryProtocol, func(s network.Stream) {
				_, _ = readFrame(bufio.NewReader(s), nil, MaxQueryRequest)
				_, _ = s.Write(tc.resp)
				_ = s.Close()
			})
			if _, _, err := b.Query(ctx, a.ID(), QueryVerify, []byte(`{}`)); err == nil {
				t.Fatal("Query accepted a bad response")
			}
		})
		b.score.mu.Lock()
		clear(b.score.penalties)
		clear(b.score.banned)
		b.score.mu.Unlock()
		if _, err := b.Connect(ctx, a.Addrs()[0]); err != nil {
			t.Fatalf("reconnect: %v", err)
		}
	}
}

// BenchmarkQuery measures verify queries per second over loopback with a
// trivial Querier, from parallel goroutines sharing pooled streams.
func BenchmarkQuery(b *testing.B) {
	a, c := connectedPair(b, func(c *Config) { c.QueryRate = -1 })
	ctx := context.Background()
	body := []byte(`{"digest":"0x0000000000000000000000000000000000000000000000000000000000000000"}`)
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := c.Query(ctx, a.ID(), QueryVerify, body); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}
