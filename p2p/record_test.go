package p2p

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func testPeerID(t testing.TB) peer.ID {
	t.Helper()
	_, pub, err := lcrypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestMemberRecordRoundTrip(t *testing.T) {
	key, _ := crypto.GenerateKey()
	id := testPeerID(t)
	at := time.Unix(1_790_000_000, 0)
	rec, err := NewMemberRecord(id, testChainID, testRegistry, key, at)
	if err != nil {
		t.Fatal(err)
	}
	raw := rec.Marshal()
	if len(raw) > MaxRecordSize {
		t.Fatalf("record of %d bytes, limit %d", len(raw), MaxRecordSize)
	}
	got, err := ParseMemberRecord(raw)
	if err != nil {
		t.Fatalf("ParseMemberRecord: %v", err)
	}
	if got.PeerID != id || got.ChainID != testChainID || got.Registry != testRegistry ||
		got.NodeKey != crypto.PubkeyToAddress(key.PublicKey) || !got.IssuedAt.Equal(at) {
		t.Errorf("got %+v", got)
	}
	if !bytes.Equal(got.Marshal(), raw) {
		t.Error("Marshal(Parse(raw)) != raw")
	}
}

func TestMemberRecordCorruption(t *testing.T) {
	key, _ := crypto.GenerateKey()
	rec, err := NewMemberRecord(testPeerID(t), testChainID, testRegistry, key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw := rec.Marshal()
	// Every single flipped bit of the record is refused: the body is
	// signed, and the signature recovers another key (or none).
	for i := range raw {
		for bit := range 8 {
			bad := bytes.Clone(raw)
			bad[i] ^= 1 << bit
			if got, err := ParseMemberRecord(bad); err == nil {
				t.Fatalf("flipped bit %d of byte %d accepted: %+v", bit, i, got)
			} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadRecord) {
				t.Fatalf("byte %d: error %v", i, err)
			}
		}
	}
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"empty", nil},
		{"truncated", raw[:len(raw)-1]},
		{"extended", append(bytes.Clone(raw), 0)},
		{"oversized", make([]byte, MaxRecordSize+1)},
	} {
		if _, err := ParseMemberRecord(tc.raw); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
