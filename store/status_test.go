package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// openStatus opens a store whose new status lists have size entries, fewer
// than Config allows, so that tests can fill lists quickly.
func openStatus(t testing.TB, cfg Config, size uint64) *Store {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.statusSize = size
	t.Cleanup(func() { s.Close() })
	return s
}

type entryKey struct {
	list  string
	index uint64
}

func allocate(t *testing.T, s *Store, n int, purposes ...string) []StatusEntry {
	t.Helper()
	var out []StatusEntry
	for range n {
		es, err := s.AllocateStatus(purposes...)
		if err != nil {
			t.Fatalf("AllocateStatus(%v): %v", purposes, err)
		}
		if len(es) != len(purposes) {
			t.Fatalf("AllocateStatus(%v) = %d entries", purposes, len(es))
		}
		for i, e := range es {
			if e.Purpose != purposes[i] || !strings.HasPrefix(e.ListID, purposes[i]+"-") {
				t.Fatalf("entry %d for %q: %+v", i, purposes[i], e)
			}
		}
		out = append(out, es...)
	}
	return out
}

func TestAllocateStatusNoReuseAcrossListsAndReopen(t *testing.T) {
	dir := t.TempDir()
	const size = 64
	s := openStatus(t, Config{Dir: dir}, size)
	seen := map[entryKey]bool{}
	check := func(es []StatusEntry) {
		t.Helper()
		for _, e := range es {
			k := entryKey{e.ListID, e.Index}
			if seen[k] {
				t.Fatalf("index %d of %s handed out twice", e.Index, e.ListID)
			}
			if e.Index >= size {
				t.Fatalf("index %d of %s beyond the list", e.Index, e.ListID)
			}
			seen[k] = true
		}
	}
	// 100 of each purpose: list 1 fills, list 2 opens.
	check(allocate(t, s, 100, PurposeRevocation, PurposeSuspension))
	lists, err := s.StatusLists()
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		id        string
		allocated uint64
	}
	var got []summary
	for _, l := range lists {
		got = append(got, summary{l.ID, l.Allocated})
	}
	want := []summary{{"revocation-1", 64}, {"revocation-2", 36}, {"suspension-1", 64}, {"suspension-2", 36}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("StatusLists = %v, want %v", got, want)
	}

	// Reopen: allocation carries on in the open list without reuse, and
	// lists keep the size they were opened with.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStatus(t, Config{Dir: dir}, 128)
	check(allocate(t, s, 28, PurposeRevocation))
	l, err := s.StatusList("revocation-2")
	if err != nil || l.Allocated != 64 || l.Size != 64 {
		t.Fatalf("revocation-2 after reopen = %+v, %v; want 64 of 64 allocated", l, err)
	}
	es := allocate(t, s, 1, PurposeRevocation)
	if es[0].ListID != "revocation-3" {
		t.Fatalf("allocation after revocation-2 filled went to %s", es[0].ListID)
	}
	if l, _ := s.StatusList("revocation-3"); l.Size != 128 || l.Allocated != 1 {
		t.Fatalf("revocation-3 = %+v, want 1 of 128 allocated", l)
	}
}

func TestAllocateStatusErrors(t *testing.T) {
	s := openStatus(t, Config{Dir: t.TempDir()}, 64)
	for _, tc := range []struct {
		name     string
		purposes []string
		wantErr  error // nil: any error
	}{
		{"unknown", []string{"refresh"}, ErrUnknownStatusPurpose},
		{"empty name", []string{""}, ErrUnknownStatusPurpose},
		{"one bad", []string{PurposeSuspension, "Revocation"}, ErrUnknownStatusPurpose},
		{"twice", []string{PurposeRevocation, PurposeRevocation}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.AllocateStatus(tc.purposes...)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("AllocateStatus(%q): got %v, want %v", tc.purposes, err, tc.wantErr)
			}
		})
	}
	if lists, err := s.StatusLists(); err != nil || len(lists) != 0 {
		t.Fatalf("refused allocations opened lists: %v, %v", lists, err)
	}
	if es, err := s.AllocateStatus(); err != nil || len(es) != 0 {
		t.Fatalf("AllocateStatus() = %v, %v; want nothing", es, err)
	}
	s.Close()
	if _, err := s.AllocateStatus(PurposeRevocation); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: got %v, want ErrClosed", err)
	}
}

func TestAllocateStatusIsRandom(t *testing.T) {
	s := openStatus(t, Config{Dir: t.TempDir()}, DefaultStatusListSize)
	es := allocate(t, s, 16, PurposeRevocation)
	increasing, low := true, 0
	for i, e := range es {
		if i > 0 && e.Index < es[i-1].Index {
			increasing = false
		}
		if e.Index < 1024 {
			low++
		}
	}
	// Odds of either by chance: 1/16! and about 1e-20.
	if increasing || low > 8 {
		t.Fatalf("indexes look sequential: %v", es)
	}
}

func TestFreeSetNth(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []uint64{8, 64, 72, 4096, 4104, 10000} {
		for _, fill := range []float64{0, 0.5, 0.99, 1} {
			t.Run(fmt.Sprintf("%d/%v", size, fill), func(t *testing.T) {
				f := newFreeSet(size)
				var free []uint64
				for i := range size {
					if rng.Float64() < fill {
						f.take(i)
					} else {
						free = append(free, i)
					}
				}
				if f.n != uint64(len(free)) {
					t.Fatalf("n = %d, want %d", f.n, len(free))
				}
				// nth enumerates exactly the free indexes, in order, so a
				// uniform r picks a uniform free index.
				for r, want := range free {
					if got := f.nth(uint64(r)); got != want {
						t.Fatalf("nth(%d) = %d, want %d", r, got, want)
					}
				}
				if len(free) > 0 {
					f.release(free[0]) // releasing a free index changes nothing
					f.take(free[0])
					f.release(free[0])
					if f.n != uint64(len(free)) || f.nth(0) != free[0] {
						t.Fatalf("take and release of %d: n %d, nth(0) %d", free[0], f.n, f.nth(0))
					}
				}
			})
		}
	}
}

func TestRandN(t *testing.T) {
	const n, draws = 10, 20000
	var counts [n]int
	for range draws {
		v, err := randN(n)
		if err != nil || v >= n {
			t.Fatalf("randN(%d) = %d, %v", n, v, err)
		}
		counts[v]++
	}
	for v, c := range counts {
		// Mean 2000, standard deviation about 42.
		if c < 1700 || c > 2300 {
			t.Errorf("randN(%d) gave %d %d times in %d", n, v, c, draws)
		}
	}
	if v, _ := randN(1); v != 0 {
		t.Errorf("randN(1) = %d", v)
	}
}

func TestConcurrentAllocateStatus(t *testing.T) {
	s := openStatus(t, Config{Dir: t.TempDir()}, 64)
	const workers, each = 8, 40 // 320 of each purpose: lists 1 to 5 full
	var mu sync.Mutex
	seen := map[entryKey]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				es, err := s.AllocateStatus(PurposeSuspension, PurposeRevocation)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, e := range es {
					seen[entryKey{e.ListID, e.Index}]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 2*workers*each {
		t.Fatalf("%d distinct entries, want %d", len(seen), 2*workers*each)
	}
	lists, _ := s.StatusLists()
	if len(lists) != 10 {
		t.Fatalf("%d lists, want 10", len(lists))
	}
	for _, l := range lists {
		if l.Allocated != 64 {
			t.Errorf("%s: %d allocated, want 64", l.ID, l.Allocated)
		}
	}
}

func TestParseListID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"revocation-1", true},
		{"suspension-4294967295", true},
		{"revocation-0", false},
		{"revocation-01", false},
		{"revocation-+1", false},
		{"revocation-4294967296", false},
		{"revocation", false},
		{"revocation-", false},
		{"-1", false},
		{"message-1", false},
		{"Revocation-1", false},
		{"", false},
	} {
		r, err := parseListID(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("parseListID(%q) = %v, %v; want ok %v", tc.id, r, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, ErrUnknownStatusList) || !errors.Is(err, ErrNotFound)) {
			t.Errorf("parseListID(%q): %v does not wrap ErrUnknownStatusList and ErrNotFound", tc.id, err)
		}
		if err == nil && r.String() != tc.id {
			t.Errorf("parseListID(%q).String() = %q", tc.id, r)
		}
	}
}

func bitOf(b []byte, i uint64) bool { return b[i/8]&(0x80>>(i%8)) != 0 }

func TestSetStatus(t *testing.T) {
	s := openStatus(t, Config{Dir: t.TempDir()}, 64)
	es := allocate(t, s, 3, PurposeRevocation, PurposeSuspension)
	rev, sus := es[0], es[1]
	rev2 := es[2]
	// An index of each list that was not handed out.
	var unallocated [2]uint64
	for i, id := range []string{rev.ListID, sus.ListID} {
		used := map[uint64]bool{}
		for _, e := range es {
			if e.ListID == id {
				used[e.Index] = true
			}
		}
		for used[unallocated[i]] {
			unallocated[i]++
		}
	}
	d := digests(2, "status")
	at := time.Unix(1700000000, 0).UTC()
	for _, tc := range []struct {
		name    string
		list    string
		index   uint64
		value   bool
		u       StatusUpdate
		wantErr error
		wantSeq uint64
	}{
		{"revoke", rev.ListID, rev.Index, true, StatusUpdate{Digest: d[0], Action: StatusRevoke, Reason: "degree rescinded", At: at}, nil, 1},
		{"revoke again", rev.ListID, rev.Index, true, StatusUpdate{Digest: d[0], At: at}, ErrStatusUnchanged, 0},
		{"unrevoke", rev.ListID, rev.Index, false, StatusUpdate{Digest: d[0], Action: StatusUnsuspend}, ErrRevocationFinal, 0},
		{"clear unrevoked", rev.ListID, rev2.Index, false, StatusUpdate{Digest: d[1]}, ErrRevocationFinal, 0},
		{"suspend", sus.ListID, sus.Index, true, StatusUpdate{Digest: d[0], Action: StatusSuspend, Reason: "under review", At: at.Add(time.Second)}, nil, 1},
		{"suspend again", sus.ListID, sus.Index, true, StatusUpdate{Digest: d[0]}, ErrStatusUnchanged, 0},
		{"unsuspend", sus.ListID, sus.Index, false, StatusUpdate{Digest: d[0], Action: StatusUnsuspend, At: at.Add(2 * time.Second)}, nil, 2},
		{"unsuspend again", sus.ListID, sus.Index, false, StatusUpdate{Digest: d[0]}, ErrStatusUnchanged, 0},
		{"suspend, action implied", sus.ListID, sus.Index, true, StatusUpdate{Digest: d[0], At: at.Add(3 * time.Second)}, nil, 3},
		{"wrong action", sus.ListID, sus.Index, false, StatusUpdate{Digest: d[0], Action: StatusRevoke}, ErrInvalidStatusChange, 0},
		{"unknown action", rev.ListID, rev2.Index, true, StatusUpdate{Digest: d[1], Action: "delete"}, ErrInvalidStatusChange, 0},
		{"no digest", rev.ListID, rev2.Index, true, StatusUpdate{}, ErrInvalidStatusChange, 0},
		{"long reason", rev.ListID, rev2.Index, true, StatusUpdate{Digest: d[1], Reason: strings.Repeat("x", MaxStatusReasonLen+1)}, ErrInvalidStatusChange, 0},
		{"reason not UTF-8", rev.ListID, rev2.Index, true, StatusUpdate{Digest: d[1], Reason: "\xff"}, ErrInvalidStatusChange, 0},
		{"out of range", rev.ListID, 64, true, StatusUpdate{Digest: d[1]}, ErrStatusIndexRange, 0},
		{"unallocated", rev.ListID, unallocated[0], true, StatusUpdate{Digest: d[1]}, ErrStatusIndexUnallocated, 0},
		{"unallocated suspension", sus.ListID, unallocated[1], true, StatusUpdate{Digest: d[1]}, ErrStatusIndexUnallocated, 0},
		{"unknown list", "revocation-9", 0, true, StatusUpdate{Digest: d[1]}, ErrUnknownStatusList, 0},
		{"clear in an unknown list", "revocation-9", 0, false, StatusUpdate{Digest: d[1]}, ErrUnknownStatusList, 0},
		{"malformed list id", "revocation-x", 0, true, StatusUpdate{Digest: d[1]}, ErrNotFound, 0},
		{"revoke a second", rev.ListID, rev2.Index, true, StatusUpdate{Digest: d[1], Reason: "mistake", At: at}, nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := s.SetStatus(tc.list, tc.index, tc.value, tc.u)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("SetStatus: got %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if c.Seq != tc.wantSeq || c.ListID != tc.list || c.Index != tc.index || c.Value != tc.value || c.Digest != tc.u.Digest {
				t.Fatalf("SetStatus = %+v, want seq %d", c, tc.wantSeq)
			}
			l, err := s.StatusList(tc.list)
			if err != nil || l.Seq != tc.wantSeq {
				t.Fatalf("list after the change = %+v, %v; want seq %d", l, err, tc.wantSeq)
			}
		})
	}

	for _, tc := range []struct {
		list    string
		seq     uint64
		on, off []uint64
	}{
		{rev.ListID, 2, []uint64{rev.Index, rev2.Index}, []uint64{unallocated[0]}},
		{sus.ListID, 3, []uint64{sus.Index}, []uint64{unallocated[1]}},
	} {
		bits, seq, err := s.StatusBits(tc.list)
		if err != nil || seq != tc.seq || len(bits) != 8 {
			t.Fatalf("StatusBits(%s) = %x, %d, %v; want 8 bytes at seq %d", tc.list, bits, seq, err, tc.seq)
		}
		for _, i := range tc.on {
			if !bitOf(bits, i) {
				t.Errorf("%s bit %d is off, want on", tc.list, i)
			}
		}
		for _, i := range tc.off {
			if bitOf(bits, i) {
				t.Errorf("%s bit %d is on, want off", tc.list, i)
			}
		}
	}

	changes, err := s.StatusChanges(d[0])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, fmt.Sprintf("%s %s/%d=%v seq %d %q", c.Action, c.ListID, c.Index, c.Value, c.Seq, c.Reason))
	}
	want := []string{
		fmt.Sprintf("revoke %s/%d=true seq 1 %q", rev.ListID, rev.Index, "degree rescinded"),
		fmt.Sprintf("suspend %s/%d=true seq 1 %q", sus.ListID, sus.Index, "under review"),
		fmt.Sprintf("unsuspend %s/%d=false seq 2 %q", sus.ListID, sus.Index, ""),
		fmt.Sprintf("suspend %s/%d=true seq 3 %q", sus.ListID, sus.Index, ""),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("StatusChanges =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !changes[0].At.Equal(at) {
		t.Errorf("change time %v, want %v", changes[0].At, at)
	}
	if none, err := s.StatusChanges(digests(1, "never")[0]); err != nil || len(none) != 0 {
		t.Errorf("StatusChanges of an unchanged digest = %v, %v; want none", none, err)
	}
}

// newVersion stores a version of id made at its current sequence number.
func newVersion(t *testing.T, s *Store, id, tag string) *StatusVersion {
	t.Helper()
	bits, seq, err := s.StatusBits(id)
	if err != nil {
		t.Fatal(err)
	}
	cred := fmt.Appendf(nil, `{"id":%q,"tag":%q,"bits":"%x"}`, id, tag, bits)
	v, err := s.PutStatusVersion(id, seq, cred, sha256.Sum256(cred))
	if err != nil {
		t.Fatalf("PutStatusVersion(%s): %v", id, err)
	}
	return v
}

func dirtyIDs(t *testing.T, s *Store) string {
	t.Helper()
	ls, err := s.DirtyStatusLists()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range ls {
		ids = append(ids, l.ID)
	}
	return strings.Join(ids, ",")
}

func TestStatusVersions(t *testing.T) {
	dir := t.TempDir()
	s := openStatus(t, Config{Dir: dir}, 64)
	es := allocate(t, s, 4, PurposeRevocation, PurposeSuspension)
	const rev, sus = "revocation-1", "suspension-1"
	if got := dirtyIDs(t, s); got != "revocation-1,suspension-1" {
		t.Fatalf("new lists: dirty %q, want both (never published)", got)
	}
	for _, f := range []func(string) (*StatusVersion, error){s.LatestStatusVersion, s.LatestAnchoredStatusVersion} {
		if _, err := f(rev); !errors.Is(err, ErrNotFound) {
			t.Fatalf("before the first version: got %v, want ErrNotFound", err)
		}
	}
	v1 := newVersion(t, s, rev, "v1")
	newVersion(t, s, sus, "v1")
	if v1.Version != 1 || v1.State != StatusVersionPending || v1.Seq != 0 {
		t.Fatalf("first version = %+v", v1)
	}
	if got := dirtyIDs(t, s); got != "" {
		t.Fatalf("after publishing: dirty %q, want none", got)
	}

	d := digests(3, "v")
	if _, err := s.SetStatus(rev, es[0].Index, true, StatusUpdate{Digest: d[0]}); err != nil {
		t.Fatal(err)
	}
	if got := dirtyIDs(t, s); got != rev {
		t.Fatalf("after a revocation: dirty %q, want %s", got, rev)
	}
	// Version 2 is made at seq 1; a change lands before it is stored, so the
	// version must keep the bits as at seq 1, not the current ones.
	bits2, seq2, _ := s.StatusBits(rev)
	if _, err := s.SetStatus(rev, es[2].Index, true, StatusUpdate{Digest: d[1]}); err != nil {
		t.Fatal(err)
	}
	v2, err := s.PutStatusVersion(rev, seq2, []byte("v2"), sha256.Sum256([]byte("v2")))
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v2.Seq != 1 || !bytes.Equal(v2.Bits, bits2) || !bitOf(v2.Bits, es[0].Index) || bitOf(v2.Bits, es[2].Index) {
		t.Fatalf("version 2 = seq %d bits %x, want seq 1 bits %x", v2.Seq, v2.Bits, bits2)
	}
	if got := dirtyIDs(t, s); got != rev {
		t.Fatalf("with a change after version 2: dirty %q, want %s", got, rev)
	}
	v3 := newVersion(t, s, rev, "v3")
	if v3.Seq != 2 || !bitOf(v3.Bits, es[2].Index) {
		t.Fatalf("version 3 = seq %d bits %x", v3.Seq, v3.Bits)
	}

	for _, tc := range []struct {
		name    string
		seq     uint64
		cred    []byte
		hash    [32]byte
		wantErr error
	}{
		{"older seq than latest", 1, []byte("x"), sha256.Sum256([]byte("x")), ErrInvalidStatusVersion},
		{"seq beyond list", 3, []byte("x"), sha256.Sum256([]byte("x")), ErrInvalidStatusVersion},
		{"no credential", 2, nil, sha256.Sum256(nil), ErrInvalidStatusVersion},
		{"zero hash", 2, []byte("x"), [32]byte{}, ErrInvalidStatusVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.PutStatusVersion(rev, tc.seq, tc.cred, tc.hash); !errors.Is(err, tc.wantErr) {
				t.Fatalf("PutStatusVersion: got %v, want %v", err, tc.wantErr)
			}
		})
	}
	if _, err := s.PutStatusVersion("revocation-7", 0, []byte("x"), sha256.Sum256([]byte("x"))); !errors.Is(err, ErrUnknownStatusList) {
		t.Fatalf("PutStatusVersion of an unknown list: got %v", err)
	}

	// Anchoring version 1, then 3: version 2, still pending, is replaced.
	tx := func(n byte) [32]byte { return sha256.Sum256([]byte{n}) }
	if err := s.MarkStatusVersionAnchored(rev, 1, tx(1), 100); err != nil {
		t.Fatal(err)
	}
	if a, err := s.LatestAnchoredStatusVersion(rev); err != nil || a.Version != 1 || a.TxHash != tx(1) || a.BlockNumber != 100 {
		t.Fatalf("LatestAnchoredStatusVersion = %+v, %v; want version 1", a, err)
	}
	if err := s.MarkStatusVersionAnchored(rev, 3, tx(3), 103); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n    uint64
		want StatusVersionState
	}{{1, StatusVersionAnchored}, {2, StatusVersionReplaced}, {3, StatusVersionAnchored}} {
		v, err := s.StatusVersion(rev, tc.n)
		if err != nil || v.State != tc.want {
			t.Errorf("version %d: %v, %v; want %v", tc.n, v, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name    string
		err     error
		wantErr error
	}{
		{"anchor an older version", s.MarkStatusVersionAnchored(rev, 1, tx(1), 100), ErrStatusVersionState},
		{"anchor a replaced version", s.MarkStatusVersionAnchored(rev, 2, tx(2), 104), ErrStatusVersionState},
		{"fail an anchored version", s.MarkStatusVersionFailed(rev, 3, "late"), ErrStatusVersionState},
		{"replace an anchored version", s.MarkStatusVersionReplaced(rev, 3), ErrStatusVersionState},
		{"anchor a missing version", s.MarkStatusVersionAnchored(rev, 9, tx(9), 109), ErrNotFound},
		{"anchor version 0", s.MarkStatusVersionAnchored(rev, 0, tx(0), 109), ErrNotFound},
		{"re-anchor after a reorg", s.MarkStatusVersionAnchored(rev, 3, tx(33), 105), nil},
		{"fail with a long reason", s.MarkStatusVersionFailed(sus, 1, strings.Repeat("x", MaxStatusReasonLen+1)), ErrInvalidStatusVersion},
		{"fail a pending version", s.MarkStatusVersionFailed(sus, 1, "out of gas"), nil},
	} {
		if !errors.Is(tc.err, tc.wantErr) || (tc.err == nil) != (tc.wantErr == nil) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.wantErr)
		}
	}
	if got := dirtyIDs(t, s); got != sus {
		t.Fatalf("after the suspension version failed: dirty %q, want %s", got, sus)
	}
	v, err := s.StatusVersion(sus, 1)
	if err != nil || v.State != StatusVersionFailed || v.Error != "out of gas" {
		t.Fatalf("failed version = %+v, %v", v, err)
	}

	// Everything survives a reopen.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStatus(t, Config{Dir: dir}, 64)
	a, err := s.LatestAnchoredStatusVersion(rev)
	if err != nil || a.Version != 3 || a.TxHash != tx(33) || a.BlockNumber != 105 || !bytes.Equal(a.Credential, v3.Credential) || a.Hash != v3.Hash || !bytes.Equal(a.Bits, v3.Bits) {
		t.Fatalf("anchored version after reopen = %+v, %v; want %+v", a, err, v3)
	}
	if l, err := s.LatestStatusVersion(rev); err != nil || l.Version != 3 {
		t.Fatalf("LatestStatusVersion after reopen = %+v, %v", l, err)
	}
	old, err := s.StatusVersion(rev, 2)
	if err != nil || !bytes.Equal(old.Bits, bits2) || string(old.Credential) != "v2" || old.Seq != 1 || old.Size != 64 {
		t.Fatalf("version 2 after reopen = %+v, %v", old, err)
	}
	if got := dirtyIDs(t, s); got != sus {
		t.Fatalf("after reopen: dirty %q, want %s", got, sus)
	}
	l, err := s.StatusList(rev)
	if err != nil || l.Seq != 2 || l.Version != 3 || l.AnchoredVersion != 3 || l.Allocated != 4 {
		t.Fatalf("list after reopen = %+v, %v", l, err)
	}
	if cs, err := s.StatusChanges(d[1]); err != nil || len(cs) != 1 || cs[0].Index != es[2].Index {
		t.Fatalf("history after reopen = %v, %v", cs, err)
	}
	// A refresh covers the same seq again.
	if v := newVersion(t, s, sus, "refresh"); v.Version != 2 || v.Seq != 0 {
		t.Fatalf("refresh = %+v", v)
	}
	if got := dirtyIDs(t, s); got != "" {
		t.Fatalf("after the refresh: dirty %q, want none", got)
	}
	if err := s.MarkStatusVersionReplaced(sus, 2); err != nil {
		t.Fatal(err)
	}
	if got := dirtyIDs(t, s); got != sus {
		t.Fatalf("after the latest version was replaced: dirty %q, want %s", got, sus)
	}
}

// TestStatusSurvivesCrash takes the file system as a crash would leave it,
// with only what was synced, while the store is still open.
func TestStatusSurvivesCrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := openStatus(t, Config{Dir: "db", FS: fs}, 64)
	es := allocate(t, s, 3, PurposeRevocation)
	d := digests(1, "crash")[0]
	c, err := s.SetStatus(es[1].ListID, es[1].Index, true, StatusUpdate{Digest: d, Reason: "fraud"})
	if err != nil {
		t.Fatal(err)
	}
	v := newVersion(t, s, es[1].ListID, "after")
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	s2 := openStatus(t, Config{Dir: "db", FS: crashed}, 64)
	cs, err := s2.StatusChanges(d)
	if err != nil || len(cs) != 1 || cs[0].Seq != c.Seq || cs[0].Reason != "fraud" {
		t.Fatalf("change after the crash = %v, %v; want %+v", cs, err, c)
	}
	got, err := s2.LatestStatusVersion(es[1].ListID)
	if err != nil || got.Hash != v.Hash || !bitOf(got.Bits, es[1].Index) {
		t.Fatalf("version after the crash = %+v, %v", got, err)
	}
	// The allocations survived too: none is handed out again.
	seen := map[uint64]bool{}
	for _, e := range es {
		seen[e.Index] = true
	}
	for _, e := range allocate(t, s2, 61, PurposeRevocation) {
		if e.ListID != "revocation-1" || seen[e.Index] {
			t.Fatalf("after the crash: %+v handed out again or in the wrong list", e)
		}
		seen[e.Index] = true
	}
}

func TestStatusReadersErrors(t *testing.T) {
	s := openStatus(t, Config{Dir: t.TempDir()}, 64)
	allocate(t, s, 1, PurposeRevocation)
	for _, tc := range []struct {
		name    string
		err     error
		wantErr error
	}{
		{"StatusList unknown", second(s.StatusList("suspension-1")), ErrUnknownStatusList},
		{"StatusVersion none", second(s.StatusVersion("revocation-1", 1)), ErrNotFound},
		{"StatusVersion unknown list", second(s.StatusVersion("revocation-2", 1)), ErrUnknownStatusList},
		{"LatestStatusVersion bad id", second(s.LatestStatusVersion("revocation")), ErrNotFound},
		{"MarkStatusVersionFailed none", s.MarkStatusVersionFailed("revocation-1", 1, ""), ErrNotFound},
	} {
		if !errors.Is(tc.err, tc.wantErr) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.wantErr)
		}
	}
	s.Close()
	for name, err := range map[string]error{
		"StatusLists":       second(s.StatusLists()),
		"StatusList":        second(s.StatusList("revocation-1")),
		"StatusChanges":     second(s.StatusChanges([32]byte{1})),
		"SetStatus":         second(s.SetStatus("revocation-1", 0, true, StatusUpdate{Digest: [32]byte{1}})),
		"PutStatusVersion":  second(s.PutStatusVersion("revocation-1", 0, []byte("x"), [32]byte{1})),
		"DirtyStatusLists":  second(s.DirtyStatusLists()),
		"LatestAnchored":    second(s.LatestAnchoredStatusVersion("revocation-1")),
		"MarkAnchored":      s.MarkStatusVersionAnchored("revocation-1", 1, [32]byte{}, 0),
		"MarkStatusReplace": s.MarkStatusVersionReplaced("revocation-1", 1),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
	if _, _, err := s.StatusBits("revocation-1"); !errors.Is(err, ErrClosed) {
		t.Errorf("StatusBits after Close: got %v, want ErrClosed", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestConfigStatusListSize(t *testing.T) {
	for _, tc := range []struct {
		size uint64
		ok   bool
	}{{0, true}, {MinStatusListSize, true}, {MaxStatusListSize, true}, {MinStatusListSize + 8, true}, {MinStatusListSize - 8, false}, {MinStatusListSize + 4, false}, {MaxStatusListSize + 8, false}} {
		s, err := Open(Config{Dir: t.TempDir(), StatusListSize: tc.size})
		if (err == nil) != tc.ok {
			t.Errorf("Open with StatusListSize %d: %v, want ok %v", tc.size, err, tc.ok)
		}
		if err == nil {
			s.Close()
		}
	}
}

// statusRecordSeeds are valid encodings of each record, for the fuzzer to
// start from.
func statusRecordSeeds() [][]byte {
	r := listRef{purposeSuspension, 7}
	l := &statusListRec{ref: r, size: 64, seq: 3, createdAt: time.Unix(1, 2), version: 2, anchored: 1}
	c := &StatusChange{Index: 5, Value: true, Seq: 3, StatusUpdate: StatusUpdate{Digest: [32]byte{9}, Action: StatusSuspend, Reason: "why", At: time.Unix(3, 4)}}
	sparse := &StatusVersion{Version: 2, Seq: 3, State: StatusVersionAnchored, Credential: []byte("{}"), Hash: [32]byte{1}, Size: 64, Bits: []byte{0x80, 0, 0, 0, 0, 0, 0, 1}, Error: "e"}
	dense := &StatusVersion{Version: 1, Seq: 0, State: StatusVersionPending, Credential: []byte("c"), Hash: [32]byte{2}, Size: 64, Bits: []byte{1, 2, 3, 4, 5, 6, 7, 8}}
	return [][]byte{l.marshal(), c.marshal(r), sparse.marshal(r), dense.marshal(r)}
}

func TestStatusRecordsRoundTrip(t *testing.T) {
	for i, b := range statusRecordSeeds() {
		checkStatusRecord(t, b)
		// Every truncation and every single flipped bit is refused or
		// decodes to something that encodes back the same.
		for n := range len(b) {
			checkStatusRecord(t, b[:n])
		}
		for j := range 8 * len(b) {
			c := bytes.Clone(b)
			c[j/8] ^= 1 << (j % 8)
			checkStatusRecord(t, c)
		}
		if n := decodedAs(b); n == 0 {
			t.Errorf("seed %d decodes as nothing", i)
		}
	}
}

// decodedAs counts the record types that accept b.
func decodedAs(b []byte) int {
	n := 0
	var l statusListRec
	var c StatusChange
	var v StatusVersion
	for _, err := range []error{l.unmarshal(b), c.unmarshal(b), v.unmarshal(b)} {
		if err == nil {
			n++
		}
	}
	return n
}

// checkStatusRecord decodes b as each record type; whatever decodes must
// encode to bytes that decode to the same record, and whatever fails must
// fail with ErrCorrupt.
func checkStatusRecord(t *testing.T, b []byte) {
	t.Helper()
	var l, l2 statusListRec
	if err := l.unmarshal(b); err == nil {
		if err := l2.unmarshal(l.marshal()); err != nil || l2 != l {
			t.Fatalf("status list %x: round trip %+v, %v", b, l2, err)
		}
	} else if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("status list %x: %v, want ErrCorrupt", b, err)
	}
	var c, c2 StatusChange
	if err := c.unmarshal(b); err == nil {
		r, perr := parseListID(c.ListID)
		if perr != nil {
			t.Fatalf("status change %x: list %q: %v", b, c.ListID, perr)
		}
		if err := c2.unmarshal(c.marshal(r)); err != nil || fmt.Sprint(c2) != fmt.Sprint(c) {
			t.Fatalf("status change %x: round trip %+v, %v; want %+v", b, c2, err, c)
		}
	} else if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("status change %x: %v, want ErrCorrupt", b, err)
	}
	var v, v2 StatusVersion
	if err := v.unmarshal(b); err == nil {
		r, perr := parseListID(v.ListID)
		if perr != nil {
			t.Fatalf("status version %x: list %q: %v", b, v.ListID, perr)
		}
		if uint64(len(v.Bits)) != v.Size/8 {
			t.Fatalf("status version %x: %d bytes of bits for %d entries", b, len(v.Bits), v.Size)
		}
		if err := v2.unmarshal(v.marshal(r)); err != nil || fmt.Sprint(v2) != fmt.Sprint(v) {
			t.Fatalf("status version %x: round trip %+v, %v; want %+v", b, v2, err, v)
		}
	} else if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("status version %x: %v, want ErrCorrupt", b, err)
	}
}

// FuzzStatusRecords feeds outside bytes to the status record decoders:
// go test -fuzz FuzzStatusRecords ./store/
func FuzzStatusRecords(f *testing.F) {
	for _, b := range statusRecordSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkStatusRecord(t, b) })
}

// BenchmarkAllocateStatusFullList allocates every index of a list of
// DefaultStatusListSize per iteration, so the list ends nearly full and then
// full; ns/alloc is wall time per index over the whole list,
// last1k-ns/alloc over its last 1,024 indexes, which must not grow with
// fullness. "mem" makes one call at a
// time on an in-memory file system (the cost of choosing and writing an
// index); "disk" makes them from 64 goroutines on disk, where concurrent
// callers share WAL syncs (one at a time, each call waits for its own sync:
// about 0.8 ms on the machine this was written on, 100 s a list).
func BenchmarkAllocateStatusFullList(b *testing.B) {
	for _, tc := range []struct {
		name    string
		workers int
	}{{"mem", 1}, {"disk", 64}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := Config{Dir: b.TempDir()}
			if tc.name == "mem" {
				cfg = Config{Dir: "db", FS: vfs.NewMem()}
			}
			s := openStatus(b, cfg, DefaultStatusListSize)
			var last time.Duration
			n := 0
			for b.Loop() {
				var next atomic.Int64
				var lastStart atomic.Int64 // when index DefaultStatusListSize-1024 was claimed
				var wg sync.WaitGroup
				for range tc.workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := next.Add(1) - 1
							if i >= DefaultStatusListSize {
								return
							}
							if i == DefaultStatusListSize-1024 {
								lastStart.Store(time.Now().UnixNano())
							}
							if _, err := s.AllocateStatus(PurposeRevocation); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				last += time.Since(time.Unix(0, lastStart.Load()))
				n++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*DefaultStatusListSize), "ns/alloc")
			b.ReportMetric(float64(last.Nanoseconds())/float64(n*1024), "last1k-ns/alloc")
			lists, err := s.StatusLists()
			if err != nil || len(lists) != n || lists[n-1].Allocated != DefaultStatusListSize {
				b.Fatalf("after %d full lists: %v, %v", n, lists, err)
			}
		})
	}
}

// TestStatusEntries: the entries given to a credential are read back by its
// digest after a reopen, and another digest has none.
func TestStatusEntries(t *testing.T) {
	dir := t.TempDir()
	s := openStatus(t, Config{Dir: dir}, 64)
	es := allocate(t, s, 1, PurposeRevocation, PurposeSuspension)
	d := [32]byte{1, 2, 3}
	if err := s.PutStatusEntries(d, es); err != nil {
		t.Fatal(err)
	}
	if err := s.PutStatusEntries([32]byte{9}, []StatusEntry{{ListID: "bogus-1", Purpose: "bogus"}}); err == nil {
		t.Error("PutStatusEntries with an invalid list id succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStatus(t, Config{Dir: dir}, 64)
	got, err := s.StatusEntries(d)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(es) {
		t.Fatalf("StatusEntries = %v, %v; want %v", got, err, es)
	}
	if none, err := s.StatusEntries([32]byte{1, 2, 4}); err != nil || len(none) != 0 {
		t.Fatalf("StatusEntries(other) = %v, %v; want none", none, err)
	}
}
