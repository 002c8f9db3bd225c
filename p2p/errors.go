package p2p

import "errors"

// Sentinel errors, refined with %w; test for them with errors.Is.
var (
	// ErrConfig reports an unusable Config.
	ErrConfig = errors.New("p2p: invalid config")
	// ErrIdentity reports a libp2p identity key file that cannot be used,
	// among them one readable by group or others.
	ErrIdentity = errors.New("p2p: unusable identity key")
	// ErrMalformed reports bytes from a peer that do not decode.
	ErrMalformed = errors.New("p2p: malformed message")
	// ErrTooLarge reports a message from a peer above its size bound.
	ErrTooLarge = errors.New("p2p: message too large")
	// ErrBadRecord reports a member record that is well formed but does not
	// bind the peer to this consortium: wrong signature, peer ID, chain or
	// registry.
	ErrBadRecord = errors.New("p2p: invalid member record")
	// ErrNotMember reports a peer that is not (or not yet known to be) a
	// node of a consortium member.
	ErrNotMember = errors.New("p2p: peer is not a consortium member")
	// ErrNotFound reports that a peer (or a local Provider) does not have
	// what was asked for.
	ErrNotFound = errors.New("p2p: not found")
	// ErrRootMismatch reports digests from a peer that do not rebuild the
	// requested root.
	ErrRootMismatch = errors.New("p2p: digests do not rebuild the root")
	// ErrHashMismatch reports a status list credential from a peer whose
	// hash is not the requested one.
	ErrHashMismatch = errors.New("p2p: status list hash mismatch")
	// ErrRateLimited reports a query refused by the peer's rate limit.
	ErrRateLimited = errors.New("p2p: rate limited")
	// ErrRemote reports a request the peer could not answer (it has no
	// Provider or Querier, or it failed).
	ErrRemote = errors.New("p2p: peer could not answer")
	// ErrIgnore, wrapped by a Validator's error, drops an announcement
	// without counting it against the sender: use it when the chain cannot
	// tell yet (RPC down, block not seen), not when it says no.
	ErrIgnore = errors.New("p2p: announcement ignored")
	// ErrClosed reports a call on a closed Host.
	ErrClosed = errors.New("p2p: host closed")
)
