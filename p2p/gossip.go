package p2p

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/credanchor/credanchor/anchor/merkle"
)

// Bounds on announcements.
const (
	// MaxAnnouncementSize bounds an encoded announcement (a GossipSub
	// message's data); larger ones are rejected and scored.
	MaxAnnouncementSize = 4 << 10
	// MaxURLLength bounds a status list URL.
	MaxURLLength = 2048
	// MaxDigests bounds a batch: its size in an announcement and the
	// digests a sync response may carry.
	MaxDigests = 1 << 24

	announcementVersion = 1
	validateTimeout     = 10 * time.Second
)

// BatchAnnouncement announces a batch anchored by Member: Size digests
// under Root, anchored by transaction TxHash in block Block.
type BatchAnnouncement struct {
	Root   merkle.Hash    `json:"root"`
	Size   uint64         `json:"size"`
	Member common.Address `json:"member"`
	TxHash common.Hash    `json:"txHash"`
	Block  uint64         `json:"block"`
}

// StatusListAnnouncement announces a new version of Member's status list
// credential published at URL, whose hash (SHA-256 of its JCS form) Hash
// is anchored on chain.
type StatusListAnnouncement struct {
	Member  common.Address `json:"member"`
	URL     string         `json:"url"`
	Hash    merkle.Hash    `json:"hash"`
	Version uint64         `json:"version"`
}

// envelope is an announcement on the wire: JSON, with the author's
// MemberRecord so that any receiver can tell the author's member without
// being connected to it. Exactly one of Batch and StatusList is set.
type envelope struct {
	V          int                     `json:"v"`
	Record     []byte                  `json:"record"`
	Batch      *BatchAnnouncement      `json:"batch,omitempty"`
	StatusList *StatusListAnnouncement `json:"statusList,omitempty"`
}

// decodeEnvelope decodes and checks the form of an announcement, not its
// record's membership nor its content against the chain.
func decodeEnvelope(data []byte) (*envelope, *MemberRecord, error) {
	if len(data) > MaxAnnouncementSize {
		return nil, nil, fmt.Errorf("%w: announcement of %d bytes, limit %d", ErrTooLarge, len(data), MaxAnnouncementSize)
	}
	var e envelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, nil, fmt.Errorf("%w: announcement: %w", ErrMalformed, err)
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("%w: announcement: trailing data", ErrMalformed)
	}
	if e.V != announcementVersion {
		return nil, nil, fmt.Errorf("%w: announcement version %d, want %d", ErrMalformed, e.V, announcementVersion)
	}
	switch {
	case (e.Batch == nil) == (e.StatusList == nil):
		return nil, nil, fmt.Errorf("%w: announcement must hold exactly one of batch and statusList", ErrMalformed)
	case e.Batch != nil && (e.Batch.Size == 0 || e.Batch.Size > MaxDigests):
		return nil, nil, fmt.Errorf("%w: batch size %d, want 1 to %d", ErrMalformed, e.Batch.Size, MaxDigests)
	case e.StatusList != nil && (e.StatusList.URL == "" || len(e.StatusList.URL) > MaxURLLength):
		return nil, nil, fmt.Errorf("%w: status list URL of %d bytes, want 1 to %d", ErrMalformed, len(e.StatusList.URL), MaxURLLength)
	}
	rec, err := ParseMemberRecord(e.Record)
	if err != nil {
		return nil, nil, err
	}
	return &e, rec, nil
}

// accepted is what the validator leaves on a message for the read loop.
type accepted struct {
	from Peer
	env  *envelope
}

// Topic returns the GossipSub topic of the consortium of chainID and
// registry.
func Topic(chainID uint64, registry common.Address) string {
	return fmt.Sprintf("/credanchor/%d/%s/announce/1", chainID, strings.ToLower(registry.Hex()))
}

func (h *Host) startGossip() error {
	topic := Topic(h.cfg.ChainID, h.cfg.Registry)
	params := &pubsub.PeerScoreParams{
		SkipAtomicValidation: true,
		Topics: map[string]*pubsub.TopicScoreParams{
			topic: {
				SkipAtomicValidation: true,
				TopicWeight:          1,
				// Unused (weight 0), but GossipSub divides by it.
				TimeInMeshQuantum:              time.Second,
				InvalidMessageDeliveriesWeight: invalidMessageScore,
				InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(penaltyHalfLife),
			},
		},
		AppSpecificScore:  h.score.appScore,
		AppSpecificWeight: 1,
		// All consortium nodes may share an address (and all test nodes
		// do): no IP colocation penalty.
		IPColocationFactorWeight: 0,
		BehaviourPenaltyWeight:   -1,
		BehaviourPenaltyDecay:    pubsub.ScoreParameterDecay(penaltyHalfLife),
		DecayInterval:            time.Second,
		DecayToZero:              0.01,
		RetainScore:              penaltyHalfLife,
	}
	thresholds := &pubsub.PeerScoreThresholds{
		GossipThreshold:   gossipThreshold,
		PublishThreshold:  publishThreshold,
		GraylistThreshold: graylistThreshold,
	}
	ps, err := pubsub.NewGossipSub(h.ctx, h.host,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithPeerScore(params, thresholds),
		pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(h.inspectScores), time.Second),
		pubsub.WithPeerFilter(func(p peer.ID, _ string) bool { return h.isMember(p) }),
		pubsub.WithPeerExchange(false),
		// A consortium is small: an announcement goes straight to every
		// subscribed member, not only the mesh, so it does not wait for one.
		pubsub.WithFloodPublish(true),
		pubsub.WithRawTracer(&h.mesh),
		pubsub.WithLogger(h.log.With(slog.String("component", "gossipsub"))),
	)
	if err != nil {
		return fmt.Errorf("p2p: start gossipsub: %w", err)
	}
	h.ps = ps
	if err := ps.RegisterTopicValidator(topic, h.validate, pubsub.WithValidatorTimeout(validateTimeout)); err != nil {
		return fmt.Errorf("p2p: register validator: %w", err)
	}
	h.topic, err = ps.Join(topic)
	if err != nil {
		return fmt.Errorf("p2p: join %s: %w", topic, err)
	}
	h.sub, err = h.topic.Subscribe()
	if err != nil {
		return fmt.Errorf("p2p: subscribe %s: %w", topic, err)
	}
	h.wg.Add(1)
	go h.readLoop()
	return nil
}

// inspectScores keeps the latest GossipSub scores and drops every peer
// at or below the graylist threshold: GossipSub alone would only ignore it.
func (h *Host) inspectScores(scores map[peer.ID]float64) {
	h.mu.Lock()
	clear(h.psScores)
	var drop []peer.ID
	for p, s := range scores {
		h.psScores[p] = s
		if s <= graylistThreshold {
			drop = append(drop, p)
		}
	}
	h.mu.Unlock()
	for _, p := range drop {
		h.drop(p, fmt.Sprintf("gossip score %.1f", scores[p]))
	}
}

// validate is the topic validator: the message must come through a
// member, be well formed, be authored by a member node, and pass the
// node's Validator.
func (h *Host) validate(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	self := from == h.host.ID()
	if !self && !h.isMember(from) {
		// Not verified yet (or never): dropped without penalty, and a
		// non-member is disconnected by its verification anyway.
		return pubsub.ValidationIgnore
	}
	env, rec, err := decodeEnvelope(msg.Data)
	if err != nil {
		h.log.DebugContext(ctx, "p2p announcement rejected", slog.String("peer", from.String()), slog.Any("error", err))
		return pubsub.ValidationReject
	}
	author := msg.GetFrom()
	if rec.PeerID != author {
		return pubsub.ValidationReject
	}
	if self {
		msg.ValidatorData = &accepted{env: env, from: Peer{ID: author}}
		return pubsub.ValidationAccept
	}
	ap, ok := h.authors.get(author, env.Record)
	if !ok {
		ap, err = h.checkRecord(ctx, author, env.Record)
		switch {
		case errors.Is(err, ErrNotMember), errors.Is(err, ErrBadRecord):
			return pubsub.ValidationReject
		case err != nil:
			return pubsub.ValidationIgnore
		}
		h.authors.put(ap, env.Record)
	}
	if env.Batch != nil {
		err = h.cfg.Validator.ValidateBatch(ctx, ap, env.Batch)
	} else {
		err = h.cfg.Validator.ValidateStatusList(ctx, ap, env.StatusList)
	}
	switch {
	case err == nil:
		msg.ValidatorData = &accepted{env: env, from: ap}
		return pubsub.ValidationAccept
	case errors.Is(err, ErrIgnore):
		return pubsub.ValidationIgnore
	default:
		h.log.InfoContext(ctx, "p2p announcement rejected", slog.String("peer", from.String()), slog.String("author", author.String()), slog.Any("error", err))
		return pubsub.ValidationReject
	}
}

// readLoop delivers accepted announcements from others to the Handler
// until the host closes.
func (h *Host) readLoop() {
	defer h.wg.Done()
	for {
		msg, err := h.sub.Next(h.ctx)
		if err != nil {
			return // closed
		}
		if msg.ReceivedFrom == h.host.ID() || h.cfg.Handler == nil {
			continue
		}
		a, ok := msg.ValidatorData.(*accepted)
		if !ok {
			continue
		}
		if a.env.Batch != nil {
			h.cfg.Handler.OnBatch(h.ctx, a.from, a.env.Batch)
		} else {
			h.cfg.Handler.OnStatusList(h.ctx, a.from, a.env.StatusList)
		}
	}
}

// PublishBatch announces a batch this node anchored.
func (h *Host) PublishBatch(ctx context.Context, a *BatchAnnouncement) error {
	return h.publish(ctx, &envelope{Batch: a})
}

// PublishStatusList announces a new status list version this node
// anchored.
func (h *Host) PublishStatusList(ctx context.Context, a *StatusListAnnouncement) error {
	return h.publish(ctx, &envelope{StatusList: a})
}

func (h *Host) publish(ctx context.Context, e *envelope) error {
	if h.topic == nil {
		return fmt.Errorf("%w: a guest host (no node key) announces nothing", ErrConfig)
	}
	e.V = announcementVersion
	e.Record = h.record
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("p2p: encode announcement: %w", err)
	}
	if _, _, err := decodeEnvelope(data); err != nil {
		return fmt.Errorf("p2p: announcement not sendable: %w", err)
	}
	if err := h.topic.Publish(ctx, data); err != nil {
		return fmt.Errorf("p2p: publish: %w", err)
	}
	return nil
}

// topicPeers returns the peers known to subscribe to the topic (tests wait
// on it before publishing).
func (h *Host) topicPeers() []peer.ID { return h.topic.ListPeers() }

// meshTracker follows which peers are in this host's GossipSub mesh, for
// MeshPeers.
type meshTracker struct {
	mu   sync.Mutex
	mesh map[peer.ID]bool
}

// MeshPeers returns the peers in this host's mesh for the consortium
// topic: those it forwards announcements to.
func (h *Host) MeshPeers() []peer.ID {
	h.mesh.mu.Lock()
	defer h.mesh.mu.Unlock()
	out := make([]peer.ID, 0, len(h.mesh.mesh))
	for p := range h.mesh.mesh {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func (m *meshTracker) set(p peer.ID, in bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mesh == nil {
		m.mesh = make(map[peer.ID]bool)
	}
	if in {
		m.mesh[p] = true
	} else {
		delete(m.mesh, p)
	}
}

func (m *meshTracker) Graft(p peer.ID, _ string)                            { m.set(p, true) }
func (m *meshTracker) Prune(p peer.ID, _ string)                            { m.set(p, false) }
func (m *meshTracker) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (m *meshTracker) OnClosedOutboundStream(peer.ID)                       {}
func (m *meshTracker) Join(string)                                          {}
func (m *meshTracker) Leave(string)                                         {}
func (m *meshTracker) ValidateMessage(*pubsub.Message)                      {}
func (m *meshTracker) DeliverMessage(*pubsub.Message)                       {}
func (m *meshTracker) RejectMessage(*pubsub.Message, string)                {}
func (m *meshTracker) DuplicateMessage(*pubsub.Message)                     {}
func (m *meshTracker) ThrottlePeer(peer.ID)                                 {}
func (m *meshTracker) RecvRPC(*pubsub.RPC)                                  {}
func (m *meshTracker) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (m *meshTracker) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (m *meshTracker) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (m *meshTracker) UndeliverableMessage(*pubsub.Message)                 {}
