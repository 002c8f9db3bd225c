package dataintegrity_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/did"
)

// resolverKeys resolves verification methods with a did.Resolver.
type resolverKeys struct{ r did.Resolver }

func (k resolverKeys) ResolveKey(ctx context.Context, vm, purpose string) (ed25519.PublicKey, error) {
	m, err := did.ResolveVerificationMethod(ctx, k.r, vm, did.Relationship(purpose))
	if err != nil {
		return nil, err
	}
	return m.Ed25519PublicKey()
}

// The DCC fixtures' issuer key, the fragment of their verification methods.
const dccKey = "z6MknNQD1WHLGGraFi6zcbGevuAgkVfdyCdtZnQTGWVVvR5Q"

// TestDCCDidWeb verifies the DCC fixtures signed by did:web methods through
// the real did:web resolver, against a loopback TLS server that stands in for
// digitalcredentials.github.io and serves DID documents built from the
// proofs' key: an Ed25519VerificationKey2020 document for dcc-did-web and a
// Multikey one for dcc-did-web:multikey. dcc-did-web-bad has no document
// here (a 404), so its credential does not verify, though its signature is
// good (TestDCCFixtures).
func TestDCCDidWeb(t *testing.T) {
	const host = "digitalcredentials.github.io"
	doc := func(id, vmType string) string {
		return fmt.Sprintf(`{"@context":["https://www.w3.org/ns/did/v1"],"id":%[1]q,
"verificationMethod":[{"id":"%[1]s#%[2]s","type":%[3]q,"controller":%[1]q,"publicKeyMultibase":%[2]q}],
"assertionMethod":["%[1]s#%[2]s"]}`, id, dccKey, vmType)
	}
	docs := map[string]string{
		"/dcc-did-web/did.json":          doc("did:web:"+host+":dcc-did-web", "Ed25519VerificationKey2020"),
		"/dcc-did-web/multikey/did.json": doc("did:web:"+host+":dcc-did-web:multikey", "Multikey"),
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != host {
			http.Error(w, "wrong host "+r.Host, http.StatusBadRequest)
			return
		}
		d, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/did+json")
		fmt.Fprint(w, d)
	}))
	defer srv.Close()
	// Every connection goes to the loopback server, whose certificate is
	// checked as example.com's (a name httptest's certificate holds).
	tr := srv.Client().Transport.(*http.Transport).Clone()
	addr := srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig.ServerName = "example.com"
	r, err := did.NewResolver(did.WebConfig{Client: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	keys := resolverKeys{r}
	for _, tc := range []struct {
		file string
		want error
	}{
		{"v2didWebWithValidStatus.json", nil},
		{"v2didWebMultikeyWithValidStatus.json", nil},
		{"v2WithBadDidWeb.json", did.ErrNotFound},
		{"v2NoStatus.json", nil}, // did:key through the same resolver
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dccDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = dataintegrity.Verify(context.Background(), b, keys, dataintegrity.VerifyOptions{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify: got %v, want %v", err, tc.want)
			}
		})
	}
}
