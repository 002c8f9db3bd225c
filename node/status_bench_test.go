package node

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"strconv"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/node/statuslist"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
)

// benchList signs a 131,072-entry revocation list with one entry in a
// hundred set, as a node publishes it.
func benchList(b *testing.B, id *IssuerIdentity, url string) []byte {
	b.Helper()
	bits := make([]byte, statuslist.DefaultMinBits/8)
	for range statuslist.DefaultMinBits / 100 {
		var r [4]byte
		_, _ = rand.Read(r[:])
		i := binary.BigEndian.Uint32(r[:]) % statuslist.DefaultMinBits
		bits[i/8] |= 0x80 >> (i % 8)
	}
	n := &Node{cfg: Config{Issuer: id, PublicURL: url, StatusPublishInterval: DefaultStatusPublishInterval}}
	doc, err := n.statusListDocument(&store.StatusList{ID: "revocation-1", Purpose: PurposeRevocation}, bits, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	signed, err := dataintegrity.SignRDFC(doc, id.Key, dataintegrity.Options{VerificationMethod: id.VerificationMethod})
	if err != nil {
		b.Fatal(err)
	}
	return signed
}

// BenchmarkStatusCheck measures the status check of one entry of a
// consortium member's credential whose list is cached: the registry's
// anchor is read at most once a second (DefaultAnchorCacheTTL) from a real
// in-process chain, the list is verified once. Goal: >= 100,000/s on one
// core (-cpu 1).
func BenchmarkStatusCheck(b *testing.B) {
	ctx := context.Background()
	chain, err := testnet.New(ctx, testnet.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer chain.Close()
	c, err := testnet.DeployConsortium(ctx, chain)
	if err != nil {
		b.Fatal(err)
	}
	id, err := NewDIDKeyIssuer(testnet.ExampleIssuerKey, "Example University")
	if err != nil {
		b.Fatal(err)
	}
	const url = "http://127.0.0.1:8080/v1/status-lists/revocation-1"
	list := benchList(b, id, url)
	hash, err := credential.Digest(list, credential.FormJSON)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := anchor.AnchorStatusList(ctx, chain.Client(), c.Registry, c.NodeKey, StatusListID(url), hash); err != nil {
		b.Fatal(err)
	}
	member := crypto.PubkeyToAddress(c.MemberKey.PublicKey)
	sc, err := NewStatusChecker(StatusConfig{Local: func(context.Context, string) ([]byte, bool, error) { return list, true, nil }})
	if err != nil {
		b.Fatal(err)
	}
	keys := &DIDKeys{Resolver: did.KeyResolver{}}
	entry := statuslist.Entry{Type: statuslist.EntryType, StatusPurpose: PurposeRevocation, StatusListCredential: url}
	now := time.Now()
	i := 0
	for b.Loop() {
		entry.StatusListIndex = strconv.Itoa(i % statuslist.DefaultMinBits)
		i++
		r, err := sc.check(ctx, keys, chain.Client(), c.Registry, entry, id.DID, member, now)
		if err != nil || !r.Valid || r.Anchor != ListAnchored {
			b.Fatalf("check: %+v, %v", r, err)
		}
		if i%100000 == 0 {
			now = time.Now()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}

// BenchmarkSignStatusList measures making a new version of a full
// 131,072-entry list: encoding (GZIP, base64url) and signing with
// eddsa-rdfc-2022, and its hash. Anchoring is measured by
// BenchmarkPublishStatusList.
func BenchmarkSignStatusList(b *testing.B) {
	id, err := NewDIDKeyIssuer(testnet.ExampleIssuerKey, "Example University")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		list := benchList(b, id, "http://127.0.0.1:8080/v1/status-lists/revocation-1")
		if _, err := credential.Digest(list, credential.FormJSON); err != nil {
			b.Fatal(err)
		}
	}
}
