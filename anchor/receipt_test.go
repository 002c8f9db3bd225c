package anchor_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
)

// sampleReceipt is a receipt of leaf 5 of a 13-leaf tree; it needs no chain.
func sampleReceipt(t testing.TB) *anchor.Receipt {
	t.Helper()
	ds := make([]merkle.Hash, 13)
	for i := range ds {
		ds[i] = sha256.Sum256(fmt.Appendf(nil, "sample/%d", i))
	}
	tree, err := merkle.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	r, err := anchor.NewReceipt(tree, 5, ds[5], anchor.AnchorInfo{
		ChainID:     17234,
		Contract:    common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
		TxHash:      common.HexToHash("0x01"),
		BlockNumber: 7,
		Member:      common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReceiptJSONRoundTrip(t *testing.T) {
	r := sampleReceipt(t)
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "version", "digest", "leafIndex", "treeSize", "path", "root", "chainId", "contract", "txHash", "blockNumber", "member"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("receipt JSON lacks %q: %s", k, data)
		}
	}
	if len(fields) != 12 {
		t.Errorf("receipt JSON has %d fields, want the 12 of DESIGN.md: %s", len(fields), data)
	}
	if !strings.HasPrefix(fields["digest"].(string), "0x") {
		t.Errorf("digest %v is not 0x-prefixed hex", fields["digest"])
	}
	back, err := anchor.ParseReceipt(data)
	if err != nil {
		t.Fatalf("ParseReceipt(own output): %v", err)
	}
	again, _ := json.Marshal(back)
	if string(again) != string(data) {
		t.Errorf("round trip changed the receipt:\n got %s\nwant %s", again, data)
	}
}

func TestParseReceiptRejects(t *testing.T) {
	good, err := json.Marshal(sampleReceipt(t))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	path := func(m map[string]any) []any { return m["path"].([]any) }
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not json", []byte("receipt")},
		{"array", []byte("[]")},
		{"trailing data", append(append([]byte{}, good...), []byte(" {}")...)},
		{"oversized", []byte(`{"type":"` + strings.Repeat("a", anchor.MaxReceiptSize) + `"}`)},
		{"wrong type", edit(func(m map[string]any) { m["type"] = "Receipt" })},
		{"wrong version", edit(func(m map[string]any) { m["version"] = 2 })},
		{"unknown field", edit(func(m map[string]any) { m["extra"] = true })},
		{"no chain id", edit(func(m map[string]any) { delete(m, "chainId") })},
		{"no contract", edit(func(m map[string]any) { delete(m, "contract") })},
		{"bad digest hex", edit(func(m map[string]any) { m["digest"] = "0xzz" })},
		{"short digest", edit(func(m map[string]any) { m["digest"] = "0x0102" })},
		{"changed digest", edit(func(m map[string]any) { m["digest"] = merkle.Hash(sha256.Sum256([]byte("other"))).String() })},
		{"changed root", edit(func(m map[string]any) { m["root"] = merkle.Hash(sha256.Sum256([]byte("other"))).String() })},
		{"index past size", edit(func(m map[string]any) { m["leafIndex"] = 13 })},
		{"wrong index", edit(func(m map[string]any) { m["leafIndex"] = 4 })},
		{"wrong size", edit(func(m map[string]any) { m["treeSize"] = 8 })},
		{"negative size", edit(func(m map[string]any) { m["treeSize"] = -1 })},
		{"missing path element", edit(func(m map[string]any) { m["path"] = path(m)[1:] })},
		{"extra path element", edit(func(m map[string]any) { m["path"] = append(path(m), path(m)[0]) })},
		{"altered path element", edit(func(m map[string]any) { p := path(m); p[0] = p[1] })},
		{"path too long", edit(func(m map[string]any) {
			p := make([]any, 65)
			for i := range p {
				p[i] = path(m)[0]
			}
			m["path"] = p
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := anchor.ParseReceipt(tc.data); !errors.Is(err, anchor.ErrMalformedReceipt) {
				t.Fatalf("ParseReceipt: got %v, want ErrMalformedReceipt", err)
			}
		})
	}
}

func TestVerifyReceiptAgainstChain(t *testing.T) {
	c := newSimChain(t)
	st := openStore(t, t.TempDir())
	a := newAnchorer(t, c, st, nil)
	tree, ds := newBatch(t, st, 9, "verify")
	step(t, a)
	c.sim.Commit()
	step(t, a)
	b := wantState(t, st, tree.Root(), 3)
	at := anchor.AnchorInfo{ChainID: chainID(t, c), Contract: c.registry, TxHash: b.TxHash, BlockNumber: b.BlockNumber, Member: b.Member}
	good, err := anchor.NewReceipt(tree, 4, ds[4], at)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := anchor.VerifyReceipt(ctx, c.client, good, ds[4]); err != nil {
		t.Fatalf("VerifyReceipt(good): %v", err)
	}

	// A receipt of a batch nobody anchored: a well-formed tree of other digests.
	other, err := merkle.New([]merkle.Hash{ds[4], sha256.Sum256([]byte("x"))})
	if err != nil {
		t.Fatal(err)
	}
	unanchored, err := anchor.NewReceipt(other, 0, ds[4], at)
	if err != nil {
		t.Fatal(err)
	}
	wrongChain := *good
	wrongChain.ChainID++
	wrongMember := *good
	wrongMember.Member = common.HexToAddress("0x01")
	wrongContract := *good
	wrongContract.Contract = common.HexToAddress("0x02")

	for _, tc := range []struct {
		name   string
		r      *anchor.Receipt
		digest merkle.Hash
		want   error
	}{
		{"another credential", good, ds[5], anchor.ErrDigestMismatch},
		{"unanchored root", unanchored, ds[4], anchor.ErrNotAnchored},
		{"wrong chain", &wrongChain, ds[4], anchor.ErrWrongChain},
		{"wrong member", &wrongMember, ds[4], anchor.ErrMemberMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := anchor.VerifyReceipt(ctx, c.client, tc.r, tc.digest); !errors.Is(err, tc.want) {
				t.Fatalf("VerifyReceipt: got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("not a registry", func(t *testing.T) {
		if _, err := anchor.VerifyReceipt(ctx, c.client, &wrongContract, ds[4]); err == nil {
			t.Fatal("VerifyReceipt against an address without the registry succeeded")
		}
	})
}

func FuzzParseReceipt(f *testing.F) {
	good, err := json.Marshal(sampleReceipt(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"type":"CredanchorReceipt","version":1,"leafIndex":0,"treeSize":1,"path":[]}`))
	f.Add([]byte(`{"path":[1,2,3]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := anchor.ParseReceipt(data)
		if err != nil {
			if !errors.Is(err, anchor.ErrMalformedReceipt) {
				t.Fatalf("error %v is not ErrMalformedReceipt", err)
			}
			return
		}
		// Whatever parses is a receipt whose path leads to its root.
		if err := merkle.VerifyInclusion(r.LeafIndex, r.TreeSize, r.Digest, r.Path, r.Root); err != nil {
			t.Fatalf("parsed receipt does not verify: %v", err)
		}
	})
}
