package fluentforward

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

// TestFluentLogger sends with the real client, fluent-logger-golang, with
// acks requested and EventTime on, and checks the fields of every event.
func TestFluentLogger(t *testing.T) {
	w := &ingesttest.Recorder{}
	s, m := startTestServer(t, w, nil)
	host, port, _ := net.SplitHostPort(s.TCPAddr().String())
	p, _ := strconv.Atoi(port)
	logger, err := fluent.New(fluent.Config{FluentHost: host, FluentPort: p, RequestAck: true,
		SubSecondPrecision: true, Async: false, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 123456789)
	err = logger.PostWithTime("payment.api", ts, map[string]any{
		"message":  "결제 실패: 카드 한도 초과",
		"level":    "error",
		"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
		"http":     map[string]any{"status": 502},
	})
	if err != nil {
		t.Fatalf("post (waits for the ack): %v", err)
	}
	// The ack came back, so the event is durable already: no waiting.
	got := ingesttest.RenderAll(w.Events())
	want := `time=1700000000123456789 index=payment level=ERROR msg="결제 실패: 카드 한도 초과" trace=4bf92f3577b34da6a3ce929d0e0e4736 http.status="502" fluent_tag="payment.api"`
	if len(got) != 1 || got[0] != want {
		t.Fatalf("stored %q\nwant %q", got, want)
	}
	for i := 0; i < 50; i++ {
		if err := logger.Post("app.worker", map[string]any{"log": "line " + strconv.Itoa(i) + "\n", "index": "jobs"}); err != nil {
			t.Fatal(err)
		}
	}
	got = ingesttest.RenderAll(w.Events())
	if len(got) != 51 {
		t.Fatalf("%d events stored after 51 acked posts", len(got))
	}
	if !strings.Contains(got[50], ` index=jobs level= msg="line 49" fluent_tag="app.worker"`) {
		t.Errorf("last event %s", got[50])
	}
	logger.Close()
	if n := ingesttest.Rejected(m, protocol, "malformed"); n != 0 {
		t.Errorf("malformed counted %v", n)
	}
}

// TestAckAfterDurable holds the store's writes and checks the ack waits
// for them.
func TestAckAfterDurable(t *testing.T) {
	w := &ingesttest.Recorder{Gate: make(chan struct{})}
	s, _ := startTestServer(t, w, nil)
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(unhex(t, "94 "+tagAppWeb+" "+intTime+" "+recHello+" "+optChunk))
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c.Read(make([]byte, 64)); err == nil {
		t.Fatalf("ack of %d bytes before the event was durable", n)
	}
	w.Open()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	ack := make([]byte, 64)
	n, err := c.Read(ack)
	if err != nil {
		t.Fatal(err)
	}
	// {"ack":"Y2g="}: fixmap 1, fixstr "ack", fixstr "Y2g=".
	if want := unhex(t, "81 a3 61 63 6b a4 59 32 67 3d"); !bytes.Equal(ack[:n], want) {
		t.Fatalf("ack % x, want % x", ack[:n], want)
	}
	if got := ingesttest.RenderAll(w.Events()); len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
}

func TestBadFrames(t *testing.T) {
	w := &ingesttest.Recorder{}
	s, m := startTestServer(t, w, func(o *Options) { o.MaxFrameBytes = 1000 })
	dial := func() net.Conn {
		c, err := net.Dial("tcp", s.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closed := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := c.Read(make([]byte, 1))
		return err != nil
	}
	// A malformed frame between good ones: refused, the others kept, the
	// connection goes on.
	c := dial()
	good := unhex(t, "93 "+tagAppWeb+" "+intTime+" "+recHello)
	c.Write(good)
	c.Write(unhex(t, "93 01 02 03"))
	c.Write(good)
	ingesttest.RenderAll(w.Wait(t, 2))
	if n := ingesttest.Rejected(m, protocol, "malformed"); n != 1 {
		t.Errorf("malformed counted %v, want 1", n)
	}
	// A frame announcing 100 MB: the connection ends at once, before the
	// bytes arrive.
	c2 := dial()
	c2.Write(unhex(t, "93 "+tagAppWeb+" "+intTime+" c6 05 f5 e1 00"))
	if !closed(c2) {
		t.Fatal("connection announcing a 100 MB frame stayed open")
	}
	// Not msgpack at all (0xc1).
	c3 := dial()
	c3.Write([]byte{0xc1})
	if !closed(c3) {
		t.Fatal("connection sending 0xc1 stayed open")
	}
	if ingesttest.Rejected(m, protocol, "too_large") != 1 || ingesttest.Rejected(m, protocol, "bad_frame") != 1 {
		t.Errorf("too_large %v, bad_frame %v; want 1, 1", ingesttest.Rejected(m, protocol, "too_large"), ingesttest.Rejected(m, protocol, "bad_frame"))
	}
	// The first connection still works.
	c.Write(good)
	ingesttest.RenderAll(w.Wait(t, 3))
}
