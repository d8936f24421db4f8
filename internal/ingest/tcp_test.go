package ingest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

func startTCP(t *testing.T, sink Sink, edit func(*TCPOptions)) *TCPServer {
	t.Helper()
	opts := DefaultTCPOptions()
	opts.Addr = "127.0.0.1:0"
	if edit != nil {
		edit(&opts)
	}
	s, err := NewTCPServer(sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

func dial(t *testing.T, s *TCPServer) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTCPLines(t *testing.T) {
	// A 16-byte read buffer makes most lines longer than the buffer, which
	// exercises the long-line path of lineReader.
	for _, bufSize := range []int{16, 32 << 10} {
		t.Run(fmt.Sprint(bufSize), func(t *testing.T) { testTCPLines(t, bufSize) })
	}
}

func testTCPLines(t *testing.T, bufSize int) {
	w := &recordWriter{}
	s := startTCP(t, newPipeline(t, w, 0), func(o *TCPOptions) {
		o.MaxLineBytes = 100
		o.DefaultIndex = "app"
		o.ReadBufferBytes = bufSize
	})
	c := dial(t, s)
	long := strings.Repeat("L", 150)
	writes := []string{
		"plain line\n",
		`{"msg":"json line","level":"error","ts":1714564800,"a":{"b":"c"}}` + "\n",
		"crlf line\r\n",
		"split ", "across ", "writes\n",
		long[:70], long[70:] + "\n",
		"bad \xff utf8\n",
		"\n",
		`{"msg": broken json` + "\n",
		"last line without newline",
	}
	for _, p := range writes {
		if _, err := io.WriteString(c, p); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // separate reads on the server
	}
	c.Close()
	w.waitCount(t, 8)
	time.Sleep(50 * time.Millisecond)
	if n := w.count(); n != 8 {
		t.Fatalf("stored %d events, want 8", n)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	got := make([]string, len(w.events))
	for i := range w.events {
		e := w.events[i]
		if e.Time == 0 || e.Index != "app" {
			t.Errorf("event %d: time %d index %q", i, e.Time, e.Index)
		}
		e.Time = 0
		got[i] = render(&e)
	}
	want := []string{
		"0|app||plain line||",
		"0|app|ERROR|json line||a.b=c",
		"0|app||crlf line||",
		"0|app||split across writes||",
		"0|app||" + long[:100] + "||truncated=true",
		"0|app||bad \uFFFD utf8||",
		`0|app||{"msg": broken json||`,
		"0|app||last line without newline||",
	}
	// The JSON line had its own time: restore the 0 we compared against.
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d:\n got  %q\n want %q", i, got[i], want[i])
		}
	}
	if w.events[1].Time != 1714564800e9 {
		t.Errorf("json time %d", w.events[1].Time)
	}
}

func TestTCPPing(t *testing.T) {
	w := &recordWriter{}
	s := startTCP(t, newPipeline(t, w, 0), nil)
	c := dial(t, s)
	r := bufio.NewReader(c)
	for _, ping := range []string{"PING\n", "PING\r\n"} {
		io.WriteString(c, ping)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := r.ReadString('\n')
		if err != nil || line != "PONG\n" {
			t.Fatalf("answer to %q: %q, %v", ping, line, err)
		}
	}
	io.WriteString(c, "PINGX\nping\n")
	w.waitCount(t, 2)
	if got := w.messages(); strings.Join(got, ",") != "PINGX,ping" {
		t.Fatalf("stored %q", got)
	}
}

func TestTCPManyConnections(t *testing.T) {
	const conns, lines = 2000, 5
	w := &recordWriter{}
	s := startTCP(t, newPipeline(t, w, 0), nil)
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			var sb strings.Builder
			for j := 0; j < lines; j++ {
				fmt.Fprintf(&sb, "conn %d line %d\n", i, j)
			}
			if _, err := io.WriteString(c, sb.String()); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	w.waitCount(t, conns*lines)
	seen := map[string]bool{}
	for _, m := range w.messages() {
		if seen[m] {
			t.Fatalf("duplicate %q", m)
		}
		seen[m] = true
	}
	if len(seen) != conns*lines || !seen["conn 1999 line 4"] {
		t.Fatalf("stored %d distinct lines", len(seen))
	}
}

// expectClosed checks that the server closes c within d.
func expectClosed(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	if err != io.EOF {
		t.Fatalf("read = %v, want EOF (connection closed by server)", err)
	}
}

func TestTCPIdleTimeout(t *testing.T) {
	w := &recordWriter{}
	s := startTCP(t, newPipeline(t, w, 0), func(o *TCPOptions) { o.IdleTimeout = 100 * time.Millisecond })
	c := dial(t, s)
	io.WriteString(c, "before idle\n")
	start := time.Now()
	expectClosed(t, c, 5*time.Second)
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
	w.waitCount(t, 1)
}

func TestTCPConnLimit(t *testing.T) {
	w := &recordWriter{}
	s := startTCP(t, newPipeline(t, w, 0), func(o *TCPOptions) { o.MaxConns = 2 })
	c1, c2 := dial(t, s), dial(t, s)
	io.WriteString(c1, "one\n")
	io.WriteString(c2, "two\n")
	w.waitCount(t, 2) // both are being served
	c3 := dial(t, s)
	expectClosed(t, c3, 5*time.Second)
	c1.Close()
	deadline := time.Now().Add(5 * time.Second)
	for { // once c1 is gone there is room again
		c4 := dial(t, s)
		io.WriteString(c4, "four\n")
		c4.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := c4.Read(make([]byte, 1))
		// Still open after 100 ms: served. Closed (EOF, or a reset because
		// "four" reached a closed socket): refused, try again.
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no room after a connection closed")
		}
	}
	w.waitCount(t, 3)
}

func TestTCPShutdownSubmitsWhatWasRead(t *testing.T) {
	w := &recordWriter{}
	p := newPipeline(t, w, 0)
	s := startTCP(t, p, nil)
	c := dial(t, s)
	io.WriteString(c, "a\nb\nunterminated")
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	w.waitCount(t, 3)
	if _, err := net.Dial("tcp", s.Addr().String()); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

// TestTCPBackpressure checks that a full queue stops reads rather than
// dropping: with the writer blocked nothing is lost once it resumes.
func TestTCPBackpressure(t *testing.T) {
	w := &recordWriter{block: make(chan struct{})}
	s := startTCP(t, newPipeline(t, w, 100), func(o *TCPOptions) { o.BatchEvents = 50 })
	c := dial(t, s)
	const n = 5000
	done := make(chan error, 1)
	go func() {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&sb, "line %d\n", i)
		}
		_, err := io.WriteString(c, sb.String())
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	close(w.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w.waitCount(t, n)
}

var _ = event.DefaultIndex
