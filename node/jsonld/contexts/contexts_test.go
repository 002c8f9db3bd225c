package contexts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The context URLs credanchor needs (the brief of this package); each must be
// pinned.
var required = []string{
	"https://www.w3.org/2018/credentials/v1",
	"https://www.w3.org/ns/credentials/v2",
	"https://w3id.org/security/data-integrity/v2",
	"https://w3id.org/security/multikey/v1",
	"https://www.w3.org/ns/credentials/status/v1",
	"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
	"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
	"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
	"https://w3id.org/security/suites/ed25519-2020/v1",
	"https://www.w3.org/ns/credentials/examples/v2",
}

type manifest struct {
	Contexts []struct {
		URL, File, Package, Version, SHA256, Source, Patch string
	} `json:"contexts"`
	Packages []struct {
		Name, Version, Integrity, LicenseFile string
	} `json:"packages"`
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	b, err := os.ReadFile("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return m
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestManifest checks every embedded file against the SHA-256 in
// manifest.json, that every file is listed, and that every package has its
// license beside the files.
func TestManifest(t *testing.T) {
	m := readManifest(t)
	listed := map[string]bool{}
	packages := map[string]string{}
	for _, p := range m.Packages {
		packages[p.Name] = p.Version
		if !strings.HasPrefix(p.Integrity, "sha512-") {
			t.Errorf("%s: integrity %q is not pinned", p.Name, p.Integrity)
		}
		if fi, err := os.Stat(p.LicenseFile); err != nil || fi.Size() == 0 {
			t.Errorf("%s: license %s: %v", p.Name, p.LicenseFile, err)
		}
	}
	for _, e := range m.Contexts {
		listed[e.File] = true
		b, err := embedded.ReadFile(e.File)
		if err != nil {
			t.Errorf("%s: %v", e.URL, err)
			continue
		}
		if got := sum(b); got != e.SHA256 {
			t.Errorf("%s: embedded %s has sha256 %s, manifest.json says %s", e.URL, e.File, got, e.SHA256)
		}
		if e.Package != "" && packages[e.Package] != e.Version {
			t.Errorf("%s: package %s@%s is not among the manifest's packages", e.URL, e.Package, e.Version)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(b, &doc); err != nil || doc["@context"] == nil {
			t.Errorf("%s: not a JSON-LD context document: %v", e.File, err)
		}
		d, err := Get(e.URL)
		if err != nil || !bytes.Equal(d.JSON, b) || d.SHA256 != e.SHA256 || d.Package != e.Package || d.Version != e.Version {
			t.Errorf("Get(%s) = %+v, %v", e.URL, d, err)
		}
	}
	// Nothing embedded that the manifest does not vouch for.
	err := fs.WalkDir(embedded, "files", func(p string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() && !listed[p] {
			t.Errorf("%s is embedded but not in manifest.json", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := URLs(), len(m.Contexts); len(got) != want {
		t.Errorf("URLs() has %d entries, manifest %d", len(got), want)
	}
}

// TestCredentialsV2IsTheRecommendation pins the credentials v2 context to the
// bytes whose SHA-256 the VC Data Model 2.0 Recommendation publishes, and v1
// to the W3C-served bytes.
func TestCredentialsV2IsTheRecommendation(t *testing.T) {
	d, err := Get("https://www.w3.org/ns/credentials/v2")
	if err != nil {
		t.Fatal(err)
	}
	if got := sum(d.JSON); !strings.HasPrefix(got, "59955ced") || !strings.HasSuffix(got, "2734") ||
		got != "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734" {
		t.Errorf("credentials v2 sha256 = %s, want 59955ced…2734 (VCDM 2.0 REC)", got)
	}
	d, err = Get("https://www.w3.org/2018/credentials/v1")
	if err != nil {
		t.Fatal(err)
	}
	if got := sum(d.JSON); got != "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc" {
		t.Errorf("credentials v1 sha256 = %s", got)
	}
}

func TestURLs(t *testing.T) {
	urls := URLs()
	if !slices.IsSorted(urls) {
		t.Errorf("URLs() not sorted: %v", urls)
	}
	for _, u := range required {
		if !slices.Contains(urls, u) {
			t.Errorf("%s is not pinned", u)
		}
		if b, err := Load(u); err != nil || len(b) == 0 {
			t.Errorf("Load(%s) = %d bytes, %v", u, len(b), err)
		}
	}
}

func TestUnknownContext(t *testing.T) {
	for _, u := range []string{
		"",
		"https://www.w3.org/ns/credentials/v3",
		"http://www.w3.org/ns/credentials/v2",
		"https://www.w3.org/ns/credentials/v2/",
		"https://www.w3.org/ns/credentials/v2#x",
		"HTTPS://WWW.W3.ORG/ns/credentials/v2",
		"https://example.com/context.json",
		"files/credentials-v2.jsonld",
		"manifest.json",
	} {
		if b, err := Load(u); !errors.Is(err, ErrUnknownContext) || b != nil {
			t.Errorf("Load(%q) = %d bytes, %v; want ErrUnknownContext", u, len(b), err)
		}
		if _, err := Get(u); !errors.Is(err, ErrUnknownContext) {
			t.Errorf("Get(%q) = %v; want ErrUnknownContext", u, err)
		}
	}
}

func TestLoadReturnsACopy(t *testing.T) {
	const u = "https://www.w3.org/ns/credentials/v2"
	b, _ := Load(u)
	for i := range b {
		b[i] = 'x'
	}
	again, err := Load(u)
	if err != nil || sum(again) != "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734" {
		t.Errorf("changing Load's result changed the pinned document")
	}
}

// How each pinned context relates to the copy in shared/fixtures/contexts.
const (
	sameBytes = "byte-equal"
	sameJSON  = "JSON-equal"        // whitespace or member order differ
	newer     = "newer upstream"    // explained in TestSharedFixtures
	noFixture = "no shared fixture" // nothing to compare with
)

var fixtureRelation = map[string]string{
	"https://www.w3.org/2018/credentials/v1":                     sameBytes,
	"https://www.w3.org/ns/credentials/v2":                       sameBytes,
	"https://www.w3.org/ns/credentials/undefined-terms/v2":       sameBytes,
	"https://www.w3.org/ns/credentials/examples/v2":              sameBytes,
	"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": sameBytes,
	"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": sameBytes,
	"https://purl.imsglobal.org/spec/ob/v3p0/extensions.json":    sameBytes,
	"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": sameJSON,
	"https://w3id.org/security/data-integrity/v2":                sameJSON,
	"https://w3id.org/security/multikey/v1":                      sameJSON,
	"https://www.w3.org/ns/credentials/status/v1":                sameJSON,
	"https://w3id.org/security/suites/ed25519-2020/v1":           newer,
	"https://purl.imsglobal.org/spec/ob/v3p0/context.json":       noFixture,
}

// notPinned are fixtures contexts credanchor does not accept: Blockcerts and
// the citizenship vocabulary are not among the credentials it verifies.
var notPinned = []string{
	"https://w3id.org/blockcerts/v3",
	"https://w3id.org/citizenship/v4rc1",
}

// TestSharedFixtures compares each pinned context with the copy in the
// project's shared fixtures (taken from the specifications' repositories).
func TestSharedFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "fixtures", "contexts")
	var fixtures map[string]string
	b, err := os.ReadFile(filepath.Join(dir, "urls.json"))
	if err != nil {
		t.Fatalf("shared fixtures: %v (the tests expect shared/ beside the repository)", err)
	}
	if err := json.Unmarshal(b, &fixtures); err != nil {
		t.Fatal(err)
	}
	for u := range fixtures {
		if _, ok := fixtureRelation[u]; !ok && !slices.Contains(notPinned, u) {
			t.Errorf("fixture context %s is neither pinned nor listed as not pinned", u)
		}
	}
	for _, u := range URLs() {
		rel, ok := fixtureRelation[u]
		if !ok {
			t.Errorf("%s: relation to the shared fixture not stated", u)
			continue
		}
		mine, _ := Load(u)
		file, ok := fixtures[u]
		if rel == noFixture {
			if ok {
				t.Errorf("%s: a fixture exists now (%s); compare it", u, file)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: no fixture", u)
			continue
		}
		theirs, err := os.ReadFile(filepath.Join(dir, path.Clean(file)))
		if err != nil {
			t.Fatal(err)
		}
		switch rel {
		case sameBytes:
			if !bytes.Equal(mine, theirs) {
				t.Errorf("%s: differs from the fixture %s byte for byte", u, file)
			}
		case sameJSON:
			if bytes.Equal(mine, theirs) {
				t.Errorf("%s: now byte-equal to the fixture; update fixtureRelation", u)
			}
			if !jsonEqual(t, mine, theirs) {
				t.Errorf("%s: not JSON-equal to the fixture %s", u, file)
			}
		case newer:
			checkEd25519Newer(t, mine, theirs)
		}
	}
}

// checkEd25519Newer explains the one real difference. The fixture is the copy
// of the Ed25519Signature2020 context kept in w3c/vc-di-eddsa, an earlier
// draft; the npm package (1.1.0, the context the Digital Bazaar and DCC
// libraries that signed the verifier-core credentials load) adds @protected to
// the scoped contexts, the "proof", "controller", "revoked" and "expires"
// terms and the capability/keyAgreement proof purposes, and drops the
// draft's "signature" alias of proofValue. Every term the draft defines for
// proofs, except that alias, must expand identically in both, so a proof
// over either canonicalises the same. The one other change is that 1.1.0
// types a key's publicKeyMultibase as sec:multibase; that only matters when
// a key document itself is canonicalised, which credanchor never does (it
// reads keys from DID documents as JSON, package did).
func checkEd25519Newer(t *testing.T, mine, theirs []byte) {
	t.Helper()
	if jsonEqual(t, mine, theirs) {
		t.Errorf("ed25519-2020 v1 is now JSON-equal to the fixture; update fixtureRelation")
	}
	scoped := func(b []byte, typ string) map[string]any {
		var doc struct {
			Context map[string]any `json:"@context"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		_, _, scoped := termDef(doc.Context[typ])
		return scoped
	}
	for _, typ := range []string{"Ed25519Signature2020", "Ed25519VerificationKey2020"} {
		a, b := scoped(mine, typ), scoped(theirs, typ)
		if a == nil || b == nil {
			t.Fatalf("%s: no scoped context", typ)
		}
		sameExpansion(t, typ, a, b)
	}
}

// sameExpansion checks that every term theirs defines (but the dropped
// "signature" alias) has the same IRI and type in mine, recursing into
// scoped contexts; mine may define more terms.
func sameExpansion(t *testing.T, where string, mine, theirs map[string]any) {
	t.Helper()
	for term, def := range theirs {
		if term == "signature" || strings.HasPrefix(term, "@") {
			continue
		}
		if where+"."+term == "Ed25519VerificationKey2020.publicKeyMultibase" {
			if id, _, _ := termDef(mine[term]); id != "https://w3id.org/security#publicKeyMultibase" {
				t.Errorf("%s.%s: pinned %v", where, term, mine[term])
			}
			continue
		}
		id, typ, nested := termDef(theirs[term])
		mid, mtyp, mnested := termDef(mine[term])
		if id != mid || typ != mtyp {
			t.Errorf("%s.%s: pinned %v, fixture %v", where, term, mine[term], def)
		}
		if nested != nil {
			if mnested == nil {
				t.Errorf("%s.%s: pinned has no scoped context", where, term)
				continue
			}
			sameExpansion(t, where+"."+term, mnested, nested)
		}
	}
}

// termDef returns what decides a term's expansion: its IRI, its type and its
// scoped context.
func termDef(def any) (id, typ any, scoped map[string]any) {
	switch d := def.(type) {
	case string:
		return d, nil, nil
	case map[string]any:
		scoped, _ = d["@context"].(map[string]any)
		return d["@id"], d["@type"], scoped
	}
	return def, nil, nil
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
