package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// sseEvent is one Server-Sent Event as a client sees it.
type sseEvent struct{ id, typ, data string }

type sseStream struct {
	resp *http.Response
	rd   *bufio.Reader
}

func openTailStream(t *testing.T, s *server, path string, lastID string) *sseStream {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.http+path, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &sseStream{resp, bufio.NewReader(resp.Body)}
}

func (c *sseStream) next() (sseEvent, error) {
	var f sseEvent
	for {
		line, err := c.rd.ReadString('\n')
		if err != nil {
			return f, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if f.typ != "" {
				return f, nil
			}
		case strings.HasPrefix(line, "id: "):
			f.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			f.typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			f.data = line[6:]
		}
	}
}

// logMsg reads the next event, which must be a log event, within 10 s.
func (c *sseStream) logMsg(t *testing.T) (msg string, seq uint64, id string) {
	t.Helper()
	type res struct {
		f   sseEvent
		err error
	}
	ch := make(chan res, 1)
	go func() { f, err := c.next(); ch <- res{f, err} }()
	var r res
	select {
	case r = <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	if r.err != nil || r.f.typ != "log" {
		t.Fatalf("want a log event, got %+v %v", r.f, r.err)
	}
	var row map[string]string
	if err := json.Unmarshal([]byte(r.f.data), &row); err != nil {
		t.Fatalf("data %q: %v", r.f.data, err)
	}
	_, s, _ := strings.Cut(r.f.id, "-")
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("id %q", r.f.id)
	}
	return row["message"], n, r.f.id
}

func ndjsonMessages(msgs ...string) []byte {
	var b []byte
	for _, m := range msgs {
		b = append(b, `{"message":`...)
		b = strconv.AppendQuote(b, m)
		b = append(b, "}\n"...)
	}
	return b
}

func TestTailOrderAndExactlyOnceResume(t *testing.T) {
	s := startServer(t, "")
	c := openTailStream(t, s, "/api/v1/tail?q=keep", "")
	const senders, per = 8, 50
	var wg sync.WaitGroup
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				code, _ := s.ingest("app", ndjsonMessages(fmt.Sprintf("keep s%d n%d", g, i), "skip"), "")
				if code != 200 {
					t.Errorf("ingest: %d", code)
				}
			}
		}()
	}
	wg.Wait()
	next := make([]int, senders)
	var prev uint64
	var lastID string
	seen := 0
	read := func(c *sseStream, n int) {
		for ; n > 0; n-- {
			m, seq, id := c.logMsg(t)
			if seq <= prev {
				t.Fatalf("cursor %d after %d", seq, prev)
			}
			prev, lastID = seq, id
			var g, i int
			if _, err := fmt.Sscanf(m, "keep s%d n%d", &g, &i); err != nil {
				t.Fatalf("message %q", m)
			}
			if i != next[g] {
				t.Fatalf("sender %d: got n%d, want n%d (lost, repeated or reordered)", g, i, next[g])
			}
			next[g]++
			seen++
		}
	}
	read(c, senders*per/2)
	c.resp.Body.Close()
	// More arrive while the viewer is away; the resume replays them from
	// the ring, then continues live.
	for g := 0; g < senders; g++ {
		for i := per; i < per+5; i++ {
			s.ingest("app", ndjsonMessages(fmt.Sprintf("keep s%d n%d", g, i)), "")
		}
	}
	c2 := openTailStream(t, s, "/api/v1/tail?q=keep", lastID)
	read(c2, senders*per/2+senders*5)
	s.ingest("app", ndjsonMessages("keep s0 n55"), "")
	read(c2, 1)
	if seen != senders*(per+5)+1 {
		t.Fatalf("saw %d", seen)
	}
}

func TestTailLimitsRefusalAndShutdown(t *testing.T) {
	s := startServer(t, "", "--tail.max-per-client", "2")
	resp, err := http.Get("http://" + s.http + "/api/v1/tail?q=" + "error+|+stats+count()")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "stats") {
		t.Fatalf("stats pipe: %d %s", resp.StatusCode, b)
	}
	a := openTailStream(t, s, "/api/v1/tail", "")
	bb := openTailStream(t, s, "/api/v1/tail?q=x", "")
	resp, err = http.Get("http://" + s.http + "/api/v1/tail")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third tail from one address: %d", resp.StatusCode)
	}
	if m := s.get("/metrics"); !strings.Contains(m, "logcaster_live_subscribers 2") {
		t.Fatalf("metrics: gauge not 2")
	}
	done := make(chan struct{})
	go func() { s.stop(); close(done) }()
	for i, c := range []*sseStream{a, bb} {
		f, err := c.next()
		if err != nil || f.typ != "end" || !strings.Contains(f.data, "shutting down") || !strings.Contains(f.data, "resume_cursor") {
			t.Fatalf("stream %d: %+v %v", i, f, err)
		}
		if _, err := c.next(); err != io.EOF {
			t.Fatalf("stream %d after end: %v", i, err)
		}
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
}

// TestTailCommandResumesAfterIdle runs `logcaster tail` against a server
// whose idle cut-off is 1 s: the command reconnects with the cursor the
// idle notice gave and misses nothing sent after.
func TestTailCommandResumesAfterIdle(t *testing.T) {
	s := startServer(t, "", "--tail.idle", "1s")
	s.ingest("app", ndjsonMessages("old keep"), "")
	cmd := exec.Command(binary, "tail", "--server", "http://"+s.http, "--json", "--since", "1h", "keep")
	out := &syncBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitOut := func(want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !strings.Contains(out.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("tail output lacks %q:\n%s", want, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitOut(`"message":"old keep"`)
	s.ingest("app", ndjsonMessages("first keep", "drop me"), "")
	waitOut(`"message":"first keep"`)
	time.Sleep(2500 * time.Millisecond) // past the idle cut-off: the command reconnects
	s.ingest("app", ndjsonMessages("second keep"), "")
	waitOut(`"message":"second keep"`)
	if n := strings.Count(s.logBuf.String(), "path=/api/v1/tail"); n < 1 {
		t.Fatalf("the first stream should have ended at the idle cut-off (request log has %d tails)", n)
	}
	got := out.String()
	if strings.Count(got, "first keep") != 1 || strings.Count(got, "old keep") != 1 || strings.Contains(got, "drop me") {
		t.Fatalf("output:\n%s", got)
	}
}

// TestTailIdleViewersMemory measures what 10,000 idle SSE viewers cost the
// server (its RSS before and after they connect). It opens 10,000 loopback
// connections, so it runs only when LOGCASTER_TAIL_BENCH=1.
func TestTailIdleViewersMemory(t *testing.T) {
	if os.Getenv("LOGCASTER_TAIL_BENCH") != "1" {
		t.Skip("set LOGCASTER_TAIL_BENCH=1 to open 10,000 viewers")
	}
	const viewers = 10000
	s := startServer(t, "", "--tail.max-per-client", "20000", "--http.max-conns", "20000")
	before := rssKiB(t, s.cmd.Process.Pid)
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: viewers, DisableCompression: true}
	client := &http.Client{Transport: tr}
	var bodies []io.Closer
	for i := 0; i < viewers; i++ {
		resp, err := client.Get("http://" + s.http + "/api/v1/tail?q=filter" + strconv.Itoa(i%100))
		if err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("viewer %d: %d", i, resp.StatusCode)
		}
		bodies = append(bodies, resp.Body)
	}
	defer func() {
		for _, b := range bodies {
			b.Close()
		}
	}()
	time.Sleep(time.Second)
	if m := s.get("/metrics"); !strings.Contains(m, "logcaster_live_subscribers 10000") {
		t.Fatal("gauge is not 10000")
	}
	after := rssKiB(t, s.cmd.Process.Pid)
	t.Logf("server RSS: %d MiB before, %d MiB with %d idle viewers: %.1f KiB a viewer", before>>10, after>>10, viewers, float64(after-before)/viewers)
	if after-before > 300<<10 {
		t.Fatalf("%d idle viewers cost %d MiB", viewers, (after-before)>>10)
	}
}

func rssKiB(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

func TestTailWebSocket(t *testing.T) {
	s := startServer(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+s.http+"/api/v1/tail/ws?q=keep", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	s.ingest("app", ndjsonMessages("keep ws", "other"), "")
	_, msg, err := conn.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Type, Cursor string
		Event        map[string]string
	}
	if err := json.Unmarshal(msg, &m); err != nil || m.Type != "log" || !strings.HasSuffix(m.Cursor, "-1") || m.Event["message"] != "keep ws" {
		t.Fatalf("message %s (%v)", msg, err)
	}
}

// readKeeps reads n log events "keep N" from c and checks they continue
// the sequence from *next, each exactly once and in order.
func readKeeps(t *testing.T, c *sseStream, n int, next *int) (lastID string) {
	t.Helper()
	for ; n > 0; n-- {
		m, _, id := c.logMsg(t)
		if m != "keep "+strconv.Itoa(*next) {
			t.Fatalf("got %q, want keep %d (lost, repeated or reordered)", m, *next)
		}
		*next++
		lastID = id
	}
	return lastID
}

// sendKeeps ingests keep from..to-1, each beside a line the filter skips,
// in requests of 50 pairs.
func sendKeeps(t *testing.T, s *server, from, to int) {
	t.Helper()
	for i := from; i < to; {
		var msgs []string
		for j := 0; j < 50 && i < to; j++ {
			msgs = append(msgs, "keep "+strconv.Itoa(i), "skip "+strconv.Itoa(i))
			i++
		}
		if code, _ := s.ingest("app", ndjsonMessages(msgs...), ""); code != 200 {
			t.Fatalf("ingest: %d", code)
		}
	}
}

// TestTailResumeFillsFromStore: with a replay ring of a few KiB, a viewer
// away while 3,000 events arrive resumes with Last-Event-ID and gets
// every matching one exactly once, in order, from the store, then live.
func TestTailResumeFillsFromStore(t *testing.T) {
	s := startServer(t, "", "--tail.replay-bytes", "4096")
	c := openTailStream(t, s, "/api/v1/tail?q=keep", "")
	sendKeeps(t, s, 0, 20)
	next := 0
	lastID := readKeeps(t, c, 10, &next)
	c.resp.Body.Close()
	sendKeeps(t, s, 20, 1500)
	c2 := openTailStream(t, s, "/api/v1/tail?q=keep", lastID)
	readKeeps(t, c2, 1490, &next)
	sendKeeps(t, s, 1500, 1501)
	readKeeps(t, c2, 1, &next)
}

// TestTailResumeAcrossKill9: a viewer's cursor from before a kill -9 of the
// server resumes exactly on the restarted server: the rest of the old run
// from the store (with the old run's cursors), then the new run's events.
func TestTailResumeAcrossKill9(t *testing.T) {
	s := startServer(t, "", "--tail.replay-bytes", "4096")
	c := openTailStream(t, s, "/api/v1/tail?q=keep", "")
	witness := openTailStream(t, s, "/api/v1/tail?q=keep", "")
	sendKeeps(t, s, 0, 500)
	next := 0
	lastID := readKeeps(t, c, 100, &next)
	// The witness saw the last event, so the hub numbered every event
	// before the kill (see the README's Live tail guarantees).
	w := 0
	readKeeps(t, witness, 500, &w)
	s.kill9()
	s.start()
	sendKeeps(t, s, 500, 700)
	c2 := openTailStream(t, s, "/api/v1/tail?q=keep", lastID)
	readKeeps(t, c2, 600, &next)
	sendKeeps(t, s, 700, 701)
	readKeeps(t, c2, 1, &next)
}

// TestTailResumeFillSpeed measures a resume from the store: 1,200,000
// events (a minute at 20,000 events/s) arrive while a viewer of one
// service in 100 is away; it reconnects with its cursor and reads the
// 12,000 it missed. Runs only with LOGCASTER_TAIL_BENCH=1.
func TestTailResumeFillSpeed(t *testing.T) {
	if os.Getenv("LOGCASTER_TAIL_BENCH") != "1" {
		t.Skip("set LOGCASTER_TAIL_BENCH=1 to measure a resume from the store")
	}
	n := tailLoadParam("LOGCASTER_TAIL_MAX_EVENTS", 1200000)
	s := startServer(t, "")
	c := openTailStream(t, s, "/api/v1/tail?q=service:%3Ds7", "")
	// One event first, for a cursor to resume from.
	if code, _ := s.ingest("app", []byte(`{"service":"s7","message":"before"}`+"\n"), ""); code != 200 {
		t.Fatal(code)
	}
	m, _, lastID := c.logMsg(t)
	if m != "before" {
		t.Fatalf("got %q", m)
	}
	c.resp.Body.Close()
	other := openTailStream(t, s, "/api/v1/tail?q=nothing_matches", "") // keeps the log filled
	_ = other
	maxIngest(t, s, n, true)
	start := time.Now()
	c2 := openTailStream(t, s, "/api/v1/tail?q=service:%3Ds7", lastID)
	var prev uint64
	for i := 0; i < n/100; i++ {
		_, seq, _ := c2.logMsg(t)
		if seq <= prev {
			t.Fatalf("cursor %d after %d", seq, prev)
		}
		prev = seq
		if i == 0 {
			t.Logf("first event after %v", time.Since(start).Round(time.Millisecond))
		}
	}
	d := time.Since(start)
	t.Logf("resumed %d matching events of %d from the store in %v (%.0f events/s)", n/100, n, d.Round(time.Millisecond), float64(n/100)/d.Seconds())
}
