package fluentforward

import (
	"testing"

	"github.com/logcaster/logcaster/internal/event"
)

// FuzzDecode runs input through what a connection does: the scanner finds
// a frame within the limit, the decoder decodes it. Nothing may panic, a
// frame the scanner accepts never claims more bytes than it was given, and
// a refused frame leaves the batch as it was.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"93 " + tagAppWeb + " " + evTime + " " + recHello,
		"94 " + tagAppWeb + " " + intTime + " " + recRich + " " + optChunk,
		"92 " + tagAppWeb + " 92 92 " + evTime + " " + recHello + " 92 " + intTime + " 81 a3 6d 73 67 a2 68 69",
		"92 " + tagAppWeb + " c4 0f 92 01 81 a3 6c 6f 67 a1 78 92 02 80 80",
		"93 " + tagAppWeb + " c4 02 1f 8b 81 aa 63 6f 6d 70 72 65 73 73 65 64 a4 67 7a 69 70",
		"db ff ff ff ff",
	} {
		f.Add(unhex(f, s))
	}
	d := NewDecoder(1 << 16)
	f.Fuzz(func(t *testing.T, in []byte) {
		sc := &scanner{limit: 1 << 16}
		n, err := sc.scan(in)
		if err != nil || n == 0 {
			return
		}
		if n > len(in) {
			t.Fatalf("frame of %d bytes in %d", n, len(in))
		}
		b := &event.Batch{}
		b.Add()
		if _, err := d.Decode(b, in[:n], 1); err != nil && b.Len() != 1 {
			t.Fatalf("refused frame left %d events", b.Len())
		}
	})
}
