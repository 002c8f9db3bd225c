package p2p

import (
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// recordDomain separates member record signatures from every other thing
// a node key signs (transactions, other protocols).
const recordDomain = "credanchor/p2p/member-record/v1\x00"

const (
	recordVersion = 1
	// MaxRecordSize bounds an encoded MemberRecord.
	MaxRecordSize = 1 + 8 + 20 + 20 + 8 + 1 + maxPeerIDLen + crypto.SignatureLength
	maxPeerIDLen  = 64
	// maxRecordSkew is how far in the future a record's IssuedAt may be:
	// clocks of consortium nodes differ, but not by much.
	maxRecordSkew = 10 * time.Minute
)

// MemberRecord binds a libp2p peer ID to an Ethereum node key of a
// consortium (chain id + registry). It is signed by the node key, so it
// proves that whoever holds the key runs the peer; whether the key belongs
// to a member is asked of the registry (Config.Membership) each time.
//
// Encoding (MaxRecordSize bytes at most): version (1) | chain id (uint64,
// big endian) | registry (20) | node key address (20) | issued at (unix
// seconds, int64) | peer ID length (1) | peer ID | signature (65, [R||S||V]
// with V in {0,1}). The signature is over
// keccak256(recordDomain || everything before the signature).
type MemberRecord struct {
	PeerID    peer.ID
	ChainID   uint64
	Registry  common.Address
	NodeKey   common.Address
	IssuedAt  time.Time // second precision
	Signature []byte
}

// NewMemberRecord signs a record binding id to key's address.
func NewMemberRecord(id peer.ID, chainID uint64, registry common.Address, key *ecdsa.PrivateKey, issuedAt time.Time) (*MemberRecord, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no node key", ErrConfig)
	}
	if len(id) == 0 || len(id) > maxPeerIDLen {
		return nil, fmt.Errorf("%w: peer ID of %d bytes", ErrConfig, len(id))
	}
	r := &MemberRecord{
		PeerID:   id,
		ChainID:  chainID,
		Registry: registry,
		NodeKey:  crypto.PubkeyToAddress(key.PublicKey),
		IssuedAt: time.Unix(issuedAt.Unix(), 0).UTC(),
	}
	sig, err := crypto.Sign(r.signingHash(r.body()), key)
	if err != nil {
		return nil, fmt.Errorf("p2p: sign member record: %w", err)
	}
	r.Signature = sig
	return r, nil
}

func (r *MemberRecord) body() []byte {
	b := make([]byte, 0, MaxRecordSize)
	b = append(b, recordVersion)
	b = binary.BigEndian.AppendUint64(b, r.ChainID)
	b = append(b, r.Registry[:]...)
	b = append(b, r.NodeKey[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.IssuedAt.Unix()))
	b = append(b, byte(len(r.PeerID)))
	return append(b, r.PeerID...)
}

func (r *MemberRecord) signingHash(body []byte) []byte {
	return crypto.Keccak256([]byte(recordDomain), body)
}

// Marshal encodes the record.
func (r *MemberRecord) Marshal() []byte {
	return append(r.body(), r.Signature...)
}

// ParseMemberRecord decodes a record and checks that its signature
// recovers its NodeKey. It does not check the peer, the consortium or
// membership: see Host for those.
func ParseMemberRecord(b []byte) (*MemberRecord, error) {
	const fixed = 1 + 8 + 20 + 20 + 8 + 1
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("%w: member record of %d bytes, limit %d", ErrTooLarge, len(b), MaxRecordSize)
	}
	if len(b) < fixed+crypto.SignatureLength {
		return nil, fmt.Errorf("%w: member record of %d bytes", ErrMalformed, len(b))
	}
	if b[0] != recordVersion {
		return nil, fmt.Errorf("%w: member record version %d, want %d", ErrMalformed, b[0], recordVersion)
	}
	r := &MemberRecord{ChainID: binary.BigEndian.Uint64(b[1:9])}
	copy(r.Registry[:], b[9:29])
	copy(r.NodeKey[:], b[29:49])
	secs := int64(binary.BigEndian.Uint64(b[49:57]))
	n := int(b[57])
	if n == 0 || n > maxPeerIDLen {
		return nil, fmt.Errorf("%w: peer ID of %d bytes", ErrMalformed, n)
	}
	if got, want := len(b), fixed+n+crypto.SignatureLength; got != want {
		return nil, fmt.Errorf("%w: member record of %d bytes, want %d", ErrMalformed, got, want)
	}
	id, err := peer.IDFromBytes(b[fixed : fixed+n])
	if err != nil {
		return nil, fmt.Errorf("%w: peer ID: %w", ErrMalformed, err)
	}
	r.PeerID = id
	r.IssuedAt = time.Unix(secs, 0).UTC()
	r.Signature = append([]byte(nil), b[fixed+n:]...)

	sig := r.Signature
	v := sig[64]
	if !crypto.ValidateSignatureValues(v, new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64]), true) {
		return nil, fmt.Errorf("%w: signature values out of range", ErrBadRecord)
	}
	pub, err := crypto.SigToPub(r.signingHash(b[:fixed+n]), sig)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	if got := crypto.PubkeyToAddress(*pub); got != r.NodeKey {
		return nil, fmt.Errorf("%w: signed by %s, claims %s", ErrBadRecord, got, r.NodeKey)
	}
	return r, nil
}
