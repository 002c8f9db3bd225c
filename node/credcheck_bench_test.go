package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/did"
	"github.com/credanchor/credanchor/node/vcjwt"
)

// benchOB3 is the Open Badges 3.0 specification's example credential,
// unsigned; the benchmark's issuer DID replaces ISSUER and a serial number
// SERIAL.
const benchOB3 = `{
  "@context": [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
  ],
  "id": "http://example.com/credentials/SERIAL",
  "type": ["VerifiableCredential", "OpenBadgeCredential"],
  "issuer": {"id": "ISSUER", "type": ["Profile"], "name": "Example Corp"},
  "validFrom": "2010-01-01T00:00:00Z",
  "name": "Teamwork Badge",
  "credentialSubject": {
    "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
    "type": ["AchievementSubject"],
    "achievement": {
      "id": "https://example.com/achievements/21st-century-skills/teamwork",
      "type": ["Achievement"],
      "criteria": {
        "narrative": "Team members are nominated for this badge by their peers and recognized upon review by Example Corp management."
      },
      "description": "This badge recognizes the development of the capacity to collaborate within a group environment.",
      "name": "Teamwork"
    }
  }
}`

// BenchmarkCheckCredential measures the off-chain part of /v1/verify on an
// Open Badges 3.0 credential of a did:key issuer: the digest, then
// checkCredential's structure (with the Open Badges rules), proof, issuer
// and validity checks. The goals, on one core (-cpu 1):
// eddsa-jcs-2022 >= 15,000/s, eddsa-rdfc-2022 >= 5,000/s.
func BenchmarkCheckCredential(b *testing.B) {
	seed := sha256.Sum256([]byte("credanchor benchmark issuer"))
	id, err := NewDIDKeyIssuer(ed25519.NewKeyFromSeed(seed[:]), "Example Corp")
	if err != nil {
		b.Fatal(err)
	}
	keys, err := NewDIDKeys(did.WebConfig{})
	if err != nil {
		b.Fatal(err)
	}
	// The checks see a different credential each time, as a verifier
	// does: more credentials than any cache of recent documents holds.
	const distinct = 64
	unsigned := make([][]byte, distinct)
	for i := range unsigned {
		unsigned[i] = []byte(strings.NewReplacer("ISSUER", id.DID, "SERIAL", strconv.Itoa(3527+i)).Replace(benchOB3))
	}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := created.Add(time.Hour)
	di := func(sign func([]byte, ed25519.PrivateKey, dataintegrity.Options) ([]byte, error)) func([]byte) ([]byte, error) {
		return func(doc []byte) ([]byte, error) {
			return sign(doc, id.Key, dataintegrity.Options{VerificationMethod: id.VerificationMethod, Created: created})
		}
	}
	for _, bc := range []struct {
		name string
		form credential.Form
		sign func([]byte) ([]byte, error)
	}{
		{"jcs-OB3", credential.FormJSON, di(dataintegrity.SignJCS)},
		{"rdfc-OB3", credential.FormJSON, di(dataintegrity.SignRDFC)},
		{"jwt-OB3", credential.FormJWT, func(doc []byte) ([]byte, error) {
			tok, err := vcjwt.Sign(doc, id.Key, id.VerificationMethod)
			return []byte(tok), err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			creds := make([][]byte, distinct)
			for i := range creds {
				var err error
				if creds[i], err = bc.sign(unsigned[i]); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			check := func(data []byte) {
				if _, err := credential.Digest(data, bc.form); err != nil {
					b.Fatal(err)
				}
				s := checkCredential(ctx, keys, data, bc.form, now)
				if len(s.checks) != 4 || s.signer != id.DID {
					b.Fatalf("checks %+v, signer %q", s.checks, s.signer)
				}
				for _, c := range s.checks {
					if !c.OK {
						b.Fatalf("check %s failed: %s", c.Check, c.Detail)
					}
				}
			}
			for _, data := range creds {
				check(data)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				check(creds[i%distinct])
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
		})
	}
}
