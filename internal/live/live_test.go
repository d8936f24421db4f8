package live

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/pipeline"
	"github.com/logcaster/logcaster/internal/store"
)

// recorder is a pipeline.Writer that remembers the order messages were
// written in, and stores the events in st when set.
type recorder struct {
	mu   sync.Mutex
	msgs []string
	st   *store.Store
}

func (r *recorder) Write(bs []*event.Batch) error {
	if r.st != nil {
		if err := r.st.Write(bs); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range bs {
		for _, e := range b.Events {
			r.msgs = append(r.msgs, e.Message)
		}
	}
	return nil
}

// memScanner answers history from events held in memory (sorted by time).
type memScanner struct{ evs []event.Event }

func (m memScanner) Scan(ctx context.Context, _ store.ScanOptions, fn func(store.Block) error) error {
	if len(m.evs) == 0 {
		return nil
	}
	if err := fn(store.NewMemBlock(m.evs)); err != nil && err != store.ErrStopScan {
		return err
	}
	return nil
}

type env struct {
	hub  *Hub
	pipe *pipeline.Pipeline
	rec  *recorder
	srv  *httptest.Server
	// sent counts the events send has submitted.
	sent atomic.Uint64
}

// testEpoch is the boot epoch of the hubs newEnv starts.
const testEpoch = 1_700_000_000_000

// newEnv starts a hub behind a pipeline and an HTTP server; with sc nil the
// pipeline writes into a real store in a temporary folder, which answers
// history and resumes.
func newEnv(t *testing.T, opts Options, sc store.Scanner) *env {
	t.Helper()
	dir := ""
	if sc == nil {
		dir = t.TempDir()
	}
	return newEnvAt(t, opts, sc, time.UnixMilli(testEpoch), dir)
}

// newEnvAt is newEnv with the hub's epoch and the store's folder (used
// when sc is nil) given, so a test can restart on the same data.
func newEnvAt(t *testing.T, opts Options, sc store.Scanner, epoch time.Time, storeDir string) *env {
	t.Helper()
	hub, err := NewHub(opts, epoch)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if sc == nil {
		so := store.DefaultOptions()
		so.Dir = storeDir
		so.Sync = store.SyncNone
		st, err := store.Open(so)
		if err != nil {
			t.Fatal(err)
		}
		rec.st = st
		sc = st
	}
	p, err := pipeline.New(pipeline.DefaultOptions(), rec)
	if err != nil {
		t.Fatal(err)
	}
	p.Subscribe(hub.Publish)
	mux := http.NewServeMux()
	lh := NewHandler(hub, sc, nil)
	mux.Handle(Route, lh)
	mux.Handle(RouteWS, lh.WebSocket())
	srv := httptest.NewServer(mux)
	e := &env{hub: hub, pipe: p, rec: rec, srv: srv}
	t.Cleanup(e.close)
	return e
}

// close stops the server, the hub, the pipeline and the store; twice is
// harmless.
func (e *env) close() {
	e.hub.Close()
	e.srv.Close()
	e.pipe.Close()
	if e.rec.st != nil {
		e.rec.st.Close()
		e.rec.st = nil
	}
}

func (e *env) send(t *testing.T, msgs ...string) {
	t.Helper()
	b := &event.Batch{}
	for _, m := range msgs {
		ev := b.Add()
		ev.Time = time.Now().UnixNano()
		ev.Index = "app"
		ev.Level = "INFO"
		ev.Message = b.StrString(m)
	}
	tk, err := e.pipe.Submit(context.Background(), b, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The pipeline acknowledges a group before it hands it to its
	// subscribers: wait until the hub has numbered it, so that a test sees
	// the hub as it is after this send.
	sent := e.sent.Add(uint64(len(msgs)))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		e.hub.mu.Lock()
		seq := e.hub.seq
		e.hub.mu.Unlock()
		if seq >= sent {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub numbered %d events of the %d sent", seq, sent)
		}
	}
}

// frame is one SSE event as a client sees it.
type frame struct {
	id, typ, data string
}

type sseClient struct {
	resp *http.Response
	rd   *bufio.Reader
}

func (e *env) open(t *testing.T, path string, header ...string) *sseClient {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
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
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &sseClient{resp, bufio.NewReader(resp.Body)}
}

// next returns the next event, skipping comments; io.EOF at the end.
func (c *sseClient) next() (frame, error) {
	var f frame
	for {
		line, err := c.rd.ReadString('\n')
		if err != nil {
			return f, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if f.typ != "" || f.data != "" {
				return f, nil
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			f.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			f.typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			f.data = line[6:]
		}
	}
}

func (c *sseClient) must(t *testing.T) frame {
	t.Helper()
	f, err := c.next()
	if err != nil {
		t.Fatalf("read stream: %v", err)
	}
	return f
}

func msgOf(t *testing.T, f frame) string {
	t.Helper()
	if f.typ != "log" {
		t.Fatalf("want a log event, got %+v", f)
	}
	var row map[string]string
	if err := json.Unmarshal([]byte(f.data), &row); err != nil {
		t.Fatalf("data %q: %v", f.data, err)
	}
	return row["message"]
}

func seqOf(t *testing.T, id string) uint64 {
	t.Helper()
	c, err := ParseCursor(id)
	if err != nil {
		t.Fatalf("cursor %q: %v", id, err)
	}
	if c.Epoch != 1_700_000_000_000 {
		t.Fatalf("cursor %q: epoch %d", id, c.Epoch)
	}
	return c.Seq
}

func TestOrderAcrossConcurrentSenders(t *testing.T) {
	e := newEnv(t, DefaultOptions(), nil)
	all := e.open(t, "/api/v1/tail")
	odd := e.open(t, "/api/v1/tail?q=odd")
	const senders, per = 8, 200
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				kind := "even"
				if i%2 == 1 {
					kind = "odd"
				}
				e.send(t, "s"+strconv.Itoa(s)+" "+kind+" n"+strconv.Itoa(i))
			}
		}()
	}
	wg.Wait()
	e.rec.mu.Lock()
	written := append([]string(nil), e.rec.msgs...)
	e.rec.mu.Unlock()
	var last uint64
	for i, want := range written {
		f := all.must(t)
		if got := msgOf(t, f); got != want {
			t.Fatalf("event %d: got %q, want %q (the store's order)", i, got, want)
		}
		if s := seqOf(t, f.id); s != uint64(i+1) {
			t.Fatalf("event %d: cursor %s, want seq %d", i, f.id, i+1)
		}
		last = uint64(i + 1)
	}
	_ = last
	var prev uint64
	n := 0
	for _, want := range written {
		if !strings.Contains(want, " odd ") {
			continue
		}
		f := odd.must(t)
		if got := msgOf(t, f); got != want {
			t.Fatalf("odd viewer: got %q, want %q", got, want)
		}
		s := seqOf(t, f.id)
		if s <= prev {
			t.Fatalf("odd viewer: cursor %d after %d", s, prev)
		}
		prev = s
		n++
	}
	if n != senders*per/2 {
		t.Fatalf("odd viewer saw %d, want %d", n, senders*per/2)
	}
}

func TestResumeExactlyOnce(t *testing.T) {
	e := newEnv(t, DefaultOptions(), nil)
	got, lastID := readFourAndLeave(t, e)
	for i := 10; i < 20; i++ {
		e.send(t, "keep "+strconv.Itoa(i), "skip "+strconv.Itoa(i))
	}
	c2 := e.open(t, "/api/v1/tail?q=keep", "Last-Event-ID", lastID)
	for len(got) < 20 {
		got = append(got, msgOf(t, c2.must(t)))
	}
	e.send(t, "keep 20")
	got = append(got, msgOf(t, c2.must(t)))
	for i, m := range got {
		if m != "keep "+strconv.Itoa(i) {
			t.Fatalf("event %d is %q: %q", i, m, got)
		}
	}
}

func TestSlowReaderDroppedThenResumes(t *testing.T) {
	opts := DefaultOptions()
	opts.BufferEvents = 8
	e := newEnv(t, opts, nil)
	c := e.open(t, "/api/v1/tail")
	// One group of 1,000 events reaches the queue at once: 8 fit, the rest
	// are dropped without the pipeline waiting.
	msgs := make([]string, 1000)
	for i := range msgs {
		msgs[i] = "m" + strconv.Itoa(i)
	}
	start := time.Now()
	e.send(t, msgs...)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("ingest waited %v for a viewer", d)
	}
	var got []string
	var f frame
	for {
		f = c.must(t)
		if f.typ != "log" {
			break
		}
		got = append(got, msgOf(t, f))
	}
	if f.typ != "dropped" {
		t.Fatalf("want dropped, got %+v", f)
	}
	var d struct {
		Count  int    `json:"count"`
		Resume string `json:"resume_cursor"`
	}
	if err := json.Unmarshal([]byte(f.data), &d); err != nil {
		t.Fatal(err)
	}
	if len(got) != 8 || d.Count != 992 || seqOf(t, d.Resume) != 8 {
		t.Fatalf("got %d events then dropped %+v; want 8, 992, seq 8", len(got), d)
	}
	c.resp.Body.Close()
	c2 := e.open(t, "/api/v1/tail?cursor="+d.Resume)
	for len(got) < 1000 {
		got = append(got, msgOf(t, c2.must(t)))
	}
	for i, m := range got {
		if m != msgs[i] {
			t.Fatalf("event %d is %q, want %q", i, m, msgs[i])
		}
	}
}

func TestLimits(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxPerClient = 2
	opts.MaxTails = 3
	e := newEnv(t, opts, nil)
	e.open(t, "/api/v1/tail")
	e.open(t, "/api/v1/tail")
	resp, err := http.Get(e.srv.URL + "/api/v1/tail")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(b), "this address") {
		t.Fatalf("third from one address: %d %s", resp.StatusCode, b)
	}
	// The total bound, checked through Acquire as all test clients share
	// one address.
	if err := e.hub.Acquire("10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if err := e.hub.Acquire("10.0.0.2"); err != ErrTooManyTails {
		t.Fatalf("fourth tail: %v, want ErrTooManyTails", err)
	}
	e.hub.Release("10.0.0.1")
	if err := e.hub.Acquire("10.0.0.2"); err != nil {
		t.Fatalf("after a release: %v", err)
	}
}

func TestRefusesPipesAndBadCursor(t *testing.T) {
	e := newEnv(t, DefaultOptions(), nil)
	for path, want := range map[string]string{
		"/api/v1/tail?q=error+|+stats+count()": "stats",
		"/api/v1/tail?q=a+|+sort+by+(_time)":   "sort",
		"/api/v1/tail?cursor=abc":              "cursor",
		"/api/v1/tail?since=-5m":               "since",
		"/api/v1/tail?q=(":                     "tail:",
	} {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %q, want 400 mentioning %q", path, resp.StatusCode, b, want)
		}
	}
}

func TestIdleCutOff(t *testing.T) {
	opts := DefaultOptions()
	opts.Idle = 300 * time.Millisecond
	e := newEnv(t, opts, nil)
	c := e.open(t, "/api/v1/tail?q=wanted")
	e.send(t, "other") // matches nothing: does not count as activity
	f := c.must(t)
	if f.typ != "idle" || !strings.Contains(f.data, `"resume_cursor":"1700000000000-1"`) || !strings.Contains(f.data, "Last-Event-ID") {
		t.Fatalf("want idle with the resume cursor, got %+v", f)
	}
	if _, err := c.next(); err != io.EOF {
		t.Fatalf("stream should end after idle: %v", err)
	}
}

func TestGapForForeignCursor(t *testing.T) {
	e := newEnv(t, DefaultOptions(), nil)
	c := e.open(t, "/api/v1/tail", "Last-Event-ID", "5-10")
	f := c.must(t)
	if f.typ != "gap" || f.data != `{"from_cursor":"5-10","to_cursor":"1700000000000-0","reason":"the cursor's server run is not in the resume log"}` {
		t.Fatalf("got %+v", f)
	}
	e.send(t, "after")
	if m := msgOf(t, c.must(t)); m != "after" {
		t.Fatalf("got %q", m)
	}
}

func TestRingEvictsByBytes(t *testing.T) {
	opts := DefaultOptions()
	opts.ReplayBytes = 10 * (entryOverhead + 10)
	e := newEnv(t, opts, nil)
	e.open(t, "/api/v1/tail?q=nothing_matches_this") // a viewer keeps the ring filled
	for i := 0; i < 100; i++ {
		e.send(t, "0123456789")
	}
	// Cursor 50 is out of the ring: 51-90 come from the store, the rest
	// from the ring, each once with its own cursor.
	c := e.open(t, "/api/v1/tail?cursor=1700000000000-50")
	for want := uint64(51); want <= 100; want++ {
		if f := c.must(t); f.typ != "log" || seqOf(t, f.id) != want {
			t.Fatalf("got %+v, want seq %d", f, want)
		}
	}
	c2 := e.open(t, "/api/v1/tail?cursor=1700000000000-95")
	for want := uint64(96); want <= 100; want++ {
		if f := c2.must(t); seqOf(t, f.id) != want {
			t.Fatalf("got %+v, want seq %d", f, want)
		}
	}
}

// TestNoRingWithoutRecentViewers: with no tail open within ResumeWindow the
// hub copies nothing, cursors keep counting, and an older cursor gets a gap.
func TestNoRingWithoutRecentViewers(t *testing.T) {
	e := newEnv(t, DefaultOptions(), nil)
	for i := 0; i < 10; i++ {
		e.send(t, "unwatched")
	}
	e.hub.mu.Lock()
	ringLen, seq := len(e.hub.ring)-e.hub.ringStart, e.hub.seq
	e.hub.mu.Unlock()
	if ringLen != 0 || seq != 10 {
		t.Fatalf("ring holds %d events, seq %d; want 0 and 10", ringLen, seq)
	}
	c := e.open(t, "/api/v1/tail?cursor=1700000000000-5")
	if f := c.must(t); f.typ != "gap" {
		t.Fatalf("cursor 5 with nothing kept should get a gap: %+v", f)
	}
	c2 := e.open(t, "/api/v1/tail?cursor=1700000000000-10")
	e.send(t, "watched now")
	if f := c2.must(t); seqOf(t, f.id) != 11 {
		t.Fatalf("got %+v, want seq 11", f)
	}
}

func TestSinceThenLive(t *testing.T) {
	now := time.Now()
	hist := []event.Event{
		{Time: now.Add(-time.Hour).UnixNano(), Index: "app", Message: "too old"},
		{Time: now.Add(-3 * time.Minute).UnixNano(), Index: "app", Message: "h1"},
		{Time: now.Add(-2 * time.Minute).UnixNano(), Index: "app", Message: "h2"},
	}
	e := newEnv(t, DefaultOptions(), memScanner{hist})
	c := e.open(t, "/api/v1/tail?since=5m")
	if m := msgOf(t, c.must(t)); m != "h1" {
		t.Fatalf("got %q", m)
	}
	if m := msgOf(t, c.must(t)); m != "h2" {
		t.Fatalf("got %q", m)
	}
	e.send(t, "live")
	if m := msgOf(t, c.must(t)); m != "live" {
		t.Fatalf("got %q", m)
	}
}

func TestShutdownEndsEveryStream(t *testing.T) {
	e := newEnv(t, DefaultOptions(), nil)
	var cs []*sseClient
	for i := 0; i < 5; i++ {
		cs = append(cs, e.open(t, "/api/v1/tail"))
	}
	e.send(t, "x")
	e.hub.Close()
	for i, c := range cs {
		if m := msgOf(t, c.must(t)); m != "x" {
			t.Fatalf("stream %d: %q", i, m)
		}
		f := c.must(t)
		if f.typ != "end" || !strings.Contains(f.data, `"resume_cursor":"1700000000000-1"`) {
			t.Fatalf("stream %d: %+v", i, f)
		}
		if _, err := c.next(); err != io.EOF {
			t.Fatalf("stream %d should end: %v", i, err)
		}
	}
	resp, err := http.Get(e.srv.URL + "/api/v1/tail")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after close: %d", resp.StatusCode)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := Cursor{1700000000123, 42}
	if s := c.String(); s != "1700000000123-42" {
		t.Fatal(s)
	}
	got, err := ParseCursor("1700000000123-42")
	if err != nil || got != c {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{"", "1", "a-1", "1-b", "-1-2"} {
		if _, err := ParseCursor(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestWebSocketSameStream(t *testing.T) {
	e := newEnv(t, DefaultOptions(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/api/v1/tail/ws?q=keep", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	e.send(t, "keep one", "other", "keep two")
	for i, want := range []string{
		`{"type":"log","cursor":"1700000000000-1","event":{"timestamp":`,
		`{"type":"log","cursor":"1700000000000-3","event":{"timestamp":`,
	} {
		typ, msg, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != websocket.MessageText || !strings.HasPrefix(string(msg), want) {
			t.Fatalf("message %d: %s", i, msg)
		}
		var m struct {
			Event map[string]string `json:"event"`
		}
		if err := json.Unmarshal(msg, &m); err != nil || m.Event["message"] != []string{"keep one", "keep two"}[i] {
			t.Fatalf("message %d: %s (%v)", i, msg, err)
		}
	}
	e.hub.Close()
	_, msg, err := conn.Read(ctx)
	if err != nil || !strings.HasPrefix(string(msg), `{"type":"end","reason":"the server is shutting down`) || !strings.Contains(string(msg), `"resume_cursor":"1700000000000-3"`) {
		t.Fatalf("end: %s %v", msg, err)
	}
	if _, _, err := conn.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after end: %v", err)
	}
}

// readFourAndLeave opens a tail of "keep", sends ten keep/skip pairs, reads
// the first four events and disconnects: the start of the resume tests. It
// returns the messages read and the cursor of the last one.
func readFourAndLeave(t *testing.T, e *env) (got []string, lastID string) {
	t.Helper()
	c := e.open(t, "/api/v1/tail?q=keep")
	for i := 0; i < 10; i++ {
		e.send(t, "keep "+strconv.Itoa(i), "skip "+strconv.Itoa(i))
	}
	for i := 0; i < 4; i++ {
		f := c.must(t)
		got = append(got, msgOf(t, f))
		lastID = f.id
	}
	c.resp.Body.Close()
	return got, lastID
}
