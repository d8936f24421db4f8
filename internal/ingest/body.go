package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Errors of ReadBody, told apart to pick the status code (413, 415).
var (
	ErrBodyTooLarge    = errors.New("body too large")
	ErrUnknownEncoding = errors.New("unsupported Content-Encoding (use gzip, zstd or none)")
)

// ReadBody reads r's body, decompressed as its Content-Encoding says
// (none, gzip or zstd), into buf. It stops at max bytes of decompressed
// data and returns ErrBodyTooLarge, so a gzip bomb costs at most max bytes
// of memory. Every HTTP protocol adapter reads its body with it.
func ReadBody(r *http.Request, buf *bytes.Buffer, max int64) error {
	var src io.Reader = r.Body
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
	case "", "identity":
		if r.ContentLength > max {
			return ErrBodyTooLarge
		}
	case "gzip", "x-gzip":
		zr := getGzip()
		defer gzipReaders.Put(zr)
		if err := zr.Reset(r.Body); err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		src = zr
	case "zstd":
		zr := getZstd()
		defer putZstd(zr)
		if err := zr.Reset(r.Body); err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		src = zr
	default:
		return ErrUnknownEncoding
	}
	n, err := buf.ReadFrom(io.LimitReader(src, max+1))
	if err != nil {
		return err
	}
	if n > max {
		return ErrBodyTooLarge
	}
	return nil
}

// maxPooledBody is the largest body buffer kept for reuse: bigger ones are
// rare and would pin their memory.
const maxPooledBody = 8 << 20

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// GetBodyBuffer and PutBodyBuffer pool the buffers bodies are read into.
func GetBodyBuffer() *bytes.Buffer { return bodyBuffers.Get().(*bytes.Buffer) }

// PutBodyBuffer returns a buffer from GetBodyBuffer; its bytes must no
// longer be used.
func PutBodyBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBody {
		b.Reset()
		bodyBuffers.Put(b)
	}
}

var gzipReaders sync.Pool

func getGzip() *gzip.Reader {
	if zr, ok := gzipReaders.Get().(*gzip.Reader); ok {
		return zr
	}
	return new(gzip.Reader)
}

var zstdReaders sync.Pool

func getZstd() *zstd.Decoder {
	if zr, ok := zstdReaders.Get().(*zstd.Decoder); ok {
		return zr
	}
	// One goroutine per decoder: requests already run in parallel, and a
	// pooled decoder must not keep goroutines alive.
	zr, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	if err != nil {
		panic("BUG: zstd decoder options: " + err.Error())
	}
	return zr
}

func putZstd(zr *zstd.Decoder) {
	zr.Reset(nil)
	zstdReaders.Put(zr)
}
