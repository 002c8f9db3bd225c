package vc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOpenBadgeDCC: every badge of the DCC fixtures passes Check and
// CheckOpenBadge; the status list credential is a credential but no badge.
func TestOpenBadgeDCC(t *testing.T) {
	files, err := filepath.Glob("testdata/dcc/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	badges := 0
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ParseCredential(data)
			if err != nil {
				t.Fatal(err)
			}
			if ps := c.Check(CheckOptions{}); len(ps) != 0 {
				t.Errorf("Check: %v", ps)
			}
			if strings.HasPrefix(name, "status-") {
				if c.IsOpenBadge() {
					t.Error("status list credential reported as an Open Badge")
				}
				if ps := c.CheckOpenBadge(); len(ps) == 0 {
					t.Error("CheckOpenBadge accepted a status list credential")
				}
				return
			}
			if !c.IsOpenBadge() {
				t.Fatal("IsOpenBadge = false")
			}
			badges++
			if ps := c.CheckOpenBadge(); len(ps) != 0 {
				t.Errorf("CheckOpenBadge: %v", ps)
			}
			// The fixtures named *Expired* are past their end date.
			ps := c.CheckValidity(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			if got, want := hasKindAny(ps, KindExpired), strings.Contains(name, "Expired"); got != want {
				t.Errorf("CheckValidity expired = %v, want %v (%v)", got, want, ps)
			}
		})
	}
	if badges != 24 {
		t.Errorf("checked %d badges, want 24", badges)
	}
}

// TestOpenBadgeSpecExamples reads the typed fields of the OB 3.0 spec
// example in both data model versions.
func TestOpenBadgeSpecExamples(t *testing.T) {
	for _, tt := range []struct {
		file string
		ver  Version
	}{
		{"v1OBv3SpecExample.json", Version1},
		{"v2OBv3SpecExample.json", Version2},
	} {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/dcc", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			c, err := ParseCredential(data)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Version(); got != tt.ver {
				t.Errorf("Version = %v, want %v", got, tt.ver)
			}
			iss, err := c.Issuer()
			if err != nil || iss.ID != "did:key:z6MknNQD1WHLGGraFi6zcbGevuAgkVfdyCdtZnQTGWVVvR5Q" || iss.Name() != "Example Corp" {
				t.Errorf("Issuer = %+v, %v", iss, err)
			}
			want := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
			var got time.Time
			if tt.ver == Version1 {
				got, err = c.IssuanceDate()
				if _, err := c.ValidFrom(); !errors.Is(err, ErrNotFound) {
					t.Errorf("ValidFrom err = %v, want ErrNotFound", err)
				}
			} else {
				got, err = c.ValidFrom()
			}
			if err != nil || !got.Equal(want) {
				t.Errorf("date = %v, %v; want %v", got, err, want)
			}
			if c.ID() != "http://example.com/credentials/3527" || len(c.Contexts()) < 2 {
				t.Errorf("ID = %q, contexts %v", c.ID(), c.Contexts())
			}
			if s := c.CredentialSubject(); len(s) != 1 || s[0]["id"] != "did:example:ebfeb1f712ebc6f1c276e12ec21" {
				t.Errorf("CredentialSubject = %v", s)
			}
			if p := c.Proof(); len(p) != 1 || p[0]["cryptosuite"] != "eddsa-rdfc-2022" {
				t.Errorf("Proof = %v", p)
			}
		})
	}
}

// TestOpenBadgeProbes breaks one OB requirement at a time in the 2.0 spec
// example.
func TestOpenBadgeProbes(t *testing.T) {
	base, err := os.ReadFile("testdata/dcc/v2OBv3SpecExample.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new, path string
	}{
		{"no OB context", `"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"`, `"https://example.org/ctx"`, "/@context"},
		{"subject type", `"AchievementSubject"`, `"Person"`, "/credentialSubject/type"},
		{"achievement type", `"Achievement"
      ]`, `"Badge"
      ]`, "/credentialSubject/achievement/type"},
		{"achievement name", `"name": "Teamwork"`, `"title": "Teamwork"`, "/credentialSubject/achievement/name"},
		{"criteria", `"narrative": "Team`, `"text": "Team`, "/credentialSubject/achievement/criteria"},
		{"profile type", `"Profile"`, `"Organization"`, "/issuer/type"},
		{"profile name", `"name": "Example Corp"`, `"label": "Example Corp"`, "/issuer/name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := string(base)
			if !strings.Contains(s, tt.old) {
				t.Fatalf("probe text %q not in the example", tt.old)
			}
			c, err := ParseCredential([]byte(strings.Replace(s, tt.old, tt.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if ps := c.CheckOpenBadge(); !hasKind(ps, KindOpenBadge, tt.path) {
				t.Errorf("got %v, want an open-badge problem at %s", ps, tt.path)
			}
		})
	}
}

func hasKindAny(ps []Problem, kind string) bool {
	for _, p := range ps {
		if p.Kind == kind {
			return true
		}
	}
	return false
}
