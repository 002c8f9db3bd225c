package vcjwt

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestParseEnvelope(t *testing.T) {
	tok := mustSign(t, sampleVC, edKey, edKid)
	for _, tc := range []struct {
		name string
		id   string
		want error
	}{
		{"vc+jwt", "data:application/vc+jwt," + tok, nil},
		{"vp+jwt", "data:application/vp+jwt," + tok, nil},
		{"vc-ld+jwt (W3C suite)", "data:application/vc-ld+jwt," + tok, nil},
		{"vc+ld+jwt (draft)", "data:application/vc+ld+jwt," + tok, nil},
		{";base64url (W3C suite)", "data:application/vc-ld+jwt;base64url," + tok, nil},
		{";base64", "data:application/vc+jwt;base64," + base64.StdEncoding.EncodeToString([]byte(tok)), nil},
		{"case-insensitive scheme and type", "DATA:Application/VC+JWT," + tok, nil},
		{"not data URL", "https://example.com/vc/1", ErrEnvelope},
		{"no comma", "data:application/vc+jwt", ErrEnvelope},
		{"other media type", "data:application/json," + tok, ErrEnvelope},
		{"no media type", "data:," + tok, ErrEnvelope},
		{"cose", "data:application/vc+cose," + tok, ErrEnvelope},
		{"unknown parameter", "data:application/vc+jwt;charset=utf-8," + tok, ErrEnvelope},
		{"bad base64", "data:application/vc+jwt;base64,!!!", ErrEnvelope},
		{"percent-encoded", "data:application/vc+jwt," + strings.Replace(tok, ".", "%2E", 1), ErrEnvelope},
		{"padding", "data:application/vc+jwt," + tok + "=", ErrEnvelope},
		{"two segments", "data:application/vc+jwt,a.b", ErrEnvelope},
		{"empty", "", ErrEnvelope},
		{"too large", "data:application/vc+jwt," + strings.Repeat("a", MaxTokenSize/3*4+200), ErrTooLarge},
		{"too large after base64", "data:application/vc+jwt;base64," + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", MaxTokenSize+3))), ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEnvelope(tc.id)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil && got != tok {
				t.Errorf("token = %q, want %q", got, tok)
			}
			if err != nil && Code(err) == "" {
				t.Errorf("no code for %v", err)
			}
		})
	}
}
