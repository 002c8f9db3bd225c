package p2p

import (
	"math"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Penalties a peer earns outside GossipSub, added to its GossipSub score
// (as the application-specific score) and decaying with penaltyHalfLife.
// A peer whose penalty reaches disconnectPenalty, or whose GossipSub score
// falls to graylistThreshold, is disconnected and refused for
// Config.BanDuration.
const (
	penaltyBadRecord    = 100 // not a member, or a record that lies
	penaltyLie          = 50  // digests or a status list that do not match
	penaltyOversized    = 10  // a frame above the protocol's bound
	penaltyMalformed    = 5   // a frame that does not decode
	disconnectPenalty   = 40
	penaltyHalfLife     = 10 * time.Minute
	gossipThreshold     = -10
	publishThreshold    = -20
	graylistThreshold   = -40
	invalidMessageScore = -5 // times the square of the invalid message count
)

type penalty struct {
	value float64
	at    time.Time
}

// scorer keeps per-peer penalties and bans, and is the host's connection
// gater: a banned peer can neither dial in nor be dialled.
type scorer struct {
	banFor time.Duration

	mu        sync.Mutex
	penalties map[peer.ID]penalty
	banned    map[peer.ID]time.Time
}

func newScorer(banFor time.Duration) *scorer {
	return &scorer{banFor: banFor, penalties: make(map[peer.ID]penalty), banned: make(map[peer.ID]time.Time)}
}

func decayed(p penalty, now time.Time) float64 {
	return p.value * math.Exp2(-now.Sub(p.at).Seconds()/penaltyHalfLife.Seconds())
}

// add adds v to p's penalty and reports whether p is now to be dropped.
func (s *scorer) add(p peer.ID, v float64) bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	total := decayed(s.penalties[p], now) + v
	s.penalties[p] = penalty{value: total, at: now}
	return total >= disconnectPenalty
}

// appScore is GossipSub's application-specific score: minus the penalty.
func (s *scorer) appScore(p peer.ID) float64 {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	pen, ok := s.penalties[p]
	if !ok {
		return 0
	}
	v := decayed(pen, now)
	if v < 0.01 {
		delete(s.penalties, p)
		return 0
	}
	return -v
}

func (s *scorer) ban(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.banned[p] = time.Now().Add(s.banFor)
}

func (s *scorer) isBanned(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.banned[p]
	if !ok {
		return false
	}
	if time.Now().After(until) {
		delete(s.banned, p)
		return false
	}
	return true
}

func (s *scorer) InterceptPeerDial(p peer.ID) bool { return !s.isBanned(p) }

func (s *scorer) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return !s.isBanned(p) }

func (s *scorer) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (s *scorer) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !s.isBanned(p)
}

func (s *scorer) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
