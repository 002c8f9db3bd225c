package p2p

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
	"unsafe"

	"github.com/gowebpki/jcs"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/credanchor/credanchor/anchor/merkle"
)

// SyncProtocol fetches what an announcement names: a batch's digests or a
// status list credential. One request per stream.
//
// Request: one frame (at most maxSyncRequest bytes): a kind byte, then
// for syncDigests the 32-byte root, for syncStatusList the 32-byte hash
// followed by the URL. Response: a code byte (codeOK, codeNotFound,
// codeBadRequest, codeUnavailable) and, for codeOK, a uvarint count
// followed by that many bytes (statuslist) or 32-byte digests (digests),
// which the client reads in bounded chunks.
const SyncProtocol protocol.ID = "/credanchor/sync/1.0.0"

const (
	syncDigests    = 1
	syncStatusList = 2

	codeOK          = 0
	codeNotFound    = 1
	codeBadRequest  = 2
	codeUnavailable = 3
	codeRateLimited = 4

	// MaxStatusListSize bounds a status list credential fetched by sync.
	MaxStatusListSize = 1 << 20

	maxSyncRequest = 1 + merkle.HashSize + MaxURLLength
	// syncTimeout bounds a whole sync exchange: at loopback speed a
	// full 512 MiB batch takes seconds; over a slow WAN link it may not, so
	// this is generous.
	syncTimeout = 5 * time.Minute
	// digestChunk is how many digests the client reads (and allocates) at
	// a time, so that a lying count costs the liar, not us.
	digestChunk = 1 << 14
)

func (h *Host) handleSync(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	ctx, cancel := context.WithTimeout(h.ctx, syncTimeout)
	defer cancel()
	wctx, wcancel := context.WithTimeout(ctx, handshakeTimeout)
	_, err := h.member(wctx, p)
	wcancel()
	if err != nil {
		s.Reset()
		return
	}
	_ = s.SetReadDeadline(time.Now().Add(handshakeTimeout))
	_ = s.SetWriteDeadline(time.Now().Add(syncTimeout))
	req, err := readFrame(bufio.NewReaderSize(s, 256), nil, maxSyncRequest)
	if err != nil {
		h.badFrame(p, err)
		s.Reset()
		return
	}
	w := bufio.NewWriterSize(s, 64<<10)
	code, err := h.serveSync(ctx, w, req)
	if err != nil {
		s.Reset()
		return
	}
	if code == codeBadRequest {
		h.penalize(p, penaltyMalformed, "malformed sync request")
	}
	if err := w.Flush(); err != nil {
		s.Reset()
	}
}

// serveSync answers one request; the returned error is a write failure.
func (h *Host) serveSync(ctx context.Context, w *bufio.Writer, req []byte) (byte, error) {
	reply := func(code byte) (byte, error) { return code, w.WriteByte(code) }
	if len(req) == 0 {
		return reply(codeBadRequest)
	}
	var hash merkle.Hash
	switch {
	case req[0] == syncDigests && len(req) == 1+merkle.HashSize:
		copy(hash[:], req[1:])
		if h.cfg.Provider == nil {
			return reply(codeNotFound)
		}
		ds, err := h.cfg.Provider.Digests(ctx, hash)
		if code := h.providerCode(ctx, err, "digests"); code != codeOK {
			return reply(code)
		}
		if len(ds) == 0 || len(ds) > MaxDigests {
			return reply(codeUnavailable)
		}
		if _, err := reply(codeOK); err != nil {
			return codeOK, err
		}
		if err := writeUvarint(w, uint64(len(ds))); err != nil {
			return codeOK, err
		}
		_, err = w.Write(hashBytes(ds))
		return codeOK, err
	case req[0] == syncStatusList && len(req) > 1+merkle.HashSize:
		copy(hash[:], req[1:])
		if h.cfg.Provider == nil {
			return reply(codeNotFound)
		}
		b, err := h.cfg.Provider.StatusList(ctx, string(req[1+merkle.HashSize:]), hash)
		if code := h.providerCode(ctx, err, "status list"); code != codeOK {
			return reply(code)
		}
		if len(b) > MaxStatusListSize {
			return reply(codeUnavailable)
		}
		if _, err := reply(codeOK); err != nil {
			return codeOK, err
		}
		if err := writeUvarint(w, uint64(len(b))); err != nil {
			return codeOK, err
		}
		_, err = w.Write(b)
		return codeOK, err
	}
	return reply(codeBadRequest)
}

func (h *Host) providerCode(ctx context.Context, err error, what string) byte {
	switch {
	case err == nil:
		return codeOK
	case errors.Is(err, ErrNotFound):
		return codeNotFound
	}
	h.log.WarnContext(ctx, "p2p sync provider failed", slog.String("what", what), slog.Any("error", err))
	return codeUnavailable
}

func writeUvarint(w *bufio.Writer, v uint64) error {
	var b [binary.MaxVarintLen64]byte
	_, err := w.Write(b[:binary.PutUvarint(b[:], v)])
	return err
}

// hashBytes views digests as their concatenated bytes, without copying
// 32 MiB per million digests.
func hashBytes(ds []merkle.Hash) []byte {
	if len(ds) == 0 {
		return nil
	}
	return unsafe.Slice(&ds[0][0], len(ds)*merkle.HashSize)
}

// badFrame scores a peer for a request frame that failed to decode.
func (h *Host) badFrame(p peer.ID, err error) {
	switch {
	case errors.Is(err, ErrTooLarge):
		h.penalize(p, penaltyOversized, err.Error())
	case errors.Is(err, ErrMalformed):
		h.penalize(p, penaltyMalformed, err.Error())
	}
}

// syncStream is the client end of one sync exchange.
type syncStream struct {
	network.Stream
	r    *bufio.Reader
	stop func() bool // unregisters the reset on context cancellation
}

// close ends an exchange: fail resets the stream (the response was not
// read to its end or was bad), otherwise it is closed.
func (s *syncStream) close(fail bool) {
	s.stop()
	if fail {
		_ = s.Reset()
	} else {
		_ = s.Close()
	}
}

// syncRequest opens a sync stream to a member peer, sends req and returns
// the stream positioned after an OK code.
func (h *Host) syncRequest(ctx context.Context, p peer.ID, req []byte) (*syncStream, error) {
	if _, err := h.member(ctx, p); err != nil {
		return nil, err
	}
	st, err := h.host.NewStream(ctx, p, SyncProtocol)
	if err != nil {
		return nil, fmt.Errorf("p2p: open sync stream to %s: %w", p, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(syncTimeout)
	}
	_ = st.SetDeadline(deadline)
	// A cancelled context unblocks reads at once, not at the deadline.
	s := &syncStream{Stream: st, r: bufio.NewReaderSize(st, 64<<10), stop: context.AfterFunc(ctx, func() { _ = st.Reset() })}
	w := bufio.NewWriterSize(st, 64+len(req))
	if err := writeFrame(w, req); err != nil {
		s.close(true)
		return nil, fmt.Errorf("p2p: sync request: %w", err)
	}
	if err := w.Flush(); err != nil {
		s.close(true)
		return nil, fmt.Errorf("p2p: sync request: %w", err)
	}
	_ = st.CloseWrite()
	code, err := s.r.ReadByte()
	if err != nil {
		s.close(true)
		return nil, fmt.Errorf("p2p: sync response from %s: %w", p, noEOF(err))
	}
	switch code {
	case codeOK:
		return s, nil
	case codeNotFound:
		err = ErrNotFound
	case codeBadRequest:
		err = fmt.Errorf("%w: peer says bad request", ErrRemote)
	case codeUnavailable:
		err = ErrRemote
	default:
		h.penalize(p, penaltyMalformed, "bad sync response code")
		err = fmt.Errorf("%w: sync response code %d", ErrMalformed, code)
	}
	s.close(true)
	return nil, fmt.Errorf("p2p: sync from %s: %w", p, err)
}

// GetDigests fetches from member peer p the ordered digests of the batch
// with the given root, and returns them only if they rebuild root as an
// RFC 9162 tree; digests that do not are an error wrapping ErrRootMismatch,
// and cost p its place in the consortium.
func (h *Host) GetDigests(ctx context.Context, p peer.ID, root merkle.Hash) ([]merkle.Hash, error) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	req := append([]byte{syncDigests}, root[:]...)
	s, err := h.syncRequest(ctx, p, req)
	if err != nil {
		return nil, err
	}
	ds, err := readDigests(s.r)
	if err != nil {
		s.close(true)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("p2p: digests from %s: %w", p, ctx.Err())
		}
		h.badFrame(p, err)
		return nil, fmt.Errorf("p2p: digests from %s: %w", p, err)
	}
	n := len(ds)
	s.close(false)
	tree, err := merkle.New(ds)
	if err != nil {
		return nil, fmt.Errorf("p2p: digests from %s: %w", p, err)
	}
	if got := tree.Root(); got != root {
		h.penalize(p, penaltyLie, "digests do not rebuild the root")
		return nil, fmt.Errorf("%w: %d digests from %s give %s, want %s", ErrRootMismatch, n, p, got, root)
	}
	return ds, nil
}

// GetStatusList fetches from member peer p the status list credential
// published at url whose hash is hash, and returns it only if SHA-256 of
// its JCS (RFC 8785) form is hash; otherwise the error wraps
// ErrHashMismatch and p is dropped.
func (h *Host) GetStatusList(ctx context.Context, p peer.ID, url string, hash merkle.Hash) ([]byte, error) {
	if url == "" || len(url) > MaxURLLength {
		return nil, fmt.Errorf("%w: status list URL of %d bytes", ErrConfig, len(url))
	}
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	req := append(append([]byte{syncStatusList}, hash[:]...), url...)
	s, err := h.syncRequest(ctx, p, req)
	if err != nil {
		return nil, err
	}
	b, err := readStatusList(s.r)
	if err != nil {
		s.close(true)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("p2p: status list from %s: %w", p, ctx.Err())
		}
		h.badFrame(p, err)
		return nil, fmt.Errorf("p2p: status list from %s: %w", p, err)
	}
	s.close(false)
	if got, err := StatusListHash(b); err != nil || got != hash {
		h.penalize(p, penaltyLie, "status list hash mismatch")
		return nil, fmt.Errorf("%w: from %s: got %s, want %s (%v)", ErrHashMismatch, p, got, hash, err)
	}
	return b, nil
}

// StatusListHash returns the hash a status list credential is anchored
// under: SHA-256 of its JCS (RFC 8785) form, as for any JSON credential.
func StatusListHash(credential []byte) (merkle.Hash, error) {
	canon, err := jcs.Transform(credential)
	if err != nil {
		return merkle.Hash{}, fmt.Errorf("%w: status list is not JSON: %w", ErrMalformed, err)
	}
	return sha256.Sum256(canon), nil
}

// readDigests reads a digests response body: a count, then that many
// digests, read in chunks of digestChunk so that memory grows only as
// bytes arrive.
func readDigests(r *bufio.Reader) ([]merkle.Hash, error) {
	n, err := readUvarint(r)
	if err != nil {
		return nil, truncated("digest count", err)
	}
	if n == 0 || n > MaxDigests {
		return nil, fmt.Errorf("%w: %d digests, want 1 to %d", ErrTooLarge, n, MaxDigests)
	}
	ds := make([]merkle.Hash, 0, min(n, digestChunk))
	for uint64(len(ds)) < n {
		k := int(min(n-uint64(len(ds)), digestChunk))
		ds = append(ds, make([]merkle.Hash, k)...)
		if _, err := io.ReadFull(r, hashBytes(ds[len(ds)-k:])); err != nil {
			return nil, truncated("digests", err)
		}
	}
	return ds, nil
}

// readStatusList reads a status list response body: a length, then the
// credential's bytes.
func readStatusList(r *bufio.Reader) ([]byte, error) {
	n, err := readUvarint(r)
	if err != nil {
		return nil, truncated("status list length", err)
	}
	if n == 0 || n > MaxStatusListSize {
		return nil, fmt.Errorf("%w: status list of %d bytes, want 1 to %d", ErrTooLarge, n, MaxStatusListSize)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, truncated("status list", err)
	}
	return b, nil
}

// truncated reports a read that failed: a response cut short by the peer
// is malformed; any other failure (reset, deadline) is the network's.
func truncated(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s cut short", ErrMalformed, what)
	}
	return fmt.Errorf("p2p: reading %s: %w", what, err)
}
