package p2p

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/credanchor/credanchor/anchor/merkle"
)

func TestGetDigests(t *testing.T) {
	a, b := connectedPair(t, nil)
	ctx := testContext(t)
	for _, n := range []int{1, 2, 3, 1000, digestChunk + 1} {
		root := addBatch(t, a.provider, n)
		got, err := b.GetDigests(ctx, a.ID(), root)
		if err != nil {
			t.Fatalf("GetDigests(%d): %v", n, err)
		}
		if want := testDigests(n, byte(n)); !slicesEqual(got, want) {
			t.Fatalf("GetDigests(%d): got %d digests, not the batch", n, len(got))
		}
	}
	if _, err := b.GetDigests(ctx, a.ID(), merkle.Hash{0xde, 0xad}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown root: error = %v, want ErrNotFound", err)
	}
	if s := a.PeerScore(b.ID()); s < 0 {
		t.Errorf("honest b scored %v", s)
	}
}

func slicesEqual(a, b []merkle.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGetDigestsRefusesWrongRoot(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func([]merkle.Hash) []merkle.Hash
	}{
		{"flipped bit", func(ds []merkle.Hash) []merkle.Hash { ds[3][5] ^= 1; return ds }},
		{"missing", func(ds []merkle.Hash) []merkle.Hash { return ds[:len(ds)-1] }},
		{"extra", func(ds []merkle.Hash) []merkle.Hash { return append(ds, ds[0]) }},
		{"swapped", func(ds []merkle.Hash) []merkle.Hash { ds[0], ds[1] = ds[1], ds[0]; return ds }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := connectedPair(t, nil)
			root := addBatch(t, a.provider, 10)
			a.provider.mu.Lock()
			a.provider.batches[root] = tc.corrupt(append([]merkle.Hash(nil), a.provider.batches[root]...))
			a.provider.mu.Unlock()
			if _, err := b.GetDigests(testContext(t), a.ID(), root); !errors.Is(err, ErrRootMismatch) {
				t.Fatalf("error = %v, want ErrRootMismatch", err)
			}
			// One lie is enough: a is dropped and refused.
			if b.PeerScore(a.ID()) >= 0 || !b.score.isBanned(a.ID()) {
				t.Fatalf("a's score = %v, banned = %v", b.PeerScore(a.ID()), b.score.isBanned(a.ID()))
			}
			waitFor(t, "b drops a", func() bool { return b.host.Network().Connectedness(a.ID()) != network.Connected })
		})
	}
}

func TestGetStatusList(t *testing.T) {
	a, b := connectedPair(t, nil)
	ctx := testContext(t)
	cred := []byte(`{"type": ["VerifiableCredential", "BitstringStatusListCredential"], "id": "https://x.edu/s/1", "credentialSubject": {"encodedList": "H4sI"}}`)
	hash, err := StatusListHash(cred)
	if err != nil {
		t.Fatal(err)
	}
	a.provider.addList(hash, cred)
	got, err := b.GetStatusList(ctx, a.ID(), "https://x.edu/s/1", hash)
	if err != nil {
		t.Fatalf("GetStatusList: %v", err)
	}
	if !bytes.Equal(got, cred) {
		t.Errorf("got %q, want %q", got, cred)
	}
	if _, err := b.GetStatusList(ctx, a.ID(), "https://x.edu/s/1", merkle.Hash{1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown hash: error = %v, want ErrNotFound", err)
	}
	// a serves other bytes under the hash: refused.
	a.provider.addList(merkle.Hash{2}, cred)
	if _, err := b.GetStatusList(ctx, a.ID(), "https://x.edu/s/1", merkle.Hash{2}); !errors.Is(err, ErrHashMismatch) {
		t.Errorf("wrong list: error = %v, want ErrHashMismatch", err)
	}
}

// rawStream opens a stream from b to a's protocol, for hand-made frames.
func rawStream(t *testing.T, from, to *testNode, proto string) network.Stream {
	t.Helper()
	s, err := from.host.NewStream(testContext(t), to.ID(), protocolID(proto))
	if err != nil {
		t.Fatalf("NewStream: %v", err)
	}
	_ = s.SetDeadline(deadline())
	return s
}

func TestSyncServerBadRequests(t *testing.T) {
	a, b := connectedPair(t, nil)
	for _, tc := range []struct {
		name     string
		frame    []byte
		wantCode int // -1: the stream is reset
	}{
		// Ordered so that the penalties add up to a drop only at the end.
		{"empty request", binary.AppendUvarint(nil, 0), codeBadRequest},
		{"unknown kind", append(binary.AppendUvarint(nil, 33), append([]byte{9}, make([]byte, 32)...)...), codeBadRequest},
		{"short root", append(binary.AppendUvarint(nil, 5), syncDigests, 1, 2, 3, 4), codeBadRequest},
		{"no url", append(binary.AppendUvarint(nil, 33), append([]byte{syncStatusList}, make([]byte, 32)...)...), codeBadRequest},
		{"cut short", append(binary.AppendUvarint(nil, 33), syncDigests, 1, 2), -1},
		{"oversized", binary.AppendUvarint(nil, maxSyncRequest+1), -1},
		{"huge length", binary.AppendUvarint(nil, 1<<62), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rawStream(t, b, a, string(SyncProtocol))
			defer s.Reset()
			if _, err := s.Write(tc.frame); err != nil {
				t.Fatal(err)
			}
			_ = s.CloseWrite()
			code, err := bufio.NewReader(s).ReadByte()
			if tc.wantCode < 0 {
				if err == nil {
					t.Fatalf("got code %d, want a reset stream", code)
				}
				return
			}
			if err != nil || int(code) != tc.wantCode {
				t.Fatalf("got code %d, %v, want %d", code, err, tc.wantCode)
			}
		})
	}
	if a.score.appScore(b.ID()) >= 0 {
		t.Error("bad requests did not lower b's score")
	}
	if !a.score.isBanned(b.ID()) {
		t.Error("a did not drop b after a stream of bad requests")
	}
}

func TestSyncClientBadResponses(t *testing.T) {
	a, b := connectedPair(t, nil)
	ctx := testContext(t)
	for _, tc := range []struct {
		name string
		resp []byte
	}{
		{"nothing", nil},
		{"bad code", []byte{77}},
		{"no count", []byte{codeOK}},
		{"zero digests", append([]byte{codeOK}, 0)},
		{"too many digests", binary.AppendUvarint([]byte{codeOK}, MaxDigests+1)},
		{"huge count, few bytes", append(binary.AppendUvarint([]byte{codeOK}, MaxDigests), make([]byte, 100)...)},
		{"cut short", append(binary.AppendUvarint([]byte{codeOK}, 3), make([]byte, 64)...)},
		{"overflowing count", append([]byte{codeOK}, bytes.Repeat([]byte{0xff}, 11)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.host.SetStreamHandler(SyncProtocol, func(s network.Stream) {
				_, _ = s.Write(tc.resp)
				_ = s.Close()
			})
			if _, err := b.GetDigests(ctx, a.ID(), merkle.Hash{1}); err == nil {
				t.Fatal("GetDigests accepted a bad response")
			}
			if _, err := b.GetStatusList(ctx, a.ID(), "u", merkle.Hash{1}); err == nil {
				t.Fatal("GetStatusList accepted a bad response")
			}
		})
		// b drops a after enough garbage; let it come back for the next case.
		b.score.mu.Lock()
		clear(b.score.penalties)
		clear(b.score.banned)
		b.score.mu.Unlock()
		if _, err := b.Connect(ctx, a.Addrs()[0]); err != nil {
			t.Fatalf("reconnect: %v", err)
		}
	}
	a.host.SetStreamHandler(SyncProtocol, func(s network.Stream) {
		_, _ = s.Write(binary.AppendUvarint([]byte{codeOK}, MaxStatusListSize+1))
		_ = s.Close()
	})
	if _, err := b.GetStatusList(ctx, a.ID(), "u", merkle.Hash{1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized status list: error = %v, want ErrTooLarge", err)
	}
}
