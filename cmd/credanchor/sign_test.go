package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/vcjwt"
	"github.com/credanchor/credanchor/testnet"
)

// signedCredential is a VC 2.0 credential about subject, issued by key's
// did:key and signed with eddsa-jcs-2022 at a fixed time, so that the same
// arguments always give the same bytes (Ed25519 is deterministic).
func signedCredential(key ed25519.PrivateKey, subject string) string {
	id, err := node.NewDIDKeyIssuer(key, "")
	if err != nil {
		panic(err)
	}
	doc := fmt.Sprintf(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":%q,"validFrom":"2026-01-01T00:00:00Z","credentialSubject":{"id":%q}}`, id.DID, subject)
	out, err := dataintegrity.SignJCS([]byte(doc), key, dataintegrity.Options{
		VerificationMethod: id.VerificationMethod, Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		panic(err)
	}
	return string(out)
}

// signedJWT is the VC-JWT form of a credential about subject, by key.
func signedJWT(key ed25519.PrivateKey, subject string) string {
	id, err := node.NewDIDKeyIssuer(key, "")
	if err != nil {
		panic(err)
	}
	doc := fmt.Sprintf(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":%q,"validFrom":"2026-01-01T00:00:00Z","credentialSubject":{"id":%q}}`, id.DID, subject)
	tok, err := vcjwt.Sign([]byte(doc), key, id.VerificationMethod)
	if err != nil {
		panic(err)
	}
	return tok
}

// samples are two Data Integrity credentials and a VC-JWT, signed by key.
func samples(key ed25519.PrivateKey) []string {
	return []string{
		signedCredential(key, "did:example:ada"),
		signedCredential(key, "did:example:bob"),
		signedJWT(key, "did:example:eve"),
	}
}

func TestSamplesAreDeterministic(t *testing.T) {
	a, b := samples(testnet.ExampleIssuerKey), samples(testnet.ExampleIssuerKey)
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("sample %d differs between calls", i)
		}
	}
}

func TestIssuerKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "issuer.key")
	k1, err := loadOrCreateIssuerKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("issuer.key: %v, %v; want mode 0600", st, err)
	}
	k2, err := loadOrCreateIssuerKey(path)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second load: %v; the key changed", err)
	}
	for name, tc := range map[string]struct {
		content string
		mode    os.FileMode
		want    string
	}{
		"readable by others": {strings.Repeat("00", 32), 0o644, "chmod 600"},
		"not hex":            {"zz", 0o600, "not hex"},
		"short":              {"0011", 0o600, "want a 32-byte"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(p, []byte(tc.content), tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, tc.mode); err != nil {
			t.Fatal(err)
		}
		if _, err := loadIssuerKey(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", name, err, tc.want)
		}
	}
}

func TestKeysIssuer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "issuer.key")
	out, stderr, code := run(t, "keys", "issuer-new", "--out", path)
	if code != 0 || !strings.HasPrefix(out, "did:key:z6Mk") {
		t.Fatalf("keys issuer-new: exit %d\n%s%s", code, out, stderr)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("issuer key file: %v, %v", st, err)
	}
	again, _, code := run(t, "keys", "issuer-did", path)
	if code != 0 || !strings.HasPrefix(again, out) || !strings.Contains(again, "#z6Mk") {
		t.Errorf("keys issuer-did: exit %d, %q; want %q first", code, again, out)
	}
	if _, stderr, code := run(t, "keys", "issuer-new", "--out", path); code != 1 || !strings.Contains(stderr, "never overwritten") {
		t.Errorf("keys issuer-new over an existing file: exit %d, %q", code, stderr)
	}
}

// TestDevnetKeepsRegistryDID: the member DID is what the registry says, not
// what the issuer key would make it. A devnet whose issuer key was replaced
// keeps its registered DID (and warns), as a data dir from before issuer
// keys keeps did:web:localhost.
func TestDevnetKeepsRegistryDID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "devnet")
	p := startDevnet(t, dir)
	first := readDevnetInfo(t, dir)
	p.stop(t)
	if !strings.HasPrefix(first.IssuerDID, "did:key:z6Mk") {
		t.Fatalf("issuer DID %q, want a did:key", first.IssuerDID)
	}
	if err := os.Remove(filepath.Join(dir, "issuer.key")); err != nil {
		t.Fatal(err)
	}
	p = startDevnet(t, dir)
	defer p.stop(t)
	if again := readDevnetInfo(t, dir); again.IssuerDID != first.IssuerDID {
		t.Errorf("after a new issuer key: issuer DID %s, want the registry's %s", again.IssuerDID, first.IssuerDID)
	}
	key, err := loadIssuerKey(filepath.Join(dir, "issuer.key"))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := node.NewDIDKeyIssuer(key, ""); id.DID == first.IssuerDID {
		t.Fatal("the new issuer key has the old DID")
	}
}
