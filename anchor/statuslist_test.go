package anchor_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/testnet"
)

func TestStatusListAnchors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	chain, err := testnet.New(ctx, testnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	c, err := testnet.DeployConsortium(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	listID := sha256.Sum256([]byte("https://uni.example/status/1"))
	if _, err := anchor.StatusList(ctx, chain.Client(), c.Registry, c.Member.Address, listID); !errors.Is(err, anchor.ErrStatusListNotAnchored) {
		t.Fatalf("before any anchor: got %v, want ErrStatusListNotAnchored", err)
	}
	for i, version := range []string{"version 1", "version 2"} {
		h := sha256.Sum256([]byte(version))
		a, err := anchor.AnchorStatusList(ctx, chain.Client(), c.Registry, c.NodeKey, listID, h)
		if err != nil {
			t.Fatal(err)
		}
		got, err := anchor.StatusList(ctx, chain.Client(), c.Registry, c.Member.Address, listID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Hash != h || got.BlockNumber != a.BlockNumber {
			t.Fatalf("after version %d: %+v, want hash %x in block %d", i+1, got, h, a.BlockNumber)
		}
	}
	// The member's own key is not a node key: refused, and nothing changes.
	if _, err := anchor.AnchorStatusList(ctx, chain.Client(), c.Registry, c.MemberKey, listID, sha256.Sum256([]byte("forged"))); err == nil {
		t.Fatal("a key that is not authorised anchored a status list")
	}
	got, _ := anchor.StatusList(ctx, chain.Client(), c.Registry, c.Member.Address, listID)
	if got.Hash != sha256.Sum256([]byte("version 2")) {
		t.Fatal("a refused anchor changed the latest hash")
	}
}
