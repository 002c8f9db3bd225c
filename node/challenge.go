package node

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Errors of Challenges.Use, as the challenge check reports them.
var (
	// ErrChallengeUnknown: the challenge was not issued by this node (or by
	// an earlier run of it: challenges do not outlive a restart).
	ErrChallengeUnknown = errors.New("node: challenge was not issued by this node")
	// ErrChallengeExpired: the challenge is older than its lifetime.
	ErrChallengeExpired = errors.New("node: challenge expired")
	// ErrChallengeUsed: the challenge was already used by a presentation;
	// a replay.
	ErrChallengeUsed = errors.New("node: challenge already used")
	// ErrChallengeBusy: so many challenges are in use that no more are
	// tracked until some expire.
	ErrChallengeBusy = errors.New("node: too many challenges in use; try again later")
)

// Challenge lifetimes and bounds.
const (
	// DefaultChallengeTTL is how long a challenge may be used.
	DefaultChallengeTTL = 10 * time.Minute
	// maxUsedChallenges bounds the replay set (about 100 bytes each), so
	// that a flood of presentations cannot grow memory without limit.
	maxUsedChallenges = 1 << 20
)

// challengeLen is the decoded size of a challenge: expiry (8 bytes), nonce
// (16) and a truncated HMAC-SHA256 over both (16).
const challengeLen = 8 + 16 + 16

// Challenges issues single-use presentation challenges and refuses
// replays. Issuing is stateless, a MAC over an expiry and a nonce with a key
// of this run, so that the unauthenticated POST /challenges writes nothing;
// only a challenge a verified presentation used is remembered, until it
// expires. A restart makes a new key, which voids every outstanding
// challenge: a verifier asks for a new one, and no replay can slip through
// a forgotten replay set.
type Challenges struct {
	key [32]byte
	ttl time.Duration

	mu   sync.Mutex
	used map[string]time.Time // challenge → expiry
}

// NewChallenges returns a challenge issuer whose challenges live for ttl
// (DefaultChallengeTTL if zero).
func NewChallenges(ttl time.Duration) (*Challenges, error) {
	if ttl <= 0 {
		ttl = DefaultChallengeTTL
	}
	c := &Challenges{ttl: ttl, used: make(map[string]time.Time)}
	if _, err := rand.Read(c.key[:]); err != nil {
		return nil, fmt.Errorf("node: challenge key: %w", err)
	}
	return c, nil
}

// New returns a fresh challenge and when it expires.
func (c *Challenges) New(now time.Time) (string, time.Time, error) {
	var b [challengeLen]byte
	exp := now.Add(c.ttl).Truncate(time.Second)
	binary.BigEndian.PutUint64(b[:8], uint64(exp.Unix()))
	if _, err := rand.Read(b[8:24]); err != nil {
		return "", time.Time{}, fmt.Errorf("node: challenge nonce: %w", err)
	}
	copy(b[24:], c.mac(b[:24]))
	return base64.RawURLEncoding.EncodeToString(b[:]), exp, nil
}

func (c *Challenges) mac(msg []byte) []byte {
	h := hmac.New(sha256.New, c.key[:])
	h.Write(msg)
	return h.Sum(nil)[:16]
}

// Use accepts a challenge this node issued, once, before it expires.
func (c *Challenges) Use(challenge string, now time.Time) error {
	exp, err := c.parse(challenge)
	if err != nil {
		return err
	}
	if !now.Before(exp) {
		return fmt.Errorf("%w at %s", ErrChallengeExpired, exp.UTC().Format(time.RFC3339))
	}
	return c.remember(challenge, exp, now)
}

// remember marks a challenge used until exp, refusing one already used.
func (c *Challenges) remember(challenge string, exp, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.used[challenge]; ok {
		return ErrChallengeUsed
	}
	if len(c.used) >= maxUsedChallenges {
		for k, e := range c.used {
			if !now.Before(e) {
				delete(c.used, k)
			}
		}
		if len(c.used) >= maxUsedChallenges {
			return ErrChallengeBusy
		}
	}
	c.used[challenge] = exp
	return nil
}

// UseVerifiers accepts, once, a challenge a verifier chose itself rather
// than asked this node for: one of the node's own is checked as by Use, any
// other is remembered for the node's challenge lifetime so that a replay
// within it is refused.
func (c *Challenges) UseVerifiers(challenge string, now time.Time) error {
	if _, err := c.parse(challenge); err == nil {
		return c.Use(challenge, now)
	}
	return c.remember(challenge, now.Add(c.ttl), now)
}

// parse checks a challenge's MAC and returns its expiry.
func (c *Challenges) parse(challenge string) (time.Time, error) {
	if base64.RawURLEncoding.DecodedLen(len(challenge)) != challengeLen {
		return time.Time{}, ErrChallengeUnknown
	}
	b, err := base64.RawURLEncoding.DecodeString(challenge)
	if err != nil || len(b) != challengeLen || !hmac.Equal(b[24:], c.mac(b[:24])) {
		return time.Time{}, ErrChallengeUnknown
	}
	return time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0), nil
}
