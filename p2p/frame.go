package p2p

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frames on the request/response protocols are a uvarint length followed by
// that many bytes. The reader knows the largest frame it accepts and checks
// the length before reading or allocating.

// readFrame reads one frame of at most limit bytes, reusing buf when it is
// large enough. io.EOF means the stream ended cleanly before a frame.
func readFrame(r *bufio.Reader, buf []byte, limit int) ([]byte, error) {
	n, err := readUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrTooLarge, n, limit)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: frame body cut short", ErrMalformed)
		}
		return nil, err
	}
	return buf, nil
}

// writeFrame writes p as one frame; the caller flushes.
func writeFrame(w *bufio.Writer, p ...[]byte) error {
	n := 0
	for _, b := range p {
		n += len(b)
	}
	var hdr [binary.MaxVarintLen64]byte
	if _, err := w.Write(hdr[:binary.PutUvarint(hdr[:], uint64(n))]); err != nil {
		return err
	}
	for _, b := range p {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// noEOF turns an EOF inside a message into ErrUnexpectedEOF: the peer
// stopped half way, which is malformed rather than a clean end.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readUvarint reads a uvarint, telling a clean end before it (io.EOF), a
// malformed or cut-short one (ErrMalformed) and a failure of the stream
// (returned as is) apart.
func readUvarint(r io.ByteReader) (uint64, error) {
	var x uint64
	var shift uint
	for i := range binary.MaxVarintLen64 {
		b, err := r.ReadByte()
		switch {
		case err == io.EOF && i == 0:
			return 0, io.EOF
		case errors.Is(err, io.EOF):
			return 0, fmt.Errorf("%w: length cut short", ErrMalformed)
		case err != nil:
			return 0, err
		}
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				break
			}
			return x | uint64(b)<<shift, nil
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, fmt.Errorf("%w: length overflows 64 bits", ErrMalformed)
}
