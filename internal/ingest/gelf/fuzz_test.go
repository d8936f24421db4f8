package gelf

import (
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// FuzzParse feeds arbitrary payloads through what a UDP datagram meets:
// decompression with a limit, then the parser. Nothing may panic, a
// refused message adds no event, and an accepted one adds exactly one.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"version":"1.1","host":"h","short_message":"m","timestamp":1385053862.3072,"level":1,"_a":{"b":[1,2]},"_trace_id":"t"}`))
	f.Add([]byte(`{"short_message":"x","level":"warning","timestamp":"1.7e9"}`))
	f.Add(gzipped(f, []byte(`{"short_message":"gz"}`)))
	f.Add(zlibbed(f, []byte(`{"short_message":"zl","_index":"i"}`)))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte("{\"short_message\":\"\xff\xfe\"}"))
	p := NewParser()
	d := new(decompressor)
	f.Fuzz(func(t *testing.T, in []byte) {
		plain, err := d.inflate(in, 1<<16)
		if err != nil {
			return
		}
		b := &event.Batch{}
		err = p.Parse(b, plain, ParseOptions{Now: 1})
		if err != nil && b.Len() != 0 || err == nil && b.Len() != 1 {
			t.Fatalf("err %v with %d events", err, b.Len())
		}
	})
}

// FuzzAssembler feeds datagrams split from the input to the chunk
// assembler: no panic, and its byte accounting never goes negative or
// past its bound.
func FuzzAssembler(f *testing.F) {
	f.Add(append(chunk(1, 0, 2, "ab"), chunk(1, 1, 2, "cd")...), uint8(14))
	f.Add(chunk(2, 0, 1, "x"), uint8(13))
	f.Add(append(chunk(3, 1, 128, "y"), chunk(3, 0, 2, "z")...), uint8(13))
	f.Fuzz(func(t *testing.T, in []byte, size uint8) {
		a := newAssembler(4, 64, 48, time.Second)
		now := time.Unix(0, 0)
		n := int(size%32) + 1
		for len(in) > 0 {
			k := min(n, len(in))
			msg, err := a.add(in[:k], now)
			if err == nil && len(msg) > 48 {
				t.Fatalf("message of %d bytes passed the 48-byte limit", len(msg))
			}
			in = in[k:]
			now = now.Add(300 * time.Millisecond)
			a.sweep(now)
			if a.bytes < 0 || a.bytes > 64 || a.len() > 4 {
				t.Fatalf("pending %d messages, %d bytes", a.len(), a.bytes)
			}
		}
	})
}
