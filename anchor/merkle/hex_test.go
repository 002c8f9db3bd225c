package merkle

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const (
	lowerHex = "00ff10a0b1c2d3e4f5061728394a5b6c7d8e9fabcdef0123456789abcdef0199"
	upperHex = "00FF10A0B1C2D3E4F5061728394A5B6C7D8E9FABCDEF0123456789ABCDEF0199"
)

var lowerHash = Hash{
	0x00, 0xff, 0x10, 0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5, 0x06, 0x17, 0x28, 0x39, 0x4a, 0x5b, 0x6c,
	0x7d, 0x8e, 0x9f, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x99,
}

func TestParseHash(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    Hash
		wantErr bool
	}{
		{"0x lower", "0x" + lowerHex, lowerHash, false},
		{"0X upper", "0X" + upperHex, lowerHash, false},
		{"0x upper", "0x" + upperHex, lowerHash, false},
		{"bare lower", lowerHex, lowerHash, false},
		{"bare upper", upperHex, lowerHash, false},
		{"mixed case", lowerHex[:32] + upperHex[32:], lowerHash, false},
		{"empty", "", Hash{}, true},
		{"prefix only", "0x", Hash{}, true},
		{"63 digits", "0x" + lowerHex[1:], Hash{}, true},
		{"65 digits", "0x" + lowerHex + "0", Hash{}, true},
		{"double prefix", "0x0x" + lowerHex[4:], Hash{}, true},
		{"non-hex", "0x" + strings.Repeat("zz", 32), Hash{}, true},
		{"leading space", " 0x" + lowerHex, Hash{}, true},
		{"trailing newline", lowerHex + "\n", Hash{}, true},
		{"x without 0", "x" + lowerHex, Hash{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseHash(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidHash) {
					t.Errorf("ParseHash(%q) = %s, %v, want ErrInvalidHash", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseHash(%q) = %s, %v, want %s, nil", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestHashText(t *testing.T) {
	if got, want := lowerHash.String(), "0x"+lowerHex; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	b, err := lowerHash.MarshalText()
	if err != nil || string(b) != "0x"+lowerHex {
		t.Errorf("MarshalText() = %q, %v, want %q, nil", b, err, "0x"+lowerHex)
	}

	type receiptPart struct {
		Root Hash   `json:"root"`
		Path []Hash `json:"path"`
	}
	in := receiptPart{Root: lowerHash, Path: []Hash{{}, lowerHash}}
	js, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"root":"0x` + lowerHex + `","path":["0x` + strings.Repeat("0", 64) + `","0x` + lowerHex + `"]}`
	if got := string(js); got != wantJSON {
		t.Errorf("json.Marshal = %s, want %s", got, wantJSON)
	}
	var out receiptPart
	if err := json.Unmarshal(js, &out); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	if out.Root != in.Root || !equalProofs(out.Path, in.Path) {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}

	for _, bad := range []string{`{"root":"0x12"}`, `{"root":12}`, `{"path":["0x` + lowerHex + `","nope"]}`} {
		var r receiptPart
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("json.Unmarshal(%s) succeeded, want error", bad)
		}
	}
}

func TestParseProof(t *testing.T) {
	p := []Hash{lowerHash, {1}, {}}
	path := FormatProof(p)
	if got, want := path[0], "0x"+lowerHex; got != want {
		t.Errorf("FormatProof()[0] = %q, want %q", got, want)
	}
	got, err := ParseProof(path)
	if err != nil || !equalProofs(got, p) {
		t.Errorf("ParseProof(FormatProof(p)) = %v, %v, want %v, nil", got, err, p)
	}
	if got, err := ParseProof(nil); err != nil || len(got) != 0 {
		t.Errorf("ParseProof(nil) = %v, %v, want [], nil", got, err)
	}

	for _, tc := range []struct {
		name    string
		in      []string
		wantErr error
		wantMsg string
	}{
		{"bad element", []string{lowerHex, "0x12"}, ErrInvalidHash, "path[1]: merkle: invalid hash: got 2 hex digits, want 64"},
		{"too long", make([]string, 65), ErrProofLength, "merkle: wrong proof length: got 65 hashes, want at most 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProof(tc.in)
			if !errors.Is(err, tc.wantErr) || got != nil {
				t.Fatalf("ParseProof = %v, %v, want nil, %v", got, err, tc.wantErr)
			}
			if err.Error() != tc.wantMsg {
				t.Errorf("error = %q, want %q", err, tc.wantMsg)
			}
		})
	}
}
