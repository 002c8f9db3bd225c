package p2p

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/time/rate"
)

// QueryProtocol carries the HTTP API's verify, receipt and status queries.
// A stream carries any number of request/response pairs in order, so a
// client keeps streams open and reuses them.
//
// Request frame (at most MaxQueryRequest bytes): kind length (1), kind,
// JSON body. Response frame (at most MaxQueryResponse+3 bytes): a code
// byte (codeOK, codeRateLimited, codeBadRequest, codeUnavailable), the
// HTTP status (uint16, big endian; 0 unless codeOK), the JSON body.
const QueryProtocol protocol.ID = "/credanchor/query/1.0.0"

// Query kinds, as the HTTP API's routes.
const (
	QueryVerify  = "verify"
	QueryReceipt = "receipt"
	QueryStatus  = "status"
)

const (
	// MaxQueryRequest bounds a query request frame.
	MaxQueryRequest = 1 << 20
	// MaxQueryResponse bounds a query response body.
	MaxQueryResponse = 4 << 20

	queryHeader = 3
	// queryTimeout bounds one query when the caller's context has no
	// deadline, and a Querier call.
	queryTimeout = 30 * time.Second
	// queryIdle is how long a server keeps an idle query stream.
	queryIdle = 2 * time.Minute
	// maxQueryStreams bounds the query streams a client opens to a peer.
	maxQueryStreams = 32
)

func validKind(k string) bool {
	return k == QueryVerify || k == QueryReceipt || k == QueryStatus
}

// parseQueryRequest splits a request frame into kind and body.
func parseQueryRequest(req []byte) (kind string, body []byte, err error) {
	if len(req) < 1 || int(req[0]) == 0 || 1+int(req[0]) > len(req) {
		return "", nil, fmt.Errorf("%w: query request header", ErrMalformed)
	}
	kind, body = string(req[1:1+req[0]]), req[1+req[0]:]
	if !validKind(kind) {
		return "", nil, fmt.Errorf("%w: query kind %q", ErrMalformed, kind)
	}
	if !json.Valid(body) {
		return "", nil, fmt.Errorf("%w: query body is not JSON", ErrMalformed)
	}
	return kind, body, nil
}

// parseQueryResponse splits a response frame.
func parseQueryResponse(resp []byte) (code byte, status int, body []byte, err error) {
	if len(resp) < queryHeader {
		return 0, 0, nil, fmt.Errorf("%w: query response of %d bytes", ErrMalformed, len(resp))
	}
	code, status, body = resp[0], int(binary.BigEndian.Uint16(resp[1:3])), resp[3:]
	switch {
	case code > codeRateLimited:
		return 0, 0, nil, fmt.Errorf("%w: query response code %d", ErrMalformed, code)
	case code == codeOK && (status < 100 || status > 599):
		return 0, 0, nil, fmt.Errorf("%w: HTTP status %d", ErrMalformed, status)
	}
	return code, status, body, nil
}

// limiter returns p's query token bucket, made at the member or the guest
// rates when p first queries.
func (h *Host) limiter(p peer.ID, guest bool) *rate.Limiter {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.limiters[p]
	if !ok {
		switch {
		case guest:
			l = rate.NewLimiter(rate.Limit(h.cfg.GuestQueryRate), h.cfg.GuestQueryBurst)
		case h.cfg.QueryRate < 0:
			l = rate.NewLimiter(rate.Inf, h.cfg.QueryBurst)
		default:
			l = rate.NewLimiter(rate.Limit(h.cfg.QueryRate), h.cfg.QueryBurst)
		}
		h.limiters[p] = l
	}
	return l
}

func (h *Host) handleQuery(s network.Stream) {
	p := s.Conn().RemotePeer()
	ctx, cancel := context.WithTimeout(h.ctx, handshakeTimeout)
	_, err := h.member(ctx, p)
	cancel()
	guest := errors.Is(err, errGuest)
	if err != nil && !guest {
		_ = s.Reset()
		return
	}
	lim := h.limiter(p, guest)
	r := bufio.NewReaderSize(s, 16<<10)
	w := bufio.NewWriterSize(s, 16<<10)
	var buf []byte
	for {
		_ = s.SetReadDeadline(time.Now().Add(queryIdle))
		req, err := readFrame(r, buf, MaxQueryRequest)
		if err != nil {
			if errors.Is(err, io.EOF) {
				_ = s.Close()
			} else {
				h.badFrame(p, err)
				_ = s.Reset()
			}
			return
		}
		buf = req
		code, status, resp := h.answer(p, lim, guest, req)
		_ = s.SetWriteDeadline(time.Now().Add(queryTimeout))
		hdr := [queryHeader]byte{code, byte(status >> 8), byte(status)}
		if err := writeFrame(w, hdr[:], resp); err != nil {
			_ = s.Reset()
			return
		}
		// Pipelined requests are answered in one write.
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				_ = s.Reset()
				return
			}
		}
	}
}

func (h *Host) answer(p peer.ID, lim *rate.Limiter, guest bool, req []byte) (code byte, status int, resp []byte) {
	kind, body, err := parseQueryRequest(req)
	if err != nil {
		h.penalize(p, penaltyMalformed, err.Error())
		return codeBadRequest, 0, nil
	}
	if !lim.Allow() || guest && !h.guests.Allow() {
		return codeRateLimited, 0, nil
	}
	if h.cfg.Querier == nil {
		return codeUnavailable, 0, nil
	}
	ctx, cancel := context.WithTimeout(h.ctx, queryTimeout)
	defer cancel()
	status, resp, err = h.cfg.Querier.Query(ctx, kind, body)
	switch {
	case err != nil:
		h.log.WarnContext(ctx, "p2p query failed", slog.String("peer", p.String()), slog.String("kind", kind), slog.Any("error", err))
		return codeUnavailable, 0, nil
	case status < 100 || status > 599 || len(resp) > MaxQueryResponse:
		h.log.ErrorContext(ctx, "p2p querier answer out of bounds", slog.String("kind", kind), slog.Int("status", status), slog.Int("bytes", len(resp)))
		return codeUnavailable, 0, nil
	}
	return codeOK, status, resp
}

// Query asks member peer p a query of the given kind (QueryVerify,
// QueryReceipt or QueryStatus) with a JSON body, and returns the HTTP
// status and JSON body of the answer. A guest host may call it too. A refusal by p's rate limit is
// ErrRateLimited; p's failure to answer is ErrRemote.
func (h *Host) Query(ctx context.Context, p peer.ID, kind string, body []byte) (int, []byte, error) {
	if !validKind(kind) {
		return 0, nil, fmt.Errorf("%w: query kind %q", ErrConfig, kind)
	}
	if 1+len(kind)+len(body) > MaxQueryRequest {
		return 0, nil, fmt.Errorf("%w: query of %d bytes, limit %d", ErrTooLarge, 1+len(kind)+len(body), MaxQueryRequest)
	}
	if _, err := h.member(ctx, p); err != nil {
		return 0, nil, err
	}
	var status int
	var resp []byte
	for attempt := 0; ; attempt++ {
		qs, pooled, err := h.queries.get(ctx, h, p)
		if err != nil {
			return 0, nil, err
		}
		status, resp, err = qs.roundTrip(ctx, kind, body)
		if err == nil {
			h.queries.put(p, qs)
			break
		}
		h.queries.discard(qs)
		switch {
		case ctx.Err() != nil:
			return 0, nil, fmt.Errorf("p2p: query %s: %w", p, ctx.Err())
		case errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge):
			h.badFrame(p, err)
		case pooled && attempt == 0:
			// The peer may have closed an idle stream: try a new one.
			continue
		}
		return 0, nil, fmt.Errorf("p2p: query %s: %w", p, err)
	}
	switch status {
	case -codeRateLimited:
		return 0, nil, fmt.Errorf("p2p: query %s: %w", p, ErrRateLimited)
	case -codeBadRequest:
		return 0, nil, fmt.Errorf("p2p: query %s: %w: peer says bad request", p, ErrRemote)
	case -codeUnavailable:
		return 0, nil, fmt.Errorf("p2p: query %s: %w", p, ErrRemote)
	}
	return status, resp, nil
}

// qstream is the client end of a query stream.
type qstream struct {
	s     network.Stream
	slots chan struct{} // the pool's slots this stream holds one of
	r     *bufio.Reader
	w     *bufio.Writer
	buf   []byte
}

// roundTrip sends one request and reads its answer. A refusal is returned
// as the negated code with a nil error.
func (q *qstream) roundTrip(ctx context.Context, kind string, body []byte) (int, []byte, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(queryTimeout)
	}
	_ = q.s.SetDeadline(deadline)
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = q.s.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	if err := writeFrame(q.w, []byte{byte(len(kind))}, []byte(kind), body); err != nil {
		return 0, nil, err
	}
	if err := q.w.Flush(); err != nil {
		return 0, nil, err
	}
	resp, err := readFrame(q.r, q.buf, MaxQueryResponse+queryHeader)
	if err != nil {
		return 0, nil, noEOF(err)
	}
	if cap(resp) <= 64<<10 {
		q.buf = resp // keep small buffers only
	}
	code, status, rb, err := parseQueryResponse(resp)
	if err != nil {
		return 0, nil, err
	}
	if code != codeOK {
		return -int(code), nil, nil
	}
	return status, append([]byte(nil), rb...), nil
}

// queryPool keeps idle query streams per peer for reuse, and bounds the
// streams open to a peer at once: more concurrent queries wait for one,
// rather than exceed the peer's stream limits.
type queryPool struct {
	mu     sync.Mutex
	peers  map[peer.ID]*peerQueries
	closed bool
}

type peerQueries struct {
	slots chan struct{} // one token per open stream
	idle  []*qstream
}

func (qp *queryPool) init() { qp.peers = make(map[peer.ID]*peerQueries) }

func (qp *queryPool) entry(p peer.ID) (*peerQueries, error) {
	qp.mu.Lock()
	defer qp.mu.Unlock()
	if qp.closed {
		return nil, ErrClosed
	}
	e, ok := qp.peers[p]
	if !ok {
		e = &peerQueries{slots: make(chan struct{}, maxQueryStreams)}
		qp.peers[p] = e
	}
	return e, nil
}

// get returns an idle stream to p (pooled = true) or a new one; the caller
// gives it back with put or discard.
func (qp *queryPool) get(ctx context.Context, h *Host, p peer.ID) (qs *qstream, pooled bool, err error) {
	e, err := qp.entry(p)
	if err != nil {
		return nil, false, err
	}
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	qp.mu.Lock()
	if n := len(e.idle); n > 0 {
		qs = e.idle[n-1]
		e.idle = e.idle[:n-1]
		qp.mu.Unlock()
		return qs, true, nil
	}
	qp.mu.Unlock()
	s, err := h.host.NewStream(ctx, p, QueryProtocol)
	if err != nil {
		<-e.slots
		return nil, false, fmt.Errorf("p2p: open query stream to %s: %w", p, err)
	}
	return &qstream{s: s, slots: e.slots, r: bufio.NewReaderSize(s, 16<<10), w: bufio.NewWriterSize(s, 16<<10)}, false, nil
}

// put returns a healthy stream for reuse.
func (qp *queryPool) put(p peer.ID, qs *qstream) {
	qp.mu.Lock()
	e, ok := qp.peers[p]
	if ok && !qp.closed && e.slots == qs.slots {
		e.idle = append(e.idle, qs)
		qp.mu.Unlock()
		<-qs.slots
		return
	}
	qp.mu.Unlock()
	_ = qs.s.Close()
	<-qs.slots
}

// discard resets a stream that failed.
func (qp *queryPool) discard(qs *qstream) {
	_ = qs.s.Reset()
	<-qs.slots
}

func (qp *queryPool) drop(p peer.ID) {
	qp.mu.Lock()
	var idle []*qstream
	if e, ok := qp.peers[p]; ok {
		idle = e.idle
		delete(qp.peers, p)
	}
	qp.mu.Unlock()
	for _, qs := range idle {
		_ = qs.s.Reset()
	}
}

func (qp *queryPool) closeAll() {
	qp.mu.Lock()
	qp.closed = true
	all := qp.peers
	qp.peers = nil
	qp.mu.Unlock()
	for _, e := range all {
		for _, qs := range e.idle {
			_ = qs.s.Reset()
		}
	}
}
