package syslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// recorder is a pipeline.Writer that keeps every event written; gate, when
// set, holds each Write until it can receive.
type recorder struct {
	mu     sync.Mutex
	events []event.Event
	gate   chan struct{}
	once   sync.Once
}

// open lets every Write through from now on.
func (r *recorder) open() {
	if r.gate != nil {
		r.once.Do(func() { close(r.gate) })
	}
}

func (r *recorder) Write(batches []*event.Batch) error {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range batches {
		r.events = append(r.events, b.Events...)
	}
	return nil
}

func (r *recorder) snapshot() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Event(nil), r.events...)
}

// wait returns the events once there are n of them, failing after 10 s.
func (r *recorder) wait(t *testing.T, n int) []event.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev := r.snapshot()
		if len(ev) >= n {
			if len(ev) > n {
				t.Fatalf("got %d events, want %d", len(ev), n)
			}
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d events after 10s, want %d: %v", len(ev), n, messages(ev))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func messages(ev []event.Event) []string {
	var out []string
	for _, e := range ev {
		out = append(out, e.Message)
	}
	return out
}

type testServer struct {
	*Server
	rec *recorder
	m   *metrics.Metrics
	p   *pipeline.Pipeline
}

// startTest starts a Server on a loopback port over a real pipeline.
func startTest(t *testing.T, popts pipeline.Options, rec *recorder, edit func(*Options)) *testServer {
	t.Helper()
	p, err := pipeline.New(popts, rec)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	opts := DefaultOptions()
	opts.Addr = "127.0.0.1:0"
	opts.Metrics = m
	if edit != nil {
		edit(&opts)
	}
	s, err := New(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rec.open()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		p.Close()
	})
	return &testServer{Server: s, rec: rec, m: m, p: p}
}

func dial(t *testing.T, network string, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial(network, addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestServerTCPFramings(t *testing.T) {
	s := startTest(t, pipeline.DefaultOptions(), &recorder{}, nil)
	c := dial(t, "tcp", s.TCPAddr())
	// One connection mixing every framing, a raw LF inside an octet frame,
	// and a count that covers a trailing LF.
	msgs := []string{
		"<14>1 - h app - - - octet one",
		"<14>1 - h app - - - octet\nwith raw LF",
		"<14>1 - h app - - - octet with trailing LF\n",
	}
	var wire strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&wire, "%d %s", len(m), m)
	}
	wire.WriteString("<14>1 - h app - - - lf framed\n")
	wire.WriteString("<14>app: nul framed\x00")
	fmt.Fprintf(&wire, "%d %s", len(msgs[0]), msgs[0])
	if _, err := io.WriteString(c, wire.String()); err != nil {
		t.Fatal(err)
	}
	ev := s.rec.wait(t, 6)
	want := []string{"octet one", "octet\nwith raw LF", "octet with trailing LF", "lf framed", "nul framed", "octet one"}
	if got := messages(ev); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("messages %q, want %q", got, want)
	}
	for _, e := range ev {
		if e.Index != "app" || e.Level != "INFO" {
			t.Fatalf("event %+v: want index app, level INFO", e)
		}
	}
	if got := testutil.ToFloat64(s.m.IngestedEvents.WithLabelValues(protoTCP, "app")); got != 6 {
		t.Fatalf("ingested counter %v, want 6", got)
	}
}

func TestServerTCPBadFrameClosesOnlyThatConnection(t *testing.T) {
	s := startTest(t, pipeline.DefaultOptions(), &recorder{}, func(o *Options) { o.MaxMessageBytes = 1000 })
	good := dial(t, "tcp", s.TCPAddr())
	if _, err := io.WriteString(good, "<14>app: before\n"); err != nil {
		t.Fatal(err)
	}
	s.rec.wait(t, 1)
	for i, wire := range []string{
		"12 <14>app: x\n7 <14>y\n", // count too large: the next frame is out of step
		"5000 <14>app: x",          // over the limit
		strings.Repeat("z", 1500),  // LF-framed over the limit
	} {
		bad := dial(t, "tcp", s.TCPAddr())
		if _, err := io.WriteString(bad, wire); err != nil {
			t.Fatal(err)
		}
		bad.SetReadDeadline(time.Now().Add(5 * time.Second))
		// EOF, or a reset when the server closed with bytes unread.
		if n, err := bad.Read(make([]byte, 1)); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("case %d: read after a bad frame: %d, %v; want EOF (closed by the server)", i, n, err)
		}
		if got := testutil.ToFloat64(s.m.RejectedEvents.WithLabelValues(protoTCP, "bad_frame")); got != float64(i+1) {
			t.Fatalf("case %d: bad_frame counter %v, want %d", i, got, i+1)
		}
	}
	if _, err := io.WriteString(good, "<14>app: after\n"); err != nil {
		t.Fatal(err)
	}
	// The count-too-large case stored its first (over-long) frame.
	ev := s.rec.wait(t, 3)
	want := []string{"before", "x\n7", "after"}
	if got := messages(ev); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("messages %q, want %q", got, want)
	}
}

func TestServerUDP(t *testing.T) {
	s := startTest(t, pipeline.DefaultOptions(), &recorder{}, func(o *Options) { o.MaxMessageBytes = 1000 })
	if s.UDPAddr().(*net.UDPAddr).Port != s.TCPAddr().(*net.TCPAddr).Port {
		t.Fatalf("udp %v and tcp %v ports differ", s.UDPAddr(), s.TCPAddr())
	}
	c := dial(t, "udp", s.UDPAddr())
	for i := 0; i < 50; i++ {
		fmt.Fprintf(c, "<11>1 2024-05-01T12:00:00Z h svc - - [trace trace_id=\"t%d\"] udp %d\n", i, i)
	}
	// An oversized datagram is counted, not stored.
	if _, err := c.Write([]byte("<14>" + strings.Repeat("x", 2000))); err != nil {
		t.Fatal(err)
	}
	ev := s.rec.wait(t, 50)
	got := messages(ev)
	sort.Strings(got) // the parsers may hand batches over in any order
	var want []string
	for i := 0; i < 50; i++ {
		want = append(want, fmt.Sprintf("udp %d", i))
	}
	sort.Strings(want)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("messages %q, want %q", got, want)
	}
	for _, e := range ev {
		if e.Level != "ERROR" || e.Index != "svc" || e.Time != testNow || "udp "+e.TraceID[1:] != e.Message {
			t.Fatalf("event %+v", e)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(s.m.RejectedEvents.WithLabelValues(protoUDP, "bad_frame")) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("oversized datagram not counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServerUDPQueueFull checks that UDP drops, and counts, what finds the
// pipeline's queue full instead of blocking or losing it silently.
func TestServerUDPQueueFull(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	s := startTest(t, pipeline.Options{QueueEvents: 5, GroupEvents: 5}, rec, func(o *Options) { o.UDPWorkers = 1 })
	c := dial(t, "udp", s.UDPAddr())
	const sent = 200
	for i := 0; i < sent; i++ {
		fmt.Fprintf(c, "<14>app: m%d", i)
		time.Sleep(50 * time.Microsecond) // leave the reader time: one datagram a chunk, mostly
	}
	dropped := func() float64 { return testutil.ToFloat64(s.m.DroppedEvents.WithLabelValues(protoUDP, "queue_full")) }
	ingested := func() float64 { return testutil.ToFloat64(s.m.IngestedEvents.WithLabelValues(protoUDP, "app")) }
	deadline := time.Now().Add(5 * time.Second)
	for dropped()+ingested() < sent && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if dropped() == 0 || dropped()+ingested() != sent {
		t.Fatalf("dropped %v + ingested %v, want > 0 dropped and %d in all", dropped(), ingested(), sent)
	}
	rec.open()
	s.rec.wait(t, int(ingested()))
}

func TestServerMaxConns(t *testing.T) {
	s := startTest(t, pipeline.DefaultOptions(), &recorder{}, func(o *Options) { o.MaxConns = 1 })
	first := dial(t, "tcp", s.TCPAddr())
	io.WriteString(first, "<14>app: one\n")
	s.rec.wait(t, 1)
	second := dial(t, "tcp", s.TCPAddr())
	second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("second connection: %v, want EOF", err)
	}
	if got := testutil.ToFloat64(s.m.RejectedEvents.WithLabelValues(protoTCP, "conn_limit")); got != 1 {
		t.Fatalf("conn_limit counter %v, want 1", got)
	}
}

func TestServerIdleTimeout(t *testing.T) {
	s := startTest(t, pipeline.DefaultOptions(), &recorder{}, func(o *Options) { o.IdleTimeout = 100 * time.Millisecond })
	c := dial(t, "tcp", s.TCPAddr())
	io.WriteString(c, "<14>app: partial without LF")
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %v", d)
	}
	// What it had sent is kept.
	if got := messages(s.rec.wait(t, 1)); got[0] != "partial without LF" {
		t.Fatalf("message %q", got[0])
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, edit := range []func(*Options){
		func(o *Options) { o.MaxMessageBytes = 0 },
		func(o *Options) { o.MaxConns = 0 },
		func(o *Options) { o.IdleTimeout = -1 },
		func(o *Options) { o.BatchEvents = 0 },
		func(o *Options) { o.ReadBufferBytes = 10 },
		func(o *Options) { o.UDPReadBuffer = -1 },
		func(o *Options) { o.UDPWorkers = 0 },
	} {
		o := DefaultOptions()
		edit(&o)
		if o.Validate() == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
