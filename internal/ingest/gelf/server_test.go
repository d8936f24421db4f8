package gelf

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

func TestTCP(t *testing.T) {
	s, w, m := startTestServer(t, func(o *Options) { o.MaxMessageBytes = 1000 })
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Three messages in one write, a bad one between them, an LF before a
	// NUL (some senders), and an empty frame.
	io.WriteString(c, `{"short_message":"one","timestamp":1700000000.001}`+"\x00"+
		`not json`+"\x00"+
		`{"short_message":"two","timestamp":1700000000.002,"_trace_id":"abc"}`+"\n\x00"+
		"\x00")
	// A message split across writes.
	io.WriteString(c, `{"short_message":"thr`)
	time.Sleep(20 * time.Millisecond)
	io.WriteString(c, `ee","timestamp":1700000000.003}`+"\x00")
	got := ingesttest.RenderAll(w.Wait(t, 3))
	want := []string{
		`time=1700000000001000000 index=default level= msg="one"`,
		`time=1700000000002000000 index=default level= msg="two" trace=abc`,
		`time=1700000000003000000 index=default level= msg="three"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := ingesttest.Rejected(m, protoTCP, "malformed"); n != 1 {
		t.Errorf("rejected malformed = %v, want 1", n)
	}

	// A frame over the limit closes that connection only.
	c2, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write(bytes.Repeat([]byte("x"), 5000))
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection with an oversized frame stayed open")
	}
	if n := ingesttest.Rejected(m, protoTCP, "too_large"); n != 1 {
		t.Errorf("rejected too_large = %v, want 1", n)
	}
	io.WriteString(c, `{"short_message":"four"}`+"\x00")
	ingesttest.RenderAll(w.Wait(t, 4))
}

func TestUDP(t *testing.T) {
	s, w, m := startTestServer(t, func(o *Options) {
		o.MaxMessageBytes = 1 << 20
		o.ChunkTimeout = 200 * time.Millisecond
	})
	c, err := net.Dial("udp", s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(p []byte) {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // loopback UDP keeps order, but give the reader time
	}
	send([]byte(`{"short_message":"plain","timestamp":1700000000.1}`))
	send(gzipped(t, []byte(`{"short_message":"gzip","timestamp":1700000000.2}`)))
	send(zlibbed(t, []byte(`{"short_message":"zlib","timestamp":1700000000.3}`)))
	// A gzip message in three chunks, sent out of order.
	z := gzipped(t, []byte(`{"short_message":"chunked 결제 실패","timestamp":1700000000.4,"_index":"pay"}`))
	k := len(z) / 3
	send(chunk(77, 2, 3, string(z[2*k:])))
	send(chunk(77, 0, 3, string(z[:k])))
	send(chunk(77, 1, 3, string(z[k:2*k])))
	got := ingesttest.RenderAll(w.Wait(t, 4))
	want := []string{
		`time=1700000000100000000 index=default level= msg="plain"`,
		`time=1700000000200000000 index=default level= msg="gzip"`,
		`time=1700000000300000000 index=default level= msg="zlib"`,
		`time=1700000000400000000 index=pay level= msg="chunked 결제 실패"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Bad input, each counted: a bomb, a malformed message, a bad chunk
	// header, and a message whose last chunk never comes.
	send(gzipped(t, make([]byte, 50<<20)))
	send([]byte(`{"nope":1}`))
	send(chunk(78, 5, 2, "x"))
	send(chunk(79, 0, 2, "half"))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ingesttest.Rejected(m, protoUDP, "too_large") == 1 && ingesttest.Rejected(m, protoUDP, "malformed") == 1 &&
			ingesttest.Rejected(m, protoUDP, "bad_chunk") == 1 && ingesttest.Dropped(m, protoUDP, "chunks_incomplete") == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range []struct {
		reason string
		got    float64
	}{
		{"too_large", ingesttest.Rejected(m, protoUDP, "too_large")},
		{"malformed", ingesttest.Rejected(m, protoUDP, "malformed")},
		{"bad_chunk", ingesttest.Rejected(m, protoUDP, "bad_chunk")},
		{"chunks_incomplete", ingesttest.Dropped(m, protoUDP, "chunks_incomplete")},
	} {
		if c.got != 1 {
			t.Errorf("%s counted %v times, want 1", c.reason, c.got)
		}
	}
	// And the server goes on.
	send([]byte(`{"short_message":"after"}`))
	ingesttest.RenderAll(w.Wait(t, 5))
}

func TestHTTP(t *testing.T) {
	s, w, m := startTestServer(t, func(o *Options) { o.MaxMessageBytes = 1 << 20 })
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	post := func(body []byte, enc string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/gelf", bytes.NewReader(body))
		if enc != "" {
			req.Header.Set("Content-Encoding", enc)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post([]byte(`{"version":"1.1","host":"h","short_message":"over http","level":6,"timestamp":1700000000.5}`), ""); code != 202 || body != "" {
		t.Fatalf("plain: %d %q", code, body)
	}
	// Stored before the answer: no waiting needed.
	if got := ingesttest.RenderAll(w.Events()); len(got) != 1 || got[0] != `time=1700000000500000000 index=default level=INFO msg="over http" host="h"` {
		t.Fatalf("stored %q", got)
	}
	if code, _ := post(gzipped(t, []byte(`{"short_message":"gz"}`)), "gzip"); code != 202 {
		t.Fatalf("gzip: %d", code)
	}
	if code, body := post([]byte(`{"message":"x"}`), ""); code != 400 || !strings.Contains(body, `"error":"gelf: short_message missing`) {
		t.Fatalf("invalid: %d %q", code, body)
	}
	if code, _ := post(gzipped(t, make([]byte, 10<<20)), "gzip"); code != 413 {
		t.Fatalf("bomb: %d, want 413", code)
	}
	if code, _ := post(make([]byte, 2<<20), ""); code != 413 {
		t.Fatalf("too large: %d, want 413", code)
	}
	resp, err := http.Get(srv.URL + "/gelf")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Fatalf("GET: %d, want 405", resp.StatusCode)
	}
	if n := ingesttest.Rejected(m, protoHTTP, "too_large"); n != 2 {
		t.Errorf("too_large counted %v, want 2", n)
	}
	if n := ingesttest.Rejected(m, protoHTTP, "malformed"); n != 1 {
		t.Errorf("malformed counted %v, want 1", n)
	}
	if n := len(ingesttest.RenderAll(w.Events())); n != 2 {
		t.Errorf("%d events stored, want 2", n)
	}
}

func TestConnLimit(t *testing.T) {
	s, _, m := startTestServer(t, func(o *Options) { o.MaxConns = 1 })
	c1, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c1.Write([]byte(`{"short_message":"a"}` + "\x00"))
	time.Sleep(50 * time.Millisecond)
	c2, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Fatal("second connection was served")
	}
	if n := ingesttest.Rejected(m, protoTCP, "conn_limit"); n != 1 {
		t.Errorf("conn_limit counted %v, want 1", n)
	}
}
