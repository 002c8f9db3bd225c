package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	msmux "github.com/multiformats/go-multistream"
)

// memberTag protects member nodes' connections from the connection
// manager's trimming.
const memberTag = "credanchor-member"

// MemberProtocol is the record exchange run on every new connection: the
// dialling side of a stream reads the other's MemberRecord as one frame.
// Both ends open such a stream, so each learns the other's record.
const MemberProtocol protocol.ID = "/credanchor/member/1.0.0"

// errGuest is the verification of a peer that runs no member protocol: a
// verifier's client, which may query and nothing else.
var errGuest = fmt.Errorf("%w: a guest (no member record)", ErrNotMember)

// peerState is what the host knows of a connected peer: its verification
// finishes once (done closed), with a member or an error (errGuest for a
// guest).
type peerState struct {
	done   chan struct{}
	peer   Peer
	err    error
	record []byte // the verified record, checked again by reverify
}

func (st *peerState) result() (Peer, bool) {
	select {
	case <-st.done:
		return st.peer, st.err == nil
	default:
		return Peer{}, false
	}
}

func (h *Host) onConnected(p peer.ID) { h.state(p) }

func (h *Host) onDisconnected(p peer.ID) {
	if h.host.Network().Connectedness(p) == network.Connected {
		return // another connection to p remains
	}
	h.mu.Lock()
	delete(h.peers, p)
	delete(h.limiters, p)
	delete(h.psScores, p)
	h.mu.Unlock()
	h.host.ConnManager().Unprotect(p, memberTag)
	h.queries.drop(p)
	h.mesh.set(p, false)
}

// state returns p's verification, starting it if there is none: a peer is
// verified again after every reconnection, since its key may have been
// revoked meanwhile.
func (h *Host) state(p peer.ID) *peerState {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st, ok := h.peers[p]; ok {
		return st
	}
	st := &peerState{done: make(chan struct{})}
	if h.closed {
		st.err = ErrClosed
		close(st.done)
		return st
	}
	h.peers[p] = st
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		st.peer, st.record, st.err = h.verify(p)
		close(st.done)
		// A guest's verdict is kept while it stays connected: each of its
		// query streams would otherwise ask for its record again.
		if st.err != nil && st.err != errGuest {
			h.mu.Lock()
			if h.peers[p] == st {
				delete(h.peers, p)
			}
			h.mu.Unlock()
		}
	}()
	return st
}

// member waits for p's verification and returns it as a Peer, or an error
// wrapping ErrNotMember.
func (h *Host) member(ctx context.Context, p peer.ID) (Peer, error) {
	if p == h.host.ID() {
		return Peer{}, fmt.Errorf("%w: %s is this host", ErrNotMember, p)
	}
	st := h.state(p)
	select {
	case <-st.done:
	case <-ctx.Done():
		return Peer{}, ctx.Err()
	case <-h.ctx.Done():
		return Peer{}, ErrClosed
	}
	if st.err != nil {
		return Peer{}, fmt.Errorf("%w: %s: %w", ErrNotMember, p, st.err)
	}
	return st.peer, nil
}

// isMember reports, without waiting, whether p is a verified member node.
func (h *Host) isMember(p peer.ID) bool {
	h.mu.Lock()
	st, ok := h.peers[p]
	h.mu.Unlock()
	if !ok {
		return false
	}
	_, ok = st.result()
	return ok
}

// verify fetches p's record and checks it. A peer that is not a member,
// or whose record lies, is penalised and dropped; one that merely failed
// to answer (or when Membership failed) is disconnected without penalty.
// A peer that runs no member protocol at all is a guest (errGuest), or is
// disconnected without penalty if guests are refused.
func (h *Host) verify(p peer.ID) (Peer, []byte, error) {
	ctx, cancel := context.WithTimeout(h.ctx, handshakeTimeout)
	defer cancel()
	raw, err := h.fetchRecord(ctx, p)
	if errors.Is(err, msmux.ErrNotSupported[protocol.ID]{}) && h.record != nil {
		if h.cfg.GuestQueryRate > 0 {
			return Peer{}, nil, errGuest
		}
		h.log.DebugContext(ctx, "p2p guest refused", slog.String("peer", p.String()))
		_ = h.host.Network().ClosePeer(p)
		return Peer{}, nil, err
	}
	if err != nil {
		if h.ctx.Err() == nil {
			h.log.DebugContext(ctx, "p2p member record exchange failed", slog.String("peer", p.String()), slog.Any("error", err))
			if errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) {
				h.penalize(p, penaltyBadRecord, "malformed member record")
			} else {
				_ = h.host.Network().ClosePeer(p)
			}
		}
		return Peer{}, nil, err
	}
	m, err := h.checkRecord(ctx, p, raw)
	switch {
	case err == nil:
		h.log.DebugContext(ctx, "p2p member verified", slog.String("peer", p.String()), slog.String("member", m.Member.Hex()))
		h.host.ConnManager().Protect(p, memberTag)
		return m, raw, nil
	case errors.Is(err, ErrNotMember), errors.Is(err, ErrBadRecord), errors.Is(err, ErrMalformed), errors.Is(err, ErrTooLarge):
		h.score.add(p, penaltyBadRecord)
		h.drop(p, err.Error())
	default:
		if h.ctx.Err() == nil {
			h.log.WarnContext(ctx, "p2p member check failed", slog.String("peer", p.String()), slog.Any("error", err))
			_ = h.host.Network().ClosePeer(p)
		}
	}
	return Peer{}, nil, err
}

// reverifyLoop asks Membership again, every interval, about each connected
// member peer: a node key revoked in the registry loses its connections
// within an interval, not only at its next reconnection.
func (h *Host) reverifyLoop(interval time.Duration) {
	defer h.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		recs := make(map[peer.ID][]byte, len(h.peers))
		for p, st := range h.peers {
			if _, ok := st.result(); ok {
				recs[p] = st.record
			}
		}
		h.mu.Unlock()
		for p, raw := range recs {
			ctx, cancel := context.WithTimeout(h.ctx, handshakeTimeout)
			_, err := h.checkRecord(ctx, p, raw)
			cancel()
			if errors.Is(err, ErrNotMember) {
				h.mu.Lock()
				delete(h.peers, p)
				h.mu.Unlock()
				h.drop(p, err.Error())
			}
		}
	}
}

func (h *Host) fetchRecord(ctx context.Context, p peer.ID) ([]byte, error) {
	s, err := h.host.NewStream(ctx, p, MemberProtocol)
	if err != nil {
		return nil, fmt.Errorf("p2p: open member stream: %w", err)
	}
	defer s.Close()
	deadline, _ := ctx.Deadline()
	_ = s.SetDeadline(deadline)
	_ = s.CloseWrite()
	raw, err := readFrame(bufio.NewReaderSize(s, MaxRecordSize+16), nil, MaxRecordSize)
	if err != nil {
		s.Reset()
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: no member record", ErrMalformed)
		}
		return nil, err
	}
	return raw, nil
}

// checkRecord verifies that raw is a record, signed by a member's active
// node key, binding p to this consortium.
func (h *Host) checkRecord(ctx context.Context, p peer.ID, raw []byte) (Peer, error) {
	rec, err := ParseMemberRecord(raw)
	if err != nil {
		return Peer{}, err
	}
	switch {
	case rec.PeerID != p:
		return Peer{}, fmt.Errorf("%w: record for peer %s", ErrBadRecord, rec.PeerID)
	case rec.ChainID != h.cfg.ChainID:
		return Peer{}, fmt.Errorf("%w: chain id %d, want %d", ErrBadRecord, rec.ChainID, h.cfg.ChainID)
	case rec.Registry != h.cfg.Registry:
		return Peer{}, fmt.Errorf("%w: registry %s, want %s", ErrBadRecord, rec.Registry, h.cfg.Registry)
	case rec.IssuedAt.After(time.Now().Add(maxRecordSkew)):
		return Peer{}, fmt.Errorf("%w: issued in the future (%s)", ErrBadRecord, rec.IssuedAt)
	}
	member, ok, err := h.cfg.Membership.MemberOf(ctx, rec.NodeKey)
	if err != nil {
		return Peer{}, fmt.Errorf("p2p: membership of %s: %w", rec.NodeKey, err)
	}
	if !ok {
		return Peer{}, fmt.Errorf("%w: node key %s", ErrNotMember, rec.NodeKey)
	}
	return Peer{ID: p, Member: member, NodeKey: rec.NodeKey}, nil
}

// handleMember answers a record request with this node's record. It is
// answered to anyone: the record is what lets the peer decide.
func (h *Host) handleMember(s network.Stream) {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(handshakeTimeout))
	w := bufio.NewWriterSize(s, MaxRecordSize+16)
	if err := writeFrame(w, h.record); err != nil {
		s.Reset()
		return
	}
	if err := w.Flush(); err != nil {
		s.Reset()
	}
}

// authorCache remembers recently verified announcement authors, so that a
// burst of announcements costs one Membership call per author.
type authorCache struct {
	mu      sync.Mutex
	entries map[peer.ID]authorEntry
}

type authorEntry struct {
	record string
	peer   Peer
	at     time.Time
}

const (
	authorTTL       = time.Minute
	maxAuthorsCache = 1024
)

func (c *authorCache) init() { c.entries = make(map[peer.ID]authorEntry) }

func (c *authorCache) get(p peer.ID, record []byte) (Peer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[p]
	if !ok || e.record != string(record) || time.Since(e.at) > authorTTL {
		return Peer{}, false
	}
	return e.peer, true
}

func (c *authorCache) put(p Peer, record []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxAuthorsCache {
		clear(c.entries)
	}
	c.entries[p.ID] = authorEntry{record: string(record), peer: p, at: time.Now()}
}
