package node_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
)

type env struct {
	chain *testnet.DevChain
	reg   common.Address
}

func newEnv(ctx context.Context, t *testing.T) *env {
	t.Helper()
	chain, err := testnet.New(ctx, testnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	c, err := testnet.DeployConsortium(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	return &env{chain: chain, reg: c.Registry}
}

// start runs a node on the store in dir until the returned stop is called.
func (e *env) start(ctx context.Context, t *testing.T, dir string, size int, wait time.Duration) (*node.Node, func()) {
	t.Helper()
	st, err := store.Open(store.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(ctx, node.Config{
		Store: st, Chain: e.chain.Client(), Registry: e.reg, NodeKey: e.chain.Keys()[1],
		MaxBatchSize: size, MaxBatchWait: wait,
		Anchor: anchor.Config{PollInterval: 20 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(runCtx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
		st.Close()
	}
	t.Cleanup(stop)
	return n, stop
}

func cred(i int) []byte {
	return fmt.Appendf(nil, `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:web:uni.example","credentialSubject":{"id":"did:example:learner%d"}}`, i)
}

func submit(t *testing.T, n *node.Node, i int) merkle.Hash {
	t.Helper()
	s, err := n.Submit(cred(i), credential.FormJSON)
	if err != nil {
		t.Fatal(err)
	}
	return s.Digest
}

func waitAnchored(ctx context.Context, t *testing.T, n *node.Node, d merkle.Hash) *node.Record {
	t.Helper()
	for {
		r, err := n.Credential(d)
		if err != nil {
			t.Fatal(err)
		}
		if r.State == node.StateAnchored {
			return r
		}
		select {
		case <-ctx.Done():
			t.Fatalf("credential %s still %s", d, r.State)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestBatchesCloseBySizeAndByTime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := newEnv(ctx, t)

	t.Run("size", func(t *testing.T) {
		n, _ := e.start(ctx, t, t.TempDir(), 4, time.Hour)
		var ds []merkle.Hash
		for i := range 4 {
			ds = append(ds, submit(t, n, i))
		}
		roots := map[merkle.Hash]bool{}
		for i, d := range ds {
			r := waitAnchored(ctx, t, n, d)
			roots[*r.BatchRoot] = true
			if *r.LeafIndex != uint64(i) {
				t.Errorf("credential %d at leaf %d", i, *r.LeafIndex)
			}
		}
		if len(roots) != 1 {
			t.Fatalf("4 credentials with a batch size of 4 went into %d batches", len(roots))
		}
	})
	t.Run("time", func(t *testing.T) {
		n, _ := e.start(ctx, t, t.TempDir(), 1000, 100*time.Millisecond)
		// Let the batcher find the queue empty and go to sleep first.
		time.Sleep(50 * time.Millisecond)
		d := submit(t, n, 100)
		r := waitAnchored(ctx, t, n, d)
		b, err := n.Batch(*r.BatchRoot)
		if err != nil || b.Size != 1 {
			t.Fatalf("batch = %+v, %v; want one credential", b, err)
		}
		// A resubmission is the same credential, in the same batch.
		again, err := n.Submit(cred(100), credential.FormJSON)
		if err != nil || again.Created || again.Record.State != node.StateAnchored {
			t.Fatalf("resubmission = %+v, %v", again, err)
		}
		rcpt, err := n.Receipt(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := anchor.VerifyReceipt(ctx, e.chain.Client(), rcpt, d); err != nil {
			t.Fatalf("the node's receipt does not verify: %v", err)
		}
		// Anchored, but unsigned: the anchor checks pass, the proof fails,
		// and so the credential is no member's.
		v, err := n.Verify(ctx, cred(100), credential.FormJSON, nil)
		if err != nil || v.Verified || !slices.Equal(failed(v), []string{node.CheckProof, node.CheckIssuer, node.CheckMemberAtAnchor}) {
			t.Fatalf("Verify = %+v, %v", v, err)
		}
		tampered, err := n.Verify(ctx, cred(101), credential.FormJSON, rcpt)
		if err != nil || tampered.Verified || tampered.Checks[len(tampered.Checks)-1].Check != node.CheckInclusion {
			t.Fatalf("Verify(tampered) = %+v, %v", tampered, err)
		}
	})
}

// failed names the checks of v that failed.
func failed(v *node.Verification) []string {
	var out []string
	for _, c := range v.Checks {
		if !c.OK {
			out = append(out, c.Check)
		}
	}
	return out
}

// TestIssueAnchorVerify issues credentials as the consortium member's
// did:key (Data Integrity and VC-JWT), anchors them, and verifies them with
// the node and with the chain alone.
func TestIssueAnchorVerify(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := newEnv(ctx, t)
	id, err := node.NewDIDKeyIssuer(testnet.ExampleIssuerKey, "Example University")
	if err != nil {
		t.Fatal(err)
	}
	if id.DID != testnet.ExampleMember.DID {
		t.Fatalf("issuer DID %s, member DID %s", id.DID, testnet.ExampleMember.DID)
	}
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := node.New(ctx, node.Config{
		Store: st, Chain: e.chain.Client(), Registry: e.reg, NodeKey: e.chain.Keys()[1], RequireSignedSubmissions: true,
	}); err == nil {
		t.Error("node.New with RequireSignedSubmissions and no Issuer succeeded")
	}
	bad := *id
	bad.VerificationMethod = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	if _, err := node.New(ctx, node.Config{Store: st, Chain: e.chain.Client(), Registry: e.reg, NodeKey: e.chain.Keys()[1], Issuer: &bad}); err == nil {
		t.Error("node.New with a verification method of another DID succeeded")
	}
	n, err := node.New(ctx, node.Config{
		Store: st, Chain: e.chain.Client(), Registry: e.reg, NodeKey: e.chain.Keys()[1],
		MaxBatchWait: 50 * time.Millisecond, Anchor: anchor.Config{PollInterval: 20 * time.Millisecond},
		Issuer: id,
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(runCtx) }()
	defer func() { stop(); <-done }()

	unsigned := []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:learner"}}`)
	for _, opts := range []node.IssueOptions{{Format: node.FormatDataIntegrity}, {Cryptosuite: "eddsa-rdfc-2022"}, {Format: node.FormatJWT}} {
		format := opts.Format + opts.Cryptosuite
		iss, err := n.Issue(ctx, unsigned, opts)
		if err != nil {
			t.Fatalf("Issue %s: %v", format, err)
		}
		waitAnchored(ctx, t, n, iss.Submission.Digest)
		v, err := n.Verify(ctx, iss.Credential, iss.Form, nil)
		if err != nil || !v.Verified || len(v.Checks) != 8 || v.Issuer != id.DID {
			t.Fatalf("Verify %s = %+v, %v", format, v, err)
		}
		rcpt, err := n.Receipt(iss.Submission.Digest)
		if err != nil {
			t.Fatal(err)
		}
		alone, err := node.Verify(ctx, e.chain.Client(), common.Address{}, iss.Credential, iss.Form, rcpt)
		if err != nil || !alone.Verified {
			t.Fatalf("package Verify %s = %+v, %v", format, alone, err)
		}
	}
	// Naming another issuer is refused, and so is a node with no identity.
	other := []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:web:other.example","credentialSubject":{"id":"did:example:x"}}`)
	if _, err := n.Issue(ctx, other, node.IssueOptions{}); !errors.Is(err, node.ErrIssuerMismatch) {
		t.Errorf("Issue(other issuer): %v, want ErrIssuerMismatch", err)
	}
	if _, err := n.Issue(ctx, unsigned, node.IssueOptions{Cryptosuite: "ecdsa-rdfc-2019"}); !errors.Is(err, node.ErrUnsupportedFormat) {
		t.Errorf("Issue(ecdsa-rdfc-2019): %v, want ErrUnsupportedFormat", err)
	}
	var ce *node.CredentialError
	if _, err := n.Issue(ctx, []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"]}`), node.IssueOptions{}); !errors.As(err, &ce) || ce.Code() != "MALFORMED_VALUE_ERROR" {
		t.Errorf("Issue(no subject): %v, want a CredentialError", err)
	}
}

func TestRestartWithPendingCredentials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := newEnv(ctx, t)
	dir := t.TempDir()
	n, stop := e.start(ctx, t, dir, 1000, time.Hour)
	var ds []merkle.Hash
	for i := range 10 {
		ds = append(ds, submit(t, n, i))
	}
	if _, err := n.Receipt(ds[0]); !errors.Is(err, node.ErrPending) {
		t.Fatalf("Receipt while pending: got %v, want ErrPending", err)
	}
	stop()

	n, _ = e.start(ctx, t, dir, 1000, 50*time.Millisecond)
	if got := n.PendingCount(); got != 10 {
		t.Fatalf("after restart %d pending, want 10", got)
	}
	for _, d := range ds {
		waitAnchored(ctx, t, n, d)
	}
	if got := n.PendingCount(); got != 0 {
		t.Fatalf("after anchoring %d pending, want 0", got)
	}
}
