package store

import (
	"errors"
	"strings"
	"testing"
)

// TestPathways: a definition is stored once, read back after a reopen, and
// listed in id order; a second definition under the same id is refused.
func TestPathways(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"b", "a"} {
		if err := s.PutPathway(id, []byte(`{"id":"`+id+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutPathway("a", []byte(`{}`)); !errors.Is(err, ErrExists) {
		t.Errorf("PutPathway(existing) = %v, want ErrExists", err)
	}
	for _, tc := range []struct{ id, def string }{{"", "{}"}, {strings.Repeat("x", MaxPathwayIDLen+1), "{}"}, {"big", strings.Repeat("x", MaxPathwayLen+1)}} {
		if err := s.PutPathway(tc.id, []byte(tc.def)); err == nil {
			t.Errorf("PutPathway(%d-byte id, %d-byte definition) succeeded", len(tc.id), len(tc.def))
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(Config{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if def, err := s.Pathway("a"); err != nil || string(def) != `{"id":"a"}` {
		t.Errorf("Pathway(a) = %s, %v", def, err)
	}
	if _, err := s.Pathway("c"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Pathway(c) = %v, want ErrNotFound", err)
	}
	all, err := s.Pathways()
	if err != nil || len(all) != 2 || string(all[0]) != `{"id":"a"}` {
		t.Errorf("Pathways = %q, %v", all, err)
	}
}
