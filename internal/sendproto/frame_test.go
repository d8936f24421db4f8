package sendproto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var stream []byte
	payloads := [][]byte{[]byte("a\nb\n"), []byte("x"), bytes.Repeat([]byte("z"), 70000)}
	for i, p := range payloads {
		stream = AppendFrameHeader(stream, uint64(i+1), p)
		stream = append(stream, p...)
	}
	// The header is drawn in the package comment: check its bytes.
	if want := []byte{0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1}; !bytes.Equal(stream[:12], want) {
		t.Fatalf("header % x, want % x", stream[:12], want)
	}
	r := bufio.NewReader(bytes.NewReader(stream))
	var buf []byte
	for i, want := range payloads {
		seq, p, err := ReadFrame(r, buf, MaxFrameBytes)
		if err != nil || seq != uint64(i+1) || !bytes.Equal(p, want) {
			t.Fatalf("frame %d: seq %d, %d bytes, %v", i, seq, len(p), err)
		}
		buf = p
	}
	if _, _, err := ReadFrame(r, buf, MaxFrameBytes); err != io.EOF {
		t.Fatalf("end: %v, want EOF", err)
	}
}

func TestFrameCorrupt(t *testing.T) {
	good := append(AppendFrameHeader(nil, 7, []byte("hello")), "hello"...)
	flip := append([]byte(nil), good...)
	flip[len(flip)-1] ^= 1
	cases := map[string][]byte{
		"checksum":  flip,
		"zero len":  append(AppendFrameHeader(nil, 7, nil), "x"...),
		"zero seq":  append(AppendFrameHeader(nil, 0, []byte("hello")), "hello"...),
		"too large": good, // with maxBytes 4 below
	}
	for name, b := range cases {
		max := MaxFrameBytes
		if name == "too large" {
			max = 4
		}
		_, _, err := ReadFrame(bufio.NewReader(bytes.NewReader(b)), nil, max)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
	if _, _, err := ReadFrame(bufio.NewReader(bytes.NewReader(good[:10])), nil, MaxFrameBytes); err != io.ErrUnexpectedEOF {
		t.Errorf("cut header: %v", err)
	}
	if _, _, err := ReadFrame(bufio.NewReader(bytes.NewReader(good[:18])), nil, MaxFrameBytes); err != io.ErrUnexpectedEOF {
		t.Errorf("cut payload: %v", err)
	}
}

func TestReplies(t *testing.T) {
	var b []byte
	b = AppendAck(b, 3)
	b = AppendError(b, 4, "disk full")
	if want := []byte{'A', 0, 0, 0, 0, 0, 0, 0, 3}; !bytes.Equal(b[:9], want) {
		t.Fatalf("ack % x", b[:9])
	}
	r := bufio.NewReader(bytes.NewReader(b))
	if rep, err := ReadReply(r); err != nil || rep != (Reply{Kind: KindAck, Seq: 3}) {
		t.Fatalf("%+v %v", rep, err)
	}
	if rep, err := ReadReply(r); err != nil || rep != (Reply{Kind: KindError, Seq: 4, Msg: "disk full"}) {
		t.Fatalf("%+v %v", rep, err)
	}
	if _, err := ReadReply(bufio.NewReader(bytes.NewReader([]byte("Zxxxxxxxx")))); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unknown kind: %v", err)
	}
}

func TestHandshake(t *testing.T) {
	line := AppendHandshake(nil, "c-1", "web.app")
	if string(line) != "LOGCASTER-SEND/1 c-1 web.app\n" {
		t.Fatalf("%q", line)
	}
	id, idx, err := ParseHandshake(line)
	if err != nil || id != "c-1" || idx != "web.app" {
		t.Fatalf("%q %q %v", id, idx, err)
	}
	id, idx, err = ParseHandshake([]byte("LOGCASTER-SEND/1 abc\r\n"))
	if err != nil || id != "abc" || idx != "" {
		t.Fatalf("%q %q %v", id, idx, err)
	}
	for _, bad := range []string{"LOGCASTER-SEND/1 \n", "LOGCASTER-SEND/1 a b c\n", "LOGCASTER-SEND/1 a/b\n", "LOGCASTER-SEND/2 a\n", "hello\n"} {
		if _, _, err := ParseHandshake([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	r := bufio.NewReader(bytes.NewReader(AppendHandshakeError(nil, "no\nway")))
	if err := ReadHandshakeAnswer(r); err == nil || err.Error() != "server refused the connection: noway" {
		t.Fatalf("%v", err)
	}
}

// FuzzReadFrame feeds arbitrary bytes to the server's side of the framing:
// it must return frames or errors, never panic or over-allocate.
func FuzzReadFrame(f *testing.F) {
	f.Add(append(AppendFrameHeader(nil, 1, []byte("a\n")), "a\n"...))
	f.Add([]byte("LOGCASTER-SEND/1 id idx\n"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseHandshake(data)
		r := bufio.NewReader(bytes.NewReader(data))
		var buf []byte
		for {
			_, p, err := ReadFrame(r, buf, 1<<10)
			if err != nil {
				break
			}
			if len(p) > 1<<10 {
				t.Fatalf("frame of %d bytes over the limit", len(p))
			}
			buf = p
		}
		ReadReply(bufio.NewReader(bytes.NewReader(data)))
	})
}
