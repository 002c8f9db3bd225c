package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/store"
	"github.com/credanchor/credanchor/testnet"
)

const issuerToken = "issuer-token-for-tests"

// env is a real node on an in-process dev chain behind the real handler,
// served by httptest on loopback.
type env struct {
	tb     testing.TB
	chain  *testnet.DevChain
	reg    common.Address
	member common.Address
	issuer *node.IssuerIdentity
	node   *node.Node
	api    *Server
	srv    *httptest.Server
	client *http.Client
}

type envOptions struct {
	// run starts the node's batcher and anchorer; without it credentials
	// stay pending.
	run    bool
	config func(*Config)
	// nodeConfig, when set, adjusts the node's configuration.
	nodeConfig func(*node.Config)
	// status gives issued credentials status entries, in lists served by
	// this server and published every statusInterval.
	status bool
}

// statusInterval is how often a test node with status lists publishes
// them.
const statusInterval = 200 * time.Millisecond

func newEnv(tb testing.TB, opts envOptions) *env {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Warnings and errors only: the tests provoke every 4xx on purpose.
	logger := slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelError}))

	chain, err := testnet.New(ctx, testnet.Config{})
	if err != nil {
		tb.Fatalf("start dev chain: %v", err)
	}
	tb.Cleanup(func() { _ = chain.Close() })
	keys := chain.Keys()
	c, err := testnet.DeployConsortium(ctx, chain)
	if err != nil {
		tb.Fatalf("deploy registry: %v", err)
	}
	e := &env{tb: tb, chain: chain, member: c.Member.Address, reg: c.Registry}

	st, err := store.Open(store.Config{Dir: tb.TempDir(), Logger: logger})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	issuer, err := node.NewDIDKeyIssuer(testnet.ExampleIssuerKey, testnet.ExampleMember.Name)
	if err != nil {
		tb.Fatal(err)
	}
	e.issuer = issuer
	ncfg := node.Config{
		Store:        st,
		Chain:        chain.Client(),
		Registry:     e.reg,
		NodeKey:      keys[1],
		MaxBatchWait: 100 * time.Millisecond,
		Anchor:       anchor.Config{PollInterval: 50 * time.Millisecond},
		Logger:       logger,
		Issuer:       issuer,
		// did:key only: a test must not resolve did:web over the network.
		DIDResolver: did.NewMultiResolver(map[string]did.Resolver{"key": did.KeyResolver{}}),
	}
	// The server's address is known before the node, which names it in
	// the status entries it issues.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if opts.status {
		ncfg.PublicURL = "http://" + ln.Addr().String()
		ncfg.StatusPublishInterval = statusInterval
	}
	if opts.nodeConfig != nil {
		opts.nodeConfig(&ncfg)
	}
	e.node, err = node.New(ctx, ncfg)
	if err != nil {
		tb.Fatalf("node: %v", err)
	}
	if opts.run {
		runCtx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = e.node.Run(runCtx)
		}()
		// Stop the node before the store and the chain close under it.
		tb.Cleanup(func() { stop(); <-done })
	}

	cfg := Config{Node: e.node, IssuerTokens: []string{"another-issuer", issuerToken}, Logger: logger}
	if opts.config != nil {
		opts.config(&cfg)
	}
	e.api, err = New(cfg)
	if err != nil {
		tb.Fatalf("httpapi.New: %v", err)
	}
	e.srv = httptest.NewUnstartedServer(e.api.Handler())
	e.srv.Listener.Close()
	e.srv.Listener = ln
	e.srv.Start()
	tb.Cleanup(e.srv.Close)
	e.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	tb.Cleanup(e.client.CloseIdleConnections)
	return e
}

// response is a response read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// request sends a request; headers are name, value pairs.
func (e *env) request(method, path, contentType string, body []byte, headers ...string) response {
	e.tb.Helper()
	req, err := http.NewRequestWithContext(e.tb.Context(), method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.tb.Fatalf("new request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func (e *env) get(path string) response { return e.request(http.MethodGet, path, "", nil) }

// submit posts a credential with the issuer token.
func (e *env) submit(contentType string, cred []byte) response {
	e.tb.Helper()
	return e.request(http.MethodPost, "/v1/credentials", contentType, cred, "Authorization", "Bearer "+issuerToken)
}

func decode[T any](tb testing.TB, r response) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		tb.Fatalf("decode %T from %s: %v", v, r, err)
	}
	return v
}

// waitAnchored polls the credential's record until it is anchored. It has a
// deadline, not a timing expectation: the machine may be slow.
func (e *env) waitAnchored(d merkle.Hash) node.Record {
	e.tb.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := e.get("/v1/credentials/" + d.String())
		if r.status != http.StatusOK {
			e.tb.Fatalf("GET record: %s", r)
		}
		rec := decode[node.Record](e.tb, r)
		switch {
		case rec.State == node.StateAnchored:
			return rec
		case rec.State == node.StateFailed:
			e.tb.Fatalf("credential %s: batch failed", d)
		case time.Now().After(deadline):
			e.tb.Fatalf("credential %s still %s at the deadline", d, rec.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testCredential is an Open Badges 3.0 credential, distinct for each tag.
func testCredential(tag string) []byte {
	return fmt.Appendf(nil, `{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
  "id": "urn:uuid:%s",
  "type": ["VerifiableCredential", "OpenBadgeCredential"],
  "issuer": {"id": "did:web:uni.example", "type": ["Profile"], "name": "Example University"},
  "validFrom": "2026-01-15T00:00:00Z",
  "name": "Distributed Systems micro-credential",
  "credentialSubject": {
    "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "type": ["AchievementSubject"],
    "achievement": {"id": "https://uni.example/achievements/ds-101", "type": ["Achievement"], "name": "DS 101", "description": "Distributed systems.", "criteria": {"narrative": "Pass the exam."}}
  },
  "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "verificationMethod": "did:web:uni.example#key-1", "proofPurpose": "assertionMethod", "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gkfUKods5D2UAUL5n2Brbx"}
}`, tag)
}

// unsignedCredential is an Open Badges 3.0 credential to issue, distinct
// for each tag: no issuer, id, validFrom or proof, which the node fills in.
func unsignedCredential(tag string) []byte {
	return fmt.Appendf(nil, `{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
  "type": ["VerifiableCredential", "OpenBadgeCredential"],
  "name": "Distributed Systems micro-credential %s",
  "credentialSubject": {
    "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "type": ["AchievementSubject"],
    "achievement": {"id": "https://uni.example/achievements/ds-101", "type": ["Achievement"], "name": "DS 101", "description": "Distributed systems.", "criteria": {"narrative": "Pass the exam."}}
  }
}`, tag)
}

// issue issues an unsigned credential through POST /v1/issue and returns
// the answer.
func (e *env) issue(query string, cred []byte) response {
	e.tb.Helper()
	return e.request(http.MethodPost, "/v1/issue"+query, "application/json", cred, "Authorization", "Bearer "+issuerToken)
}

// issued issues a credential and returns the decoded 201 answer.
func (e *env) issued(query string, cred []byte) IssueResponse {
	e.tb.Helper()
	r := e.issue(query, cred)
	if r.status != http.StatusCreated {
		e.tb.Fatalf("issue: got %s, want 201", r)
	}
	return decode[IssueResponse](e.tb, r)
}

// verifyBody posts a /v1/verify request and decodes the 200 verdict.
func (e *env) verifyBody(cred json.RawMessage, receipt json.RawMessage) VerifyResponse {
	e.tb.Helper()
	body := map[string]json.RawMessage{"credential": cred}
	if receipt != nil {
		body["receipt"] = receipt
	}
	req, _ := json.Marshal(body)
	r := e.request(http.MethodPost, "/v1/verify", "application/json", req)
	if r.status != http.StatusOK {
		e.tb.Fatalf("verify: %s", r)
	}
	return decode[VerifyResponse](e.tb, r)
}

// failedChecks names the checks of v that failed, in order.
func failedChecks(v VerifyResponse) []string {
	var out []string
	for _, c := range v.Checks {
		if !c.OK {
			out = append(out, c.Check)
		}
	}
	return out
}

// jsonDigest is the digest DESIGN.md defines, computed independently of the
// node's code path: SHA-256 of the JCS form.
func jsonDigest(tb testing.TB, cred []byte) merkle.Hash {
	tb.Helper()
	canon, err := credential.Canonical(cred)
	if err != nil {
		tb.Fatalf("canonical: %v", err)
	}
	return sha256.Sum256(canon)
}

// testJWT is a syntactically valid VC-JWT (compact JWS), distinct per tag.
func testJWT(tag string) string {
	return "eyJhbGciOiJFZERTQSIsInR5cCI6InZjK2p3dCJ9." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"did:web:uni.example","jti":"`+tag+`"}`)) +
		".c2lnbmF0dXJlLWJ5dGVz"
}

func compactJSON(dst *bytes.Buffer, src []byte) error { return json.Compact(dst, src) }
