package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/node/webfetch"
)

// dccDir holds digitalcredentials/verifier-core's signed fixtures (see its
// README for their origin).
const dccDir = "../dataintegrity/testdata/dcc-verifier-core"

// dccKey is the fixtures' issuer key, the fragment of their methods.
const dccKey = "z6MknNQD1WHLGGraFi6zcbGevuAgkVfdyCdtZnQTGWVVvR5Q"

// dccStatusPath is where the fixtures' status list lives on its public
// host.
const dccStatusPath = "/digitalcredentials/verifier-core/refs/heads/main/src/test-fixtures/status/e5WK8CbZ1GjycuPombrj"

// dccWeb is a loopback TLS server standing in for the public hosts the
// fixtures name: the did:web documents of digitalcredentials.github.io and
// the status list on raw.githubusercontent.com. Its client sends every
// connection there.
func dccWeb(t *testing.T) *http.Client {
	t.Helper()
	list, err := os.ReadFile(filepath.Join(dccDir, "status-e5WK8CbZ1GjycuPombrj.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc := func(id, vmType string) string {
		return fmt.Sprintf(`{"@context":["https://www.w3.org/ns/did/v1"],"id":%[1]q,
"verificationMethod":[{"id":"%[1]s#%[2]s","type":%[3]q,"controller":%[1]q,"publicKeyMultibase":%[2]q}],
"assertionMethod":["%[1]s#%[2]s"]}`, id, dccKey, vmType)
	}
	const web = "digitalcredentials.github.io"
	files := map[string]string{
		web + "/dcc-did-web/did.json":               doc("did:web:"+web+":dcc-did-web", "Ed25519VerificationKey2020"),
		web + "/dcc-did-web/multikey/did.json":      doc("did:web:"+web+":dcc-did-web:multikey", "Multikey"),
		"raw.githubusercontent.com" + dccStatusPath: string(list),
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.Host+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	addr := srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	// httptest's certificate holds example.com: check it as that.
	tr.TLSClientConfig.ServerName = "example.com"
	return &http.Client{Transport: tr}
}

// TestDCCVerdicts sends every signed DCC fixture through POST
// /credentials/verify and checks the verdict its name gives: expired,
// revoked (from its status list, served from loopback and read without an
// anchor check, since no consortium member anchored it), a bad did:web, a
// bad status URL, or valid. None is anchored in this consortium, so the
// inclusion check fails for all: every other check is the fixture's own.
func TestDCCVerdicts(t *testing.T) {
	client := dccWeb(t)
	resolver, err := did.NewResolver(did.WebConfig{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{nodeConfig: func(c *node.Config) {
		c.DIDResolver = resolver
		// The fixtures' list has 100,000 entries, from before the
		// specification's minimum.
		c.Status = node.StatusConfig{Fetch: webfetch.Config{Client: client}, MinBits: 100000}
	}})
	entries, err := os.ReadDir(dccDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range entries {
		name := en.Name()
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, "status-") {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dccDir, name))
			if err != nil {
				t.Fatal(err)
			}
			failed := checkNotVerified(t, e.vcapiVerify(data))
			t.Logf("failed: %v", failed)
			want := []string{node.CheckInclusion}
			switch {
			case name == "safeModeBreaker.json", name == "testVC.json":
				// An undefined term, which safe mode refuses; a document
				// changed after it was signed.
				want = append(want, node.CheckProof, node.CheckIssuer)
			case strings.Contains(name, "BadDidWeb"):
				want = append(want, node.CheckProof, node.CheckIssuer)
			case strings.Contains(name, "BadStatusUrl"):
				want = append(want, node.CheckStatus)
			}
			if strings.Contains(name, "Expired") {
				want = append(want, node.CheckValidity)
			}
			if strings.Contains(name, "Revoked") {
				want = append(want, node.CheckStatus)
			}
			slices.Sort(want)
			slices.Sort(failed)
			if !slices.Equal(failed, want) {
				t.Errorf("failed checks %v, want %v", failed, want)
			}
		})
	}
	if n != 24 {
		t.Errorf("%d fixtures, want 24", n)
	}
}

// TestW3CVectorsOverHTTP sends the W3C vc-di-eddsa test vectors' signed
// credentials through POST /credentials/verify: each proof verifies. Their
// issuer is a URL, not a DID whose key made the proof, and they are not
// anchored here, so those two checks fail, and only those.
func TestW3CVectorsOverHTTP(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, f := range []string{"eddsa-rdfc-2022/signedDataInt.json", "eddsa-jcs-2022/signedJCS.json", "Ed25519Signature2020/signedEdSig.json"} {
		data, err := os.ReadFile(filepath.Join("../dataintegrity/testdata/vc-di-eddsa", f))
		if err != nil {
			t.Fatal(err)
		}
		r := e.vcapiVerify(data)
		failed := checkNotVerified(t, r)
		v := decode[VCAPIVerifyResponse](t, r)
		if !slices.Contains(v.Checks, node.CheckProof) || !slices.Equal(failed, []string{node.CheckIssuer, node.CheckInclusion}) {
			t.Errorf("%s: passed %v, failed %v", f, v.Checks, failed)
		}
	}
}
