package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/logcaster/logcaster/internal/pipeline"
)

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTCPLines(t *testing.T) {
	s := startServer(t, "")
	c := dial(t, s.tcp)
	defer c.Close()

	// Plain, CRLF, JSON with aliases and nesting, invalid JSON, invalid UTF-8,
	// and one line written in three pieces.
	ts := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	lines := "plain text line one\n" +
		"crlf line two\r\n" +
		fmt.Sprintf(`{"@timestamp":%q,"msg":"json line three","severity":"warning","traceId":"abc123","request":{"url":"/pay","status":502}}`, ts.Format(time.RFC3339Nano)) + "\n" +
		`{"broken json line four` + "\n" +
		"bad utf8 \xff\xfe line five\n"
	if _, err := c.Write([]byte(lines)); err != nil {
		t.Fatal(err)
	}
	for _, piece := range []string{"split ac", "ross wri", "tes line six\n"} {
		c.Write([]byte(piece))
		time.Sleep(30 * time.Millisecond)
	}
	rows := s.waitRows("*", 6)
	msgs := messages(rows)
	hasAll(t, msgs, "plain text line one", "crlf line two", "json line three", `{"broken json line four`,
		"bad utf8 \uFFFD\uFFFD line five", "split across writes line six")

	for _, r := range rows {
		if r["message"] != "json line three" {
			continue
		}
		want := map[string]string{"level": "WARN", "trace_id": "abc123", "request.url": "/pay", "request.status": "502",
			"timestamp": ts.Format(time.RFC3339Nano), "index": "default"}
		for k, v := range want {
			if got := fmt.Sprint(r[k]); got != v {
				t.Errorf("field %s = %q, want %q (row %v)", k, got, v, r)
			}
		}
	}
	// Field search and boolean operators over what was stored.
	if got := messages(s.query(`trace_id:abc123`, 10)); len(got) != 1 || got[0] != "json line three" {
		t.Fatalf("trace_id query: %q", got)
	}
	// "json" is a token of line three and of the broken line four.
	got := messages(s.query(`line AND NOT (json OR utf8)`, 10))
	if len(got) != 3 {
		t.Fatalf("boolean query: got %d rows, want 3: %q", len(got), got)
	}
	hasAll(t, got, "plain text line one", "crlf line two", "split across writes line six")
	if got := s.query(`"line two"`, 10); len(got) != 1 {
		t.Fatalf("phrase query: got %d rows", len(got))
	}
}

func TestTCPPingLongLinesAndConcurrency(t *testing.T) {
	s := startServer(t, "", "--tcp.max-line", "1KiB")
	c := dial(t, s.tcp)
	defer c.Close()
	c.Write([]byte("PING\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "PONG\n" {
		t.Fatalf("PING answered %q, %v", buf[:n], err)
	}
	long := "longline " + strings.Repeat("x", 3000)
	c.Write([]byte(long + "\nafter the long line\n"))

	// Many concurrent connections, each sending its own lines.
	const conns, perConn = 300, 20
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cc, err := net.Dial("tcp", s.tcp)
			if err != nil {
				t.Error(err)
				return
			}
			defer cc.Close()
			var b bytes.Buffer
			for j := 0; j < perConn; j++ {
				fmt.Fprintf(&b, "conn%d msg%d concurrent\n", i, j)
			}
			cc.Write(b.Bytes())
		}(i)
	}
	wg.Wait()
	s.waitRows("concurrent", conns*perConn)
	rows := s.waitRows("longline", 1)
	if m := rows[0]["message"].(string); len(m) != 1024 || !strings.HasPrefix(m, "longline xxx") {
		t.Fatalf("long line kept as %d bytes %q...", len(m), m[:20])
	}
	if rows[0]["truncated"] != "true" {
		t.Fatalf("long line not marked truncated: %v", rows[0])
	}
	s.waitRows(`"after the long line"`, 1)
	if got := s.query("PING", 10); len(got) != 0 {
		t.Fatalf("PING was stored: %v", got)
	}
}

func TestTCPIdleTimeout(t *testing.T) {
	s := startServer(t, "", "--tcp.idle-timeout", "300ms")
	c := dial(t, s.tcp)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err := c.Read(make([]byte, 1))
	if err == nil || time.Since(start) > 4*time.Second {
		t.Fatalf("idle connection not closed: %v after %s", err, time.Since(start))
	}
}

func TestHTTPIngest(t *testing.T) {
	s := startServer(t, "", "--http.max-body", "64KiB")
	code, out := s.ingest("shop", []byte("first plain line\n{\"msg\":\"second json\",\"level\":\"error\"}\n{bad json\nfourth line\n"), "")
	if code != 200 || out["accepted"] != float64(3) {
		t.Fatalf("mixed body: %d %v", code, out)
	}
	rej, _ := out["rejected"].([]any)
	if len(rej) != 1 || rej[0].(map[string]any)["line"] != float64(3) || rej[0].(map[string]any)["error"] == "" {
		t.Fatalf("rejected: %v", out["rejected"])
	}
	// Acknowledged means stored and searchable: no waiting.
	if got := s.query("index:shop", 10); len(got) != 3 {
		t.Fatalf("index:shop has %d rows after ack", len(got))
	}
	if got := s.query("second level:ERROR", 10); len(got) != 1 {
		t.Fatalf("level:ERROR: %d rows", len(got))
	}

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("gzipped one\ngzipped two\n"))
	zw.Close()
	if code, out := s.ingest("shop", gz.Bytes(), "gzip"); code != 200 || out["accepted"] != float64(2) {
		t.Fatalf("gzip: %d %v", code, out)
	}
	enc, _ := zstd.NewWriter(nil)
	zb := enc.EncodeAll([]byte("zstd one\nzstd two\nzstd three\n"), nil)
	if code, out := s.ingest("shop", zb, "zstd"); code != 200 || out["accepted"] != float64(3) {
		t.Fatalf("zstd: %d %v", code, out)
	}
	if got := s.query("gzipped OR zstd", 10); len(got) != 5 {
		t.Fatalf("compressed bodies: %d rows", len(got))
	}

	// Counted in /metrics: 3 + 2 + 3 accepted, 1 rejected.
	metrics := s.get("/metrics")
	for _, want := range []string{
		`logcaster_ingested_events_total{index="shop",protocol="http"} 8`,
		`logcaster_rejected_events_total{protocol="http",reason="invalid_json"} 1`,
		`logcaster_storage_rows `, fmt.Sprintf("logcaster_queue_capacity %d", pipeline.DefaultOptions().QueueEvents),
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	big := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef\n"), 4000) // 132 KB
	if code, out := s.ingest("shop", big, ""); code != 413 || out["error"] == nil {
		t.Fatalf("oversize body: %d %v", code, out)
	}
	// A gzip bomb: small on the wire, over the limit once inflated.
	gz.Reset()
	zw = gzip.NewWriter(&gz)
	zw.Write(big)
	zw.Close()
	if code, _ := s.ingest("shop", gz.Bytes(), "gzip"); code != 413 {
		t.Fatalf("oversize gzip body: %d", code)
	}
}

func TestHTTPQueueFull429(t *testing.T) {
	s := startServer(t, "", "--queue-size", "1", "--sync", "always")
	body := []byte("pressure line\n")
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for round := 0; round < 20 && codes[429] == 0; round++ {
		for i := 0; i < 64; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _ := s.ingest("p", body, "")
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	if codes[429] == 0 {
		t.Fatalf("no 429 with a one-event queue under 64 concurrent senders: %v", codes)
	}
	if got := len(s.query("index:p", 100000)); got != codes[200] {
		t.Fatalf("stored %d events, acknowledged %d", got, codes[200])
	}
}

func TestHTTPConnectionLimit(t *testing.T) {
	s := startServer(t, "", "--http.max-conns", "3")
	time.Sleep(100 * time.Millisecond) // let the readiness poll's connection close
	var held []net.Conn
	for i := 0; i < 3; i++ {
		c := dial(t, s.http)
		defer c.Close()
		held = append(held, c)
	}
	time.Sleep(100 * time.Millisecond)
	extra := dial(t, s.http)
	defer extra.Close()
	extra.Write([]byte("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"))
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := extra.Read(make([]byte, 64)); err == nil {
		t.Fatalf("connection over the limit was served (%d bytes)", n)
	}
	// Within the limit, a held connection is served.
	held[0].Write([]byte("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"))
	held[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 12)
	if _, err := held[0].Read(buf); err != nil || string(buf) != "HTTP/1.1 200" {
		t.Fatalf("held connection: %q %v", buf, err)
	}
}
