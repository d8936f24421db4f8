package fluentforward

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

// unhex turns a readable hex dump ("93 a3 61 ...", spaces ignored) into
// bytes: the wire samples below are written out byte by byte from the
// msgpack spec, not built by an encoder.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Pieces of the samples.
const (
	tagAppWeb = "a7 61 70 70 2e 77 65 62" // fixstr "app.web"
	// EventTime 1700000000.123456789 as fixext8 type 0: 6553f100 075bcd15.
	evTime  = "d7 00 65 53 f1 00 07 5b cd 15"
	intTime = "ce 65 53 f1 00" // uint32 1700000000
	// {"log":"hello\n","level":"warn"}
	recHello = "82 a3 6c 6f 67 a6 68 65 6c 6c 6f 0a a5 6c 65 76 65 6c a4 77 61 72 6e"
	// {"msg":"x","kubernetes":{"pod":"p1","labels":{"app":"a"}},"n":-3,"ok":true,"f":1.5,"tags":["a",1],"nil":nil,"trace_id":"t1","index":"custom"}
	recRich = "89 a3 6d 73 67 a1 78" +
		" aa 6b 75 62 65 72 6e 65 74 65 73 82 a3 70 6f 64 a2 70 31 a6 6c 61 62 65 6c 73 81 a3 61 70 70 a1 61" +
		" a1 6e fd" +
		" a2 6f 6b c3" +
		" a1 66 cb 3f f8 00 00 00 00 00 00" +
		" a4 74 61 67 73 92 a1 61 01" +
		" a3 6e 69 6c c0" +
		" a8 74 72 61 63 65 5f 69 64 a2 74 31" +
		" a5 69 6e 64 65 78 a6 63 75 73 74 6f 6d"
	// {"chunk":"Y2g="}
	optChunk = "81 a5 63 68 75 6e 6b a4 59 32 67 3d"
)

const helloWant = `time=1700000000123456789 index=app level=WARN msg="hello" fluent_tag="app.web"`

func TestDecode(t *testing.T) {
	// PackedForward entries: two [time, record] back to back.
	entries := unhex(t, "92 "+evTime+" "+recHello+" 92 "+intTime+" 81 a3 6d 73 67 a2 68 69")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(entries[:13]) // two gzip members, as Fluent Bit appends them
	zw.Close()
	zw = gzip.NewWriter(&gz)
	zw.Write(entries[13:])
	zw.Close()
	packedHex := func(p []byte) string { return hex.EncodeToString(p) }
	hiWant := `time=1700000000000000000 index=app level= msg="hi" fluent_tag="app.web"`

	tests := []struct {
		name, wire string
		want       []string
		chunk      string
		err        error
	}{
		{
			name: "message mode with EventTime",
			wire: "93 " + tagAppWeb + " " + evTime + " " + recHello,
			want: []string{helloWant},
		},
		{
			name:  "message mode with option chunk",
			wire:  "94 " + tagAppWeb + " " + intTime + " " + recHello + " " + optChunk,
			want:  []string{`time=1700000000000000000 index=app level=WARN msg="hello" fluent_tag="app.web"`},
			chunk: "Y2g=",
		},
		{
			name: "message mode, float time, ext8 form",
			wire: "93 " + tagAppWeb + " cb 41 d9 54 fc 40 06 66 66 " + recHello, // 1700000000.1
			want: []string{`time=1700000000100000000 index=app level=WARN msg="hello" fluent_tag="app.web"`},
		},
		{
			name: "EventTime as ext8",
			wire: "93 " + tagAppWeb + " c7 08 00 65 53 f1 00 07 5b cd 15 " + recHello,
			want: []string{helloWant},
		},
		{
			name: "rich record: flattening, types, trace id, index from the record",
			wire: "93 " + tagAppWeb + " " + intTime + " " + recRich,
			want: []string{`time=1700000000000000000 index=custom level= msg="x" trace=t1 kubernetes.pod="p1" kubernetes.labels.app="a" n="-3" ok="true" f="1.5" tags="[\"a\",1]" fluent_tag="app.web"`},
		},
		{
			name:  "forward mode with chunk",
			wire:  "93 " + tagAppWeb + " 92 92 " + evTime + " " + recHello + " 92 " + intTime + " 81 a3 6d 73 67 a2 68 69 " + optChunk,
			want:  []string{helloWant, hiWant},
			chunk: "Y2g=",
		},
		{
			name: "forward mode without option",
			wire: "92 " + tagAppWeb + " 91 92 " + evTime + " " + recHello,
			want: []string{helloWant},
		},
		{
			name: "packed forward (bin), option size",
			wire: "93 " + tagAppWeb + " c4 " + hex.EncodeToString([]byte{byte(len(entries))}) + " " + packedHex(entries) + " 81 a4 73 69 7a 65 02",
			want: []string{helloWant, hiWant},
		},
		{
			name: "packed forward (str, as older Fluentd sends)",
			wire: "92 " + tagAppWeb + " d9 " + hex.EncodeToString([]byte{byte(len(entries))}) + " " + packedHex(entries),
			want: []string{helloWant, hiWant},
		},
		{
			name:  "compressed packed forward",
			wire:  "93 " + tagAppWeb + " c4 " + hex.EncodeToString([]byte{byte(gz.Len())}) + " " + packedHex(gz.Bytes()) + " 82 aa 63 6f 6d 70 72 65 73 73 65 64 a4 67 7a 69 70 a5 63 68 75 6e 6b a1 7a",
			want:  []string{helloWant, hiWant},
			chunk: "z",
		},
		{
			name: "empty tag: default index; time 0: arrival time",
			wire: "93 a0 00 81 a7 6d 65 73 73 61 67 65 a1 6d",
			want: []string{`time=42 index=default level= msg="m" fluent_tag=""`},
		},
		{
			name: "invalid UTF-8 repaired, CRLF trimmed",
			wire: "93 a1 74 01 81 a3 6c 6f 67 a4 61 ff 0d 0a",
			want: []string{"time=1000000000 index=t level= msg=\"a\uFFFD\" fluent_tag=\"t\""},
		},
		{name: "not an array", wire: "81 a1 61 01", err: ErrMode},
		{name: "array of one", wire: "91 " + tagAppWeb, err: ErrMode},
		{name: "tag not a string", wire: "93 01 " + intTime + " " + recHello, err: ErrMode},
		{name: "time a boolean", wire: "93 " + tagAppWeb + " c3 " + recHello, err: ErrTime},
		{name: "negative time", wire: "93 " + tagAppWeb + " ff " + recHello, err: ErrTime},
		{name: "record not a map", wire: "93 " + tagAppWeb + " " + intTime + " 90", err: ErrRecord},
		{name: "forward entry of 3", wire: "92 " + tagAppWeb + " 91 93 01 80 80", err: ErrMode},
		{name: "second forward entry bad: none kept", wire: "92 " + tagAppWeb + " 92 92 01 80 92 01 90", err: ErrRecord},
		{name: "packed entries cut short", wire: "92 " + tagAppWeb + " c4 03 92 01 81", err: ErrRecord},
		{name: "unknown compression", wire: "93 " + tagAppWeb + " c4 00 81 aa 63 6f 6d 70 72 65 73 73 65 64 a3 6c 7a 34", err: ErrMode},
		{name: "compressed but not gzip", wire: "93 " + tagAppWeb + " c4 02 01 02 81 aa 63 6f 6d 70 72 65 73 73 65 64 a4 67 7a 69 70"},
		{name: "option not a map", wire: "94 " + tagAppWeb + " 01 80 01", err: ErrMode},
	}
	d := NewDecoder(1 << 20)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &event.Batch{}
			b.Add().Message = "earlier" // must survive a refused frame
			chunk, err := d.Decode(b, unhex(t, tt.wire), 42)
			if tt.want == nil { // an error is expected
				if err == nil || tt.err != nil && !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if b.Len() != 1 || b.Events[0].Message != "earlier" {
					t.Fatalf("a refused frame changed the batch: %d events", b.Len())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(chunk) != tt.chunk {
				t.Errorf("chunk = %q, want %q", chunk, tt.chunk)
			}
			var got []string
			for i := 1; i < b.Len(); i++ {
				got = append(got, ingesttest.Render(&b.Events[i]))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestDecodeGzipBomb(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(make([]byte, 10<<20))
	zw.Close()
	n := gz.Len()
	frame := append(unhex(t, "93 "+tagAppWeb+" c6"), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	frame = append(frame, gz.Bytes()...)
	frame = append(frame, unhex(t, "81 aa 63 6f 6d 70 72 65 73 73 65 64 a4 67 7a 69 70")...)
	d := NewDecoder(1 << 20)
	if _, err := d.Decode(&event.Batch{}, frame, 1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("bomb: err %v, want ErrTooLarge", err)
	}
	if cap(d.inflated) > 1<<20+1 {
		t.Errorf("bomb grew the buffer to %d", cap(d.inflated))
	}
}

func TestScanner(t *testing.T) {
	frame := unhex(t, "92 "+tagAppWeb+" 92 92 "+evTime+" "+recHello+" 92 "+intTime+" 81 a3 6d 73 67 a2 68 69")
	// Fed byte by byte, the frame is found exactly once, at its end.
	sc := &scanner{limit: 1000}
	for i := 1; i <= len(frame); i++ {
		n, err := sc.scan(frame[:i])
		if err != nil {
			t.Fatal(err)
		}
		if (n != 0) != (i == len(frame)) || n != 0 && n != len(frame) {
			t.Fatalf("after %d of %d bytes: n = %d", i, len(frame), n)
		}
	}
	// Followed by more: it stops at the frame's end.
	two := append(append([]byte(nil), frame...), 0x01)
	if n, _ := (&scanner{limit: 1000}).scan(two); n != len(frame) {
		t.Fatalf("n = %d, want %d", n, len(frame))
	}
	for _, c := range []struct {
		name, wire string
		err        error
	}{
		{"str32 of 4 GiB announced", "db ff ff ff ff", errFrameTooLarge},
		{"array32 of 4 G items", "dd ff ff ff ff", errFrameTooLarge},
		{"map32 past the limit", "df 00 00 10 00", errFrameTooLarge},
		{"bin16 past the limit", "c5 10 00", errFrameTooLarge},
		{"0xc1", "92 c1", errBadType},
		{"too deep", strings.Repeat("91 ", maxDepth+1) + "01", errTooDeep},
	} {
		if _, err := (&scanner{limit: 1000}).scan(unhex(t, c.wire)); !errors.Is(err, c.err) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
		}
	}
}
