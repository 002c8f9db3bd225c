package node_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/node/vcjwt"
)

// TestVerifyDIDWeb checks the credential checks for a did:web issuer whose
// document a loopback TLS server serves: Data Integrity and VC-JWT proofs
// verify under assertionMethod, and a key listed only under authentication
// does not.
func TestVerifyDIDWeb(t *testing.T) {
	seed := sha256.Sum256([]byte("did:web issuer"))
	key := ed25519.NewKeyFromSeed(seed[:])
	mk := did.EncodeMultikeyEd25519(key.Public().(ed25519.PublicKey))
	var doc []byte
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/did.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/did+json")
		_, _ = w.Write(doc)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	id := "did:web:" + strings.ReplaceAll(u.Host, ":", "%3A")
	doc, _ = json.Marshal(map[string]any{
		"@context": []string{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"},
		"id":       id,
		"verificationMethod": []map[string]string{
			{"id": id + "#key-1", "type": "Multikey", "controller": id, "publicKeyMultibase": mk},
			{"id": id + "#auth", "type": "Multikey", "controller": id, "publicKeyMultibase": mk},
		},
		"assertionMethod": []string{id + "#key-1"},
		"authentication":  []string{id + "#auth"},
	})
	r, err := did.NewResolver(did.WebConfig{Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	opts := node.VerifyOptions{Keys: &node.DIDKeys{Resolver: r}}
	cred := []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"` + id + `","validFrom":"2026-01-01T00:00:00Z","credentialSubject":{"id":"did:example:x"}}`)
	ok := []string{node.CheckInclusion} // no receipt: only inclusion fails

	di, err := dataintegrity.SignJCS(cred, key, dataintegrity.Options{VerificationMethod: id + "#key-1"})
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := vcjwt.Sign(cred, key, id+"#key-1")
	if err != nil {
		t.Fatal(err)
	}
	rdfc, err := dataintegrity.SignRDFC(cred, key, dataintegrity.Options{VerificationMethod: id + "#key-1"})
	if err != nil {
		t.Fatal(err)
	}
	wrongRel, err := dataintegrity.SignJCS(cred, key, dataintegrity.Options{VerificationMethod: id + "#auth"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		data   []byte
		form   credential.Form
		failed []string
	}{
		{"data integrity", di, credential.FormJSON, ok},
		{"vc-jwt", []byte(jwt), credential.FormJWT, ok},
		{"eddsa-rdfc-2022", rdfc, credential.FormJSON, ok},
		{"authentication key", wrongRel, credential.FormJSON, []string{node.CheckProof, node.CheckIssuer, node.CheckInclusion}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := node.VerifyWith(context.Background(), nil, common.Address{}, tc.data, tc.form, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := failed(v); !slices.Equal(got, tc.failed) || v.Issuer != id {
				t.Fatalf("failed %q (issuer %s), want %q: %+v", got, v.Issuer, tc.failed, v.Checks)
			}
		})
	}
}
