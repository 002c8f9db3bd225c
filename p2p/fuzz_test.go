package p2p

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/anchor/merkle"
)

// Fuzz targets for every decoder of bytes from peers. Each must return an
// error or a value, never panic, and allocate only in proportion to its
// input.

func FuzzParseMemberRecord(f *testing.F) {
	key, _ := crypto.GenerateKey()
	rec, _ := NewMemberRecord(testPeerID(f), testChainID, testRegistry, key, time.Unix(1_790_000_000, 0))
	f.Add(rec.Marshal())
	f.Add([]byte{})
	f.Add(make([]byte, MaxRecordSize))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseMemberRecord(data)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Marshal(), data) {
			t.Fatalf("accepted record does not round-trip")
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	key, _ := crypto.GenerateKey()
	rec, _ := NewMemberRecord(testPeerID(f), testChainID, testRegistry, key, time.Unix(1_790_000_000, 0))
	for _, e := range []*envelope{
		{V: 1, Record: rec.Marshal(), Batch: &BatchAnnouncement{Root: merkle.Hash{1}, Size: 10, Block: 3}},
		{V: 1, Record: rec.Marshal(), StatusList: &StatusListAnnouncement{URL: "https://x/1", Hash: merkle.Hash{2}, Version: 1}},
	} {
		b, _ := json.Marshal(e)
		f.Add(b)
	}
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, r, err := decodeEnvelope(data)
		if err != nil {
			return
		}
		if len(data) > MaxAnnouncementSize || r == nil || (e.Batch == nil) == (e.StatusList == nil) {
			t.Fatalf("accepted a bad announcement: %q", data)
		}
	})
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{3, 'a', 'b', 'c'}, uint16(16))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, uint16(16))
	f.Add([]byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		r := bufio.NewReader(bytes.NewReader(data))
		for {
			b, err := readFrame(r, nil, int(limit))
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(b) > int(limit) {
				t.Fatalf("frame of %d bytes over limit %d", len(b), limit)
			}
		}
	})
}

// FuzzSyncRequest feeds the sync server's request decoder.
func FuzzSyncRequest(f *testing.F) {
	ds := testDigests(5, 1)
	tr, _ := merkle.New(ds)
	root := tr.Root()
	p := newProvider()
	p.batches[root] = ds
	p.lists[merkle.Hash{7}] = []byte(`{}`)
	h := &Host{cfg: Config{Provider: p}, log: slog.New(slog.DiscardHandler)}
	f.Add(append([]byte{syncDigests}, root[:]...))
	f.Add(append(append([]byte{syncStatusList}, 7), make([]byte, 31)...))
	f.Add([]byte{})
	f.Add([]byte{9, 9})
	f.Fuzz(func(t *testing.T, req []byte) {
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		code, err := h.serveSync(context.Background(), w, req)
		if err != nil {
			t.Fatal(err)
		}
		_ = w.Flush()
		if out.Len() == 0 || out.Bytes()[0] != code {
			t.Fatalf("code %d, wrote %x", code, out.Bytes())
		}
		if code == codeOK && req[0] == syncDigests {
			got, err := readDigests(bufio.NewReader(bytes.NewReader(out.Bytes()[1:])))
			if err != nil || !slicesEqual(got, ds) {
				t.Fatalf("served digests do not read back: %v", err)
			}
		}
	})
}

// FuzzSyncResponse feeds the sync client's response decoders.
func FuzzSyncResponse(f *testing.F) {
	ok := binary.AppendUvarint(nil, 2)
	ok = append(ok, make([]byte, 64)...)
	f.Add(ok)
	f.Add(binary.AppendUvarint(nil, MaxDigests))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		if ds, err := readDigests(bufio.NewReader(bytes.NewReader(data))); err == nil && len(ds)*merkle.HashSize > len(data) {
			t.Fatalf("%d digests from %d bytes", len(ds), len(data))
		}
		if b, err := readStatusList(bufio.NewReader(bytes.NewReader(data))); err == nil && len(b) > len(data) {
			t.Fatalf("%d bytes from %d", len(b), len(data))
		}
		_, _ = StatusListHash(data)
	})
}

func FuzzQueryRequest(f *testing.F) {
	f.Add([]byte("\x06verify{}"))
	f.Add([]byte("\x00"))
	f.Add([]byte("\xffverify"))
	f.Fuzz(func(t *testing.T, req []byte) {
		kind, body, err := parseQueryRequest(req)
		if err != nil {
			return
		}
		if !validKind(kind) || !json.Valid(body) {
			t.Fatalf("accepted kind %q body %q", kind, body)
		}
	})
}

func FuzzQueryResponse(f *testing.F) {
	f.Add([]byte{codeOK, 0, 200, '{', '}'})
	f.Add([]byte{codeRateLimited, 0, 0})
	f.Add([]byte{99})
	f.Fuzz(func(t *testing.T, resp []byte) {
		code, status, _, err := parseQueryResponse(resp)
		if err != nil {
			return
		}
		if code == codeOK && (status < 100 || status > 599) {
			t.Fatalf("accepted status %d", status)
		}
	})
}
