package statuslist

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

type subject struct {
	CredentialSubject struct {
		EncodedList   string `json:"encodedList"`
		StatusPurpose string `json:"statusPurpose"`
	} `json:"credentialSubject"`
}

func TestSpecExample(t *testing.T) {
	var ex struct {
		StatusListCredential     subject `json:"statusListCredential"`
		CredentialWithTwoEntries struct {
			CredentialStatus json.RawMessage `json:"credentialStatus"`
		} `json:"credentialWithTwoEntries"`
	}
	readJSON(t, "spec-examples.json", &ex)
	l, err := Decode(ex.StatusListCredential.CredentialSubject.EncodedList, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 131072 || !l.Equal(New(131072)) {
		t.Fatalf("spec example: %d bits, want 131072 zero bits", l.Len())
	}
	entries, err := ParseEntries(ex.CredentialWithTwoEntries.CredentialStatus)
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries = %+v, %v", entries, err)
	}
	i, _ := entries[0].Index()
	if got, err := l.Get(i); err != nil || got || entries[0].StatusPurpose != "revocation" || i != 94567 {
		t.Fatalf("entry 0: index %d status %v %v purpose %s; want 94567, not set, revocation", i, got, err, entries[0].StatusPurpose)
	}
	if entries[1].StatusPurpose != "suspension" {
		t.Errorf("entry 1 purpose %q", entries[1].StatusPurpose)
	}
}

func TestDCCList(t *testing.T) {
	var s subject
	readJSON(t, "dcc-status-list.json", &s)
	enc := s.CredentialSubject.EncodedList
	if _, err := Decode(enc, DecodeOptions{}); !errors.Is(err, ErrLength) {
		t.Fatalf("a 100,000-bit list under the spec minimum: got %v, want ErrLength", err)
	}
	l, err := Decode(enc, DecodeOptions{MinBits: 8})
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 100000 {
		t.Fatalf("length %d, want 100000", l.Len())
	}
	for i := range uint64(16) {
		want := i == 2 || i == 6 || i == 8
		if got, _ := l.Get(i); got != want {
			t.Errorf("bit %d = %v, want %v", i, got, want)
		}
	}
	if _, err := l.Get(100000); !errors.Is(err, ErrRange) {
		t.Errorf("Get past the end: got %v, want ErrRange", err)
	}
}

func TestRoundTripComparesBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := New(DefaultMinBits)
	for range 500 {
		if err := l.Set(rng.Uint64N(l.Len()), true); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "u") || strings.ContainsAny(enc, "+/=") {
		t.Fatalf("encoding %q… is not base64url multibase", enc[:20])
	}
	back, err := Decode(enc, DecodeOptions{})
	if err != nil || !back.Equal(l) {
		t.Fatalf("round trip lost bits: %v", err)
	}
	if err := back.Set(3, !mustGet(t, back, 3)); err != nil {
		t.Fatal(err)
	}
	if back.Equal(l) {
		t.Fatal("lists with a different bit compare equal")
	}
	if err := l.Set(l.Len(), true); !errors.Is(err, ErrRange) {
		t.Errorf("Set past the end: got %v, want ErrRange", err)
	}
}

func mustGet(t *testing.T, l *List, i uint64) bool {
	t.Helper()
	v, err := l.Get(i)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDecodeRefuses(t *testing.T) {
	big := New(DefaultMaxBits + 8)
	bomb, err := big.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, enc string
		want      error
	}{
		{"empty", "", ErrMalformed},
		{"no multibase prefix", "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA", ErrMalformed},
		{"base58 prefix", "zabc", ErrMalformed},
		{"not base64url", "u$$$", ErrMalformed},
		{"not gzip", "uAAAA", ErrMalformed},
		{"over the maximum (a gzip bomb)", bomb, ErrLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.enc, DecodeOptions{}); !errors.Is(err, tc.want) {
				t.Fatalf("Decode: got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := ParseEntries(json.RawMessage(`{"type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"-1","statusListCredential":"https://x"}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("negative index: got %v", err)
	}
	if es, err := ParseEntries(json.RawMessage(`[{"type":"StatusList2021Entry"}]`)); err != nil || len(es) != 0 {
		t.Errorf("other entry types are left out: %v, %v", es, err)
	}
}

func FuzzDecode(f *testing.F) {
	var s subject
	readJSON(f, "dcc-status-list.json", &s)
	f.Add(s.CredentialSubject.EncodedList)
	f.Add("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
	f.Add("u")
	f.Fuzz(func(t *testing.T, enc string) {
		l, err := Decode(enc, DecodeOptions{MinBits: 8, MaxBits: 1 << 20})
		if err != nil {
			return
		}
		again, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(again, DecodeOptions{MinBits: 8, MaxBits: 1 << 20})
		if err != nil || !back.Equal(l) {
			t.Fatalf("re-encoding changed the bits: %v", err)
		}
	})
}

func BenchmarkStatusCheck(b *testing.B) {
	var s subject
	readJSON(b, "dcc-status-list.json", &s)
	l, err := Decode(s.CredentialSubject.EncodedList, DecodeOptions{MinBits: 8})
	if err != nil {
		b.Fatal(err)
	}
	var i uint64
	for b.Loop() {
		if _, err := l.Get(i % l.Len()); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
