package did

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzParseDID checks that DID and DID URL parsing never panics, that what
// parses prints back to its input, and that a did:web that parses maps to an
// https URL or a sentinel error.
func FuzzParseDID(f *testing.F) {
	for _, s := range []string{
		"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
		"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
		"did:web:example.com:user:alice",
		"did:web:localhost%3A8443",
		"did:web:example.com/path?query=1#frag",
		"did:web:example.com:%2E%2E",
		"did:example:a::b",
		"did:", "did::", "did:a:%", "did:a:%4", ":", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err == nil {
			if d.String() != s {
				t.Fatalf("Parse(%q).String() = %q", s, d.String())
			}
		} else if !errors.Is(err, ErrInvalidDID) {
			t.Fatalf("Parse(%q): %v is not ErrInvalidDID", s, err)
		}
		u, uerr := ParseURL(s)
		if uerr == nil {
			if u.String() != s {
				t.Fatalf("ParseURL(%q).String() = %q", s, u.String())
			}
			if (err == nil) != (u.Path == "" && u.Query == "" && u.Fragment == "") {
				t.Fatalf("Parse and ParseURL disagree on %q: %v, %+v", s, err, u)
			}
		} else if !errors.Is(uerr, ErrInvalidDID) {
			t.Fatalf("ParseURL(%q): %v is not ErrInvalidDID", s, uerr)
		} else if err == nil {
			t.Fatalf("ParseURL refused the DID %q that Parse accepted: %v", s, uerr)
		}
		if w, werr := WebURL(s); werr == nil {
			if !strings.HasPrefix(w, "https://") || (!strings.HasSuffix(w, "/did.json")) || strings.Contains(w, "/../") || strings.Contains(w, "/./") {
				t.Fatalf("WebURL(%q) = %q", s, w)
			}
		} else if !errors.Is(werr, ErrInvalidDID) && !errors.Is(werr, ErrUnsupportedMethod) {
			t.Fatalf("WebURL(%q): %v", s, werr)
		}
		if pub, kerr := ParseDIDKey(s); kerr == nil {
			if NewDIDKey(pub) != s {
				t.Fatalf("ParseDIDKey(%q) round trips to %q", s, NewDIDKey(pub))
			}
		}
	})
}

// FuzzDecodeMultikey checks that decoding never panics, returns a key only
// without an error and then one that encodes back to the input (one key,
// one spelling), and classifies every failure with a sentinel.
func FuzzDecodeMultikey(f *testing.F) {
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	for _, s := range []string{
		EncodeMultikeyEd25519(pub),
		"z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
		"z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",
		"zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
		"z", "z1", "z11111111", "u7QE", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := DecodeMultikey(s)
		if err != nil {
			if k != nil {
				t.Fatalf("DecodeMultikey(%q) returned a key and %v", s, err)
			}
			if !errors.Is(err, ErrInvalidKey) && !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("DecodeMultikey(%q): %v has no sentinel", s, err)
			}
		} else if len(k) != ed25519.PublicKeySize || EncodeMultikeyEd25519(k) != s {
			t.Fatalf("DecodeMultikey(%q) = %x, which encodes as %q", s, k, EncodeMultikeyEd25519(k))
		}
		sk, err := DecodeMultikeySecretEd25519(s)
		if err == nil && EncodeMultikeySecretEd25519(sk) != s {
			t.Fatalf("DecodeMultikeySecretEd25519(%q) round trips to %q", s, EncodeMultikeySecretEd25519(sk))
		}
	})
}

// FuzzParseDocument checks that any input either fails with
// ErrInvalidDocument or gives a document whose every method can be looked up
// and asked for its key without a panic.
func FuzzParseDocument(f *testing.F) {
	f.Add([]byte(multikeyDocument("did:web:example.com")))
	doc, _ := NewKeyDocument("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "")
	f.Add(mustJSON(doc))
	f.Add([]byte(`{"id":"did:web:a","verificationMethod":[{"id":"#k","type":"JsonWebKey","controller":"did:web:a","publicKeyJwk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}],"assertionMethod":["#k",{"id":"#e","type":"Multikey","controller":"did:web:a","publicKeyMultibase":"z6Mk"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("ParseDocument: %v is not ErrInvalidDocument", err)
			}
			return
		}
		for _, rel := range relationships {
			for _, id := range d.Relationship(rel) {
				if vm, err := d.VerificationMethod(id, rel); err == nil {
					_, _ = vm.PublicKey()
				}
			}
		}
		again, err := ParseDocument(mustJSON(d))
		if err != nil {
			t.Fatalf("re-parsing a marshalled document: %v", err)
		}
		if !bytes.Equal(mustJSON(again), mustJSON(d)) {
			t.Fatalf("marshal/parse round trip changed the document")
		}
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // test helper: only marshals values this package built
	}
	return b
}
