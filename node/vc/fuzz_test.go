package vc

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// addSeeds adds every suite input and DCC fixture to the corpus.
func addSeeds(f *testing.F) {
	for _, pat := range []string{"testdata/vcdm2/input/*.json", "testdata/vcdm2/input/*/*.json", "testdata/dcc/*.json"} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`{"a":{"a":{"a":[[[[]]]]}}}`))
	f.Add([]byte(`{"validFrom":"2023-12-31T24:00:00+14:00"}`))
}

// fuzzNow is in the middle of the fixtures' validity periods.
var fuzzNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// FuzzParseCredential: parsing and every check and accessor must return,
// never panic, on any input.
func FuzzParseCredential(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCredential(data)
		if err != nil {
			return
		}
		for _, opts := range []CheckOptions{{}, {Template: true, Now: fuzzNow}} {
			for _, p := range c.Check(opts) {
				if p.Code == "" || p.Kind == "" || p.Error() == "" {
					t.Fatalf("incomplete problem %#v", p)
				}
			}
		}
		c.CheckOpenBadge()
		c.IsOpenBadge()
		c.Contexts()
		c.Types()
		c.ID()
		c.Version()
		if iss, err := c.Issuer(); err == nil {
			iss.Name()
		}
		c.ValidFrom()
		c.ValidUntil()
		c.IssuanceDate()
		c.ExpirationDate()
		c.CredentialSubject()
		c.CredentialStatus()
		c.CredentialSchema()
		c.Evidence()
		c.TermsOfUse()
		c.RefreshService()
		c.Proof()
	})
}

// FuzzParsePresentation: as FuzzParseCredential, for presentations.
func FuzzParsePresentation(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePresentation(data)
		if err != nil {
			return
		}
		for _, opts := range []CheckOptions{{}, {Template: true, Now: fuzzNow}} {
			for _, q := range p.Check(opts) {
				if q.Code == "" || q.Kind == "" || q.Error() == "" {
					t.Fatalf("incomplete problem %#v", q)
				}
			}
		}
		p.Holder()
		p.Types()
		p.Contexts()
		p.ID()
		p.Proof()
		p.EnvelopedCredentials()
		for _, c := range p.Credentials() {
			c.Check(CheckOptions{})
			c.CheckOpenBadge()
		}
	})
}

// FuzzParseDateTimeStamp: the parser never panics, and what it accepts
// round-trips through RFC 3339 for four-digit years.
func FuzzParseDateTimeStamp(f *testing.F) {
	for _, s := range []string{"2023-02-25T19:10:39-06:00", "2023-02-26T01:02:58.447Z", "2023-12-31T24:00:00Z", "-0044-03-15T12:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDateTimeStamp(s)
		if err != nil {
			return
		}
		if y := got.UTC().Year(); y >= 1 && y <= 9999 {
			back, err := time.Parse(time.RFC3339Nano, got.UTC().Format(time.RFC3339Nano))
			if err != nil || !back.Equal(got) {
				t.Fatalf("%q → %v does not round-trip: %v", s, got, err)
			}
		}
	})
}

// FuzzIsIRIRef: the shortcut urlParses answers as url.Parse does.
func FuzzIsIRIRef(f *testing.F) {
	for _, s := range []string{"did:key:z6Mk#z6Mk", "urn:uuid:1?x", "did:web:a%3A8443", "did:web:a%zz", "https://a.example:x/", "http://[::1", "a:b#%", "x:/%", "term", "ex:b c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := isIRIRef(s)
		want := s != "" && !strings.ContainsFunc(s, func(r rune) bool {
			return r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || strings.ContainsRune("<>\"{}|\\^`", r)
		})
		if i := strings.IndexByte(s, ':'); want && i > 0 && isScheme(s[:i]) {
			_, err := url.Parse(s)
			want = err == nil
		}
		if got != want {
			t.Fatalf("isIRIRef(%q) = %v, want %v", s, got, want)
		}
	})
}
