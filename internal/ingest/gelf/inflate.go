package gelf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// ErrTooLarge is returned for a message (after decompression) longer than
// the limit: a decompression bomb, or a sender over MaxMessageBytes.
var ErrTooLarge = errors.New("gelf: message larger than the limit")

// Compression of a GELF payload, told by its first two bytes as GELF
// senders do not label it.
type compression uint8

const (
	compNone compression = iota
	compGzip
	compZlib
)

// detect tells a payload's compression: gzip by its magic 1f 8b, zlib by a
// deflate CMF byte whose header check (CMF*256+FLG) is a multiple of 31 (RFC
// 1950); anything else is taken as plain JSON (which starts with '{' or a
// blank, neither of which passes either test).
func detect(p []byte) compression {
	if len(p) < 2 {
		return compNone
	}
	switch {
	case p[0] == 0x1f && p[1] == 0x8b:
		return compGzip
	case p[0]&0x0f == 8 && p[0]>>4 <= 7 && (uint16(p[0])<<8|uint16(p[1]))%31 == 0:
		return compZlib
	}
	return compNone
}

// decompressor inflates payloads into a reused buffer.
type decompressor struct {
	src bytes.Reader
	gz  *gzip.Reader
	zl  io.ReadCloser
	out []byte
}

var decompressors = sync.Pool{New: func() any { return new(decompressor) }}

// inflate returns p uncompressed: p itself when it is plain, else a view of
// d's buffer, valid until the next call. At most limit bytes are inflated;
// more is ErrTooLarge, so a bomb costs limit bytes of memory at most.
func (d *decompressor) inflate(p []byte, limit int) ([]byte, error) {
	kind := detect(p)
	if kind == compNone {
		if len(p) > limit {
			return nil, ErrTooLarge
		}
		return p, nil
	}
	d.src.Reset(p)
	var r io.Reader
	switch kind {
	case compGzip:
		if d.gz == nil {
			gz, err := gzip.NewReader(&d.src)
			if err != nil {
				return nil, fmt.Errorf("gelf gzip: %w", err)
			}
			d.gz = gz
		} else if err := d.gz.Reset(&d.src); err != nil {
			return nil, fmt.Errorf("gelf gzip: %w", err)
		}
		d.gz.Multistream(false)
		r = d.gz
	case compZlib:
		if d.zl == nil {
			zl, err := zlib.NewReader(&d.src)
			if err != nil {
				return nil, fmt.Errorf("gelf zlib: %w", err)
			}
			d.zl = zl
		} else if err := d.zl.(zlib.Resetter).Reset(&d.src, nil); err != nil {
			return nil, fmt.Errorf("gelf zlib: %w", err)
		}
		r = d.zl
	}
	out := d.out[:0]
	for {
		if len(out) == cap(out) {
			if len(out) > limit {
				return nil, ErrTooLarge
			}
			// Grow by doubling, never past limit+1: one byte more than
			// the limit is enough to tell a bomb.
			grown := make([]byte, len(out), min(max(2*cap(out), 4<<10), limit+1))
			out = grown[:copy(grown, out)]
		}
		n, err := r.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if len(out) > limit {
			d.out = out[:0]
			return nil, ErrTooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			d.out = out[:0]
			return nil, fmt.Errorf("gelf inflate: %w", err)
		}
	}
	d.out = out
	return out, nil
}
