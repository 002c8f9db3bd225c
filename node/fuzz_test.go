package node

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/did"
)

// FuzzPresentedParts: whatever a presentation holds, reading its
// credentials, receipts and status lists never panics.
func FuzzPresentedParts(f *testing.F) {
	f.Add([]byte(`{"verifiableCredential":[{"a":1},{"type":"EnvelopedVerifiableCredential","id":"data:application/vc+jwt,x.y.z"}],"credanchorReceipts":[],"credanchorStatusLists":[{"id":"https://x/1"}]}`))
	f.Add([]byte(`{"verifiableCredential":{"@context":[]},"credanchorReceipts":[{"type":"CredanchorReceipt"}]}`))
	f.Add([]byte(`{"credanchorStatusLists":[{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		creds, receipts, lists, err := presentedParts(data)
		if err != nil {
			return
		}
		for _, c := range creds {
			if c.err == nil {
				subjectIDs(c.data, c.form)
				achievementOf(c.data, c.form)
				evidenceDigests(c.data, c.form)
			}
		}
		_, _ = receipts, lists
	})
}

// FuzzStatusListParse: a fetched status list credential, however hostile,
// is refused or read, never a panic, and bounded by the decoder's limits.
func FuzzStatusListParse(f *testing.F) {
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential","BitstringStatusListCredential"],"issuer":"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK","validFrom":"2026-01-01T00:00:00Z","credentialSubject":{"type":"BitstringStatusList","statusPurpose":"revocation","encodedList":"uH4sIAAAAAAAAA-3BMQEAAAwCoGUx6aLbwgvIHwAAAAAAAAAAAAAAwFwBZnztF9QwAAA","ttl":1000},"proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-2022","verificationMethod":"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK","proofPurpose":"assertionMethod","proofValue":"z1"}}`))
	f.Add([]byte(`eyJhbGciOiJFZERTQSJ9.e30.AA`))
	sc, err := NewStatusChecker(StatusConfig{MinBits: 8})
	if err != nil {
		f.Fatal(err)
	}
	keys := &DIDKeys{Resolver: did.KeyResolver{}}
	f.Fuzz(func(t *testing.T, data []byte) {
		form := credential.FormJSON
		if len(data) > 0 && data[0] != '{' {
			form = credential.FormJWT
		}
		_, _ = sc.parse(t.Context(), keys, data, form, time.Now())
		_, _, _, _ = statusEntries(data, form)
	})
}

// FuzzChallenge: no string is taken for a challenge this node issued but
// one it did issue.
func FuzzChallenge(f *testing.F) {
	c, err := NewChallenges(time.Minute)
	if err != nil {
		f.Fatal(err)
	}
	ch, _, err := c.New(time.Now())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ch)
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		if s == ch {
			return
		}
		if err := c.Use(s, time.Now()); err == nil {
			t.Fatalf("Use(%q) accepted a challenge this node never issued", s)
		}
	})
}

// FuzzPathwayCheck: any definition is accepted or refused, never a panic.
func FuzzPathwayCheck(f *testing.F) {
	f.Add([]byte(`{"id":"x","achievement":{"id":"https://a/1","type":["Achievement"],"name":"n","description":"d","criteria":{}},"requirement":{"kind":"kOf","k":1,"components":[{"achievementId":"https://a/2"}]}}`))
	f.Add([]byte(`{"requirement":{"kind":"allOf","components":[{"achievementId":""}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Pathway
		if json.Unmarshal(data, &p) != nil {
			return
		}
		_ = p.check()
	})
}
