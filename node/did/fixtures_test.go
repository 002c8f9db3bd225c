package did

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dccCredential is what these tests need of a digitalcredentials/verifier-core
// fixture: its issuer and its proofs' verification methods.
type dccCredential struct {
	name    string
	issuer  string
	methods []string // proof verificationMethod values
	purpose []string // proof proofPurpose values
}

func loadDCCCredentials(t *testing.T) []dccCredential {
	t.Helper()
	dir := sharedFixture(t, "dcc-verifier-core/json")
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in %s: %v", dir, err)
	}
	var out []dccCredential
	for _, p := range paths {
		var raw struct {
			Issuer json.RawMessage `json:"issuer"`
			Proof  json.RawMessage `json:"proof"`
		}
		readJSON(t, p, &raw)
		c := dccCredential{name: filepath.Base(p)}
		var issuer struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw.Issuer, &c.issuer); err != nil {
			if err := json.Unmarshal(raw.Issuer, &issuer); err != nil {
				t.Fatalf("%s: issuer: %v", c.name, err)
			}
			c.issuer = issuer.ID
		}
		type proof struct {
			VerificationMethod string `json:"verificationMethod"`
			ProofPurpose       string `json:"proofPurpose"`
		}
		var proofs []proof
		if err := json.Unmarshal(raw.Proof, &proofs); err != nil {
			var one proof
			if err := json.Unmarshal(raw.Proof, &one); err != nil {
				t.Fatalf("%s: proof: %v", c.name, err)
			}
			proofs = []proof{one}
		}
		for _, pr := range proofs {
			c.methods = append(c.methods, pr.VerificationMethod)
			c.purpose = append(c.purpose, pr.ProofPurpose)
		}
		out = append(out, c)
	}
	return out
}

// TestDCCIssuers resolves the verification method of every proof of the
// signed verifier-core credentials. did:key methods resolve offline; did:web
// ones name public hosts, so a loopback TLS server plays those hosts, serving
// documents built from the key in the proof's verificationMethod fragment (the
// same key the did:key credentials use). The "bad did:web" credential's DID
// is not served and must fail to resolve.
func TestDCCIssuers(t *testing.T) {
	creds := loadDCCCredentials(t)
	ws := newWebServer(t)
	served := map[string]string{} // did:web → verification method type
	for _, c := range creds {
		for _, m := range c.methods {
			u, err := ParseURL(m)
			if err != nil || u.DID.Method != "web" || strings.Contains(c.name, "BadDidWeb") {
				continue
			}
			did := u.DID.String()
			webURL, err := WebURL(did)
			if err != nil {
				t.Fatalf("%s: WebURL(%s): %v", c.name, did, err)
			}
			// The :multikey variant is published with a Multikey method,
			// the other with the Ed25519VerificationKey2020 form that
			// Ed25519Signature2020 proofs were made with.
			vmType := TypeEd25519VerificationKey2020
			if strings.HasSuffix(did, ":multikey") {
				vmType = TypeMultikey
			}
			served[did] = vmType
			doc := fmt.Sprintf(`{
  "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/ed25519-2020/v1"],
  "id": %[1]q,
  "verificationMethod": [{"id": %[2]q, "type": %[3]q, "controller": %[1]q, "publicKeyMultibase": %[4]q}],
  "assertionMethod": [%[2]q],
  "authentication": [%[2]q]
}`, did, m, vmType, u.Fragment)
			path := strings.TrimPrefix(webURL, "https://digitalcredentials.github.io")
			if path == webURL {
				t.Fatalf("%s: did:web host changed: %s", c.name, webURL)
			}
			ws.serve(path, doc)
		}
	}
	if len(served) != 2 {
		t.Fatalf("served %d did:web documents (%v), want 2", len(served), served)
	}
	r, err := NewResolver(WebConfig{Client: loopbackClient(ws.Server)})
	if err != nil {
		t.Fatal(err)
	}
	issuerKey, err := ParseDIDKey("did:key:z6MknNQD1WHLGGraFi6zcbGevuAgkVfdyCdtZnQTGWVVvR5Q")
	if err != nil {
		t.Fatal(err)
	}

	var keys, webs, bad int
	for _, c := range creds {
		t.Run(c.name, func(t *testing.T) {
			if c.issuer == "" || len(c.methods) == 0 {
				t.Fatalf("issuer %q, methods %v", c.issuer, c.methods)
			}
			for i, m := range c.methods {
				if c.purpose[i] != string(AssertionMethod) {
					t.Errorf("proof purpose %q", c.purpose[i])
				}
				vm, err := ResolveVerificationMethod(context.Background(), r, m, AssertionMethod)
				switch {
				case strings.Contains(c.name, "BadDidWeb"):
					bad++
					if !errors.Is(err, ErrNotFound) {
						t.Errorf("bad did:web %s: %v, want ErrNotFound", m, err)
					}
					continue
				case !strings.Contains(m, "#"):
					// safeModeBreaker names a bare did:key as its
					// verification method. A DID names a document, not a
					// key, so dereferencing refuses it (the credential must
					// fail anyway, for its undefined status type).
					if !errors.Is(err, ErrNotFound) || !strings.HasPrefix(m, "did:key:") {
						t.Errorf("bare DID %s: %v, want ErrNotFound", m, err)
					}
					continue
				case err != nil:
					t.Fatalf("ResolveVerificationMethod(%s): %v", m, err)
				}
				if strings.HasPrefix(m, "did:web:") {
					webs++
					if vm.Type != served[strings.Split(m, "#")[0]] {
						t.Errorf("type %q", vm.Type)
					}
				} else {
					keys++
				}
				// The issuer is the method's controller: the check the DI
				// verifier makes with what this package returns.
				if vm.Controller != c.issuer {
					t.Errorf("controller %s, issuer %s", vm.Controller, c.issuer)
				}
				pub, err := vm.Ed25519PublicKey()
				if err != nil {
					t.Fatal(err)
				}
				if !pub.Equal(issuerKey) {
					t.Errorf("key %x, want the fixtures' issuer key %x", pub, issuerKey)
				}
				// And a presentation could not be signed with it by
				// claiming keyAgreement.
				if _, err := ResolveVerificationMethod(context.Background(), r, m, KeyAgreement); !errors.Is(err, ErrRelationship) {
					t.Errorf("keyAgreement: %v, want ErrRelationship", err)
				}
			}
		})
	}
	if keys < 20 || webs != 2 || bad != 1 {
		t.Errorf("resolved %d did:key and %d did:web methods, %d bad did:web; want ≥20, 2, 1", keys, webs, bad)
	}
}

// TestDCCStatusListIssuer checks the status list credential's issuer too,
// whose list a verifier must trust only under assertionMethod.
func TestDCCStatusListIssuer(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sharedFixture(t, "dcc-verifier-core/json"), "status-e5WK8CbZ1GjycuPombrj.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sl struct {
		Issuer string `json:"issuer"`
		Proof  struct {
			VerificationMethod string `json:"verificationMethod"`
		} `json:"proof"`
	}
	if err := json.Unmarshal(b, &sl); err != nil {
		t.Fatal(err)
	}
	r := NewMultiResolver(map[string]Resolver{"key": KeyResolver{VerificationMethodType: TypeEd25519VerificationKey2020}})
	vm, err := ResolveVerificationMethod(context.Background(), r, sl.Proof.VerificationMethod, AssertionMethod)
	if err != nil {
		t.Fatal(err)
	}
	if vm.Controller != sl.Issuer || vm.Type != TypeEd25519VerificationKey2020 {
		t.Errorf("method %+v, issuer %s", vm, sl.Issuer)
	}
}
