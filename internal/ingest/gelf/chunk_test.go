package gelf

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// chunk builds a chunked datagram by hand, as the GELF spec draws it.
func chunk(id uint64, seq, count byte, payload string) []byte {
	p := []byte{0x1e, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0, seq, count}
	binary.BigEndian.PutUint64(p[2:10], id)
	return append(p, payload...)
}

func TestAssembler(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a := newAssembler(2, 100, 50, 5*time.Second)

	// Out of order, with a duplicate.
	for i, c := range []struct {
		p    []byte
		want string
		err  error
	}{
		{chunk(1, 2, 3, "C"), "", nil},
		{chunk(1, 0, 3, "AA"), "", nil},
		{chunk(1, 0, 3, "AA"), "", nil}, // duplicate ignored
		{chunk(1, 1, 3, "BBB"), "AABBBC", nil},
		{chunk(2, 0, 1, "single"), "single", nil},
		{chunk(3, 3, 3, "x"), "", errBadChunk},   // seq past count
		{chunk(3, 0, 0, "x"), "", errBadChunk},   // no chunks
		{chunk(3, 0, 129, "x"), "", errBadChunk}, // over GELF's 128
		{[]byte{0x1e, 0x0f, 1, 2}, "", errBadChunk},
	} {
		got, err := a.add(c.p, t0)
		if !errors.Is(err, c.err) || string(got) != c.want {
			t.Fatalf("step %d: got %q, %v; want %q, %v", i, got, err, c.want, c.err)
		}
	}
	if a.len() != 0 || a.bytes != 0 {
		t.Fatalf("pending %d messages, %d bytes after completion; want none", a.len(), a.bytes)
	}

	// Limits: two pending messages at most, then refusal.
	a.add(chunk(10, 0, 2, "x"), t0)
	a.add(chunk(11, 0, 2, "y"), t0.Add(3*time.Second))
	if _, err := a.add(chunk(12, 0, 2, "z"), t0); !errors.Is(err, errPendingFull) {
		t.Fatalf("third pending message: err %v, want errPendingFull", err)
	}
	// A count that changes midway drops the message.
	if _, err := a.add(chunk(10, 1, 3, "x"), t0); !errors.Is(err, errChunkMismatch) {
		t.Fatalf("count mismatch: err %v", err)
	}
	// Message size over maxMessage (50).
	if _, err := a.add(chunk(11, 1, 2, string(make([]byte, 50))), t0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: err %v", err)
	}
	if a.len() != 0 || a.bytes != 0 {
		t.Fatalf("pending %d, bytes %d; want 0, 0", a.len(), a.bytes)
	}
	// Pending bytes over maxBytes (100): 3 messages cannot all wait.
	a = newAssembler(10, 100, 100, 5*time.Second)
	a.add(chunk(20, 0, 2, string(make([]byte, 60))), t0)
	if _, err := a.add(chunk(21, 0, 2, string(make([]byte, 60))), t0); !errors.Is(err, errPendingFull) {
		t.Fatalf("pending bytes: err %v", err)
	}
	// Timeout: the sweep drops what is older than 5 s, keeps the rest.
	a.add(chunk(22, 0, 2, "young"), t0.Add(4*time.Second))
	if n := a.sweep(t0.Add(5 * time.Second)); n != 1 {
		t.Fatalf("sweep dropped %d, want 1", n)
	}
	if a.len() != 1 || a.bytes != 5 {
		t.Fatalf("after sweep: %d pending, %d bytes; want 1, 5", a.len(), a.bytes)
	}
}

func gzipped(t testing.TB, p []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(p)
	zw.Close()
	return buf.Bytes()
}

func zlibbed(t testing.TB, p []byte) []byte {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(p)
	zw.Close()
	return buf.Bytes()
}

func TestInflate(t *testing.T) {
	msg := []byte(`{"short_message":"hello"}`)
	d := new(decompressor)
	for name, in := range map[string][]byte{"plain": msg, "gzip": gzipped(t, msg), "zlib": zlibbed(t, msg)} {
		got, err := d.inflate(in, 1000)
		if err != nil || !bytes.Equal(got, msg) {
			t.Errorf("%s: got %q, %v", name, got, err)
		}
	}
	// A bomb: 100 MB of zeros compress to ~100 KB; the limit stops it.
	bomb := gzipped(t, make([]byte, 100<<20))
	if _, err := d.inflate(bomb, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("gzip bomb: err %v, want ErrTooLarge", err)
	}
	if cap(d.out) > 1<<20+1<<12 {
		t.Errorf("bomb grew the buffer to %d bytes", cap(d.out))
	}
	if _, err := d.inflate(zlibbed(t, make([]byte, 1<<20+1)), 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("zlib one byte over: err %v", err)
	}
	// Exactly the limit is fine.
	if got, err := d.inflate(gzipped(t, make([]byte, 1<<20)), 1<<20); err != nil || len(got) != 1<<20 {
		t.Fatalf("exactly the limit: %d bytes, %v", len(got), err)
	}
	// Broken gzip: the magic and then garbage.
	if _, err := d.inflate([]byte{0x1f, 0x8b, 8, 0, 0, 0}, 1000); err == nil || errors.Is(err, ErrTooLarge) {
		t.Fatalf("broken gzip: err %v", err)
	}
	// Truncated gzip stream.
	gz := gzipped(t, bytes.Repeat(msg, 10))
	if _, err := d.inflate(gz[:len(gz)-6], 1000); err == nil {
		t.Fatal("truncated gzip accepted")
	}
	// Plain over the limit.
	if _, err := d.inflate(msg, 5); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("plain over the limit: %v", err)
	}
}
