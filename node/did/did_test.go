package did

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in           string
		method, id   string
		wantErr      bool
		wantErrMatch string
	}{
		{in: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", method: "key", id: "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"},
		{in: "did:web:example.com", method: "web", id: "example.com"},
		{in: "did:web:example.com:user:alice", method: "web", id: "example.com:user:alice"},
		{in: "did:web:localhost%3A8443", method: "web", id: "localhost%3A8443"},
		{in: "did:example:123456789abcdefghi", method: "example", id: "123456789abcdefghi"},
		{in: "did:a1:a::b", method: "a1", id: "a::b"},
		{in: "did:x:_-.", method: "x", id: "_-."},
		{in: "", wantErr: true, wantErrMatch: `"did:"`},
		{in: "did:", wantErr: true},
		{in: "did:key", wantErr: true, wantErrMatch: "no method-specific id"},
		{in: "did:key:", wantErr: true, wantErrMatch: "empty"},
		{in: "did::abc", wantErr: true, wantErrMatch: "empty method"},
		{in: "did:KEY:abc", wantErr: true, wantErrMatch: "lowercase"},
		{in: "DID:key:abc", wantErr: true},
		{in: "did:key:abc:", wantErr: true, wantErrMatch: "ends with a colon"},
		{in: "did:web:example.com/path", wantErr: true, wantErrMatch: "not allowed"},
		{in: "did:key:z6Mk#frag", wantErr: true},
		{in: "did:key:abc?x=1", wantErr: true},
		{in: "did:web:a%3", wantErr: true, wantErrMatch: "percent"},
		{in: "did:web:a%zz", wantErr: true, wantErrMatch: "percent"},
		{in: "did:web:exa mple.com", wantErr: true},
		{in: "did:web:é.com", wantErr: true},
		{in: "did:web:a\x00b", wantErr: true},
		{in: " did:key:abc", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidDID) {
					t.Fatalf("Parse(%q) = %+v, %v; want ErrInvalidDID", tc.in, got, err)
				}
				if !strings.Contains(err.Error(), tc.wantErrMatch) {
					t.Errorf("error %q does not mention %q", err, tc.wantErrMatch)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got.Method != tc.method || got.ID != tc.id {
				t.Errorf("Parse(%q) = %+v, want method %q id %q", tc.in, got, tc.method, tc.id)
			}
			if got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in                         string
		did, path, query, fragment string
		wantErr                    bool
	}{
		{in: "did:key:z6Mk#z6Mk", did: "did:key:z6Mk", fragment: "z6Mk"},
		{in: "did:web:example.com#key-1", did: "did:web:example.com", fragment: "key-1"},
		{in: "did:web:example.com/path/to?service=x&y=1#f", did: "did:web:example.com", path: "/path/to", query: "service=x&y=1", fragment: "f"},
		{in: "did:example:123?versionId=1", did: "did:example:123", query: "versionId=1"},
		{in: "did:example:123#a/b?c", did: "did:example:123", fragment: "a/b?c"},
		{in: "did:example:123/", did: "did:example:123", path: "/"},
		{in: "did:example:123", did: "did:example:123"},
		{in: "did:example:123#", wantErr: true},
		{in: "did:example:123?", wantErr: true},
		{in: "did:example:123#a#b", wantErr: true},
		{in: "did:example:123#a b", wantErr: true},
		{in: "did:example:123/%zz", wantErr: true},
		{in: "did:example:123/a\\b", wantErr: true},
		{in: "#key-1", wantErr: true},
		{in: "did:Example:123#x", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseURL(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidDID) {
					t.Fatalf("ParseURL(%q) = %+v, %v; want ErrInvalidDID", tc.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tc.in, err)
			}
			if got.DID.String() != tc.did || got.Path != tc.path || got.Query != tc.query || got.Fragment != tc.fragment {
				t.Errorf("ParseURL(%q) = %+v, want did %q path %q query %q fragment %q", tc.in, got, tc.did, tc.path, tc.query, tc.fragment)
			}
			if got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestErrorQuotesAreBounded(t *testing.T) {
	long := "did:web:" + strings.Repeat("a", 10000) + " "
	_, err := Parse(long)
	if !errors.Is(err, ErrInvalidDID) {
		t.Fatalf("Parse: %v, want ErrInvalidDID", err)
	}
	if len(err.Error()) > 300 {
		t.Errorf("error message is %d bytes; hostile input must not flood logs", len(err.Error()))
	}
}
