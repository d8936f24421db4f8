package live

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/query"
	"github.com/logcaster/logcaster/internal/store"
)

// tinyRing holds a handful of events, so that resumes go to the store.
func tinyRing() Options {
	o := DefaultOptions()
	o.ReplayBytes = 4 * (entryOverhead + 64)
	return o
}

// seqOfMsg is the sequence number the hub gave msg: its place in the order
// the pipeline wrote, counted independently of the hub.
func (e *env) seqOfMsg(t *testing.T, msg string) uint64 {
	t.Helper()
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	i := slices.Index(e.rec.msgs, msg)
	if i < 0 {
		t.Fatalf("%q was never written", msg)
	}
	return uint64(i + 1)
}

func TestResumeFillsFilteredGapFromStore(t *testing.T) {
	e := newEnv(t, tinyRing(), nil)
	got, lastID := readFourAndLeave(t, e)
	// 300 more pairs while away: far more than the ring holds.
	for i := 10; i < 310; i++ {
		e.send(t, "skip "+strconv.Itoa(i), "keep "+strconv.Itoa(i))
	}
	c2 := e.open(t, "/api/v1/tail?q=keep", "Last-Event-ID", lastID)
	check := func(f frame) {
		t.Helper()
		m := msgOf(t, f)
		if want := e.seqOfMsg(t, m); seqOf(t, f.id) != want {
			t.Fatalf("%q has cursor %s, want seq %d", m, f.id, want)
		}
		got = append(got, m)
	}
	for len(got) < 310 {
		check(c2.must(t))
	}
	e.send(t, "keep 310")
	check(c2.must(t))
	for i, m := range got {
		if m != "keep "+strconv.Itoa(i) {
			t.Fatalf("event %d is %q (lost, repeated or reordered)", i, m)
		}
	}
}

func TestResumeReportsWhatTheLogLacks(t *testing.T) {
	opts := tinyRing()
	// About three groups of one event each.
	opts.LogBytes = 3 * (segmentOverhead + 8)
	e := newEnv(t, opts, nil)
	e.open(t, "/api/v1/tail?q=nothing_matches") // keeps ring and log filled
	for i := 1; i <= 50; i++ {
		e.send(t, "m"+strconv.Itoa(i))
	}
	c := e.open(t, "/api/v1/tail?cursor=1700000000000-10")
	f := c.must(t)
	var d map[string]string
	if err := json.Unmarshal([]byte(f.data), &d); err != nil || f.typ != "gap" {
		t.Fatalf("want a gap notice first, got %+v", f)
	}
	to, err := ParseCursor(d["to_cursor"])
	if err != nil || d["from_cursor"] != "1700000000000-10" || to.Seq < 10 || to.Seq >= 50 {
		t.Fatalf("gap %+v", d)
	}
	// Everything after the gap, exactly.
	for want := to.Seq + 1; want <= 50; want++ {
		f := c.must(t)
		if seqOf(t, f.id) != want || msgOf(t, f) != "m"+strconv.Itoa(int(want)) {
			t.Fatalf("got %+v, want seq %d", f, want)
		}
	}
}

// TestResumeAcrossRestart: a cursor from the previous run resumes exactly,
// the rest of that run with its own cursors, then the new run's events.
func TestResumeAcrossRestart(t *testing.T) {
	storeDir, logDir := t.TempDir(), t.TempDir()
	opts := tinyRing()
	opts.Dir = logDir
	e1 := newEnvAt(t, opts, nil, time.UnixMilli(testEpoch), storeDir)
	c := e1.open(t, "/api/v1/tail?q=keep")
	for i := 0; i < 100; i++ {
		e1.send(t, "keep a"+strconv.Itoa(i), "skip a"+strconv.Itoa(i))
	}
	var lastID string
	for i := 0; i < 30; i++ {
		f := c.must(t)
		if m := msgOf(t, f); m != "keep a"+strconv.Itoa(i) {
			t.Fatalf("got %q", m)
		}
		lastID = f.id
	}
	e1.close()

	const epoch2 = testEpoch + 60_000
	e2 := newEnvAt(t, opts, nil, time.UnixMilli(epoch2), storeDir)
	for i := 0; i < 20; i++ {
		e2.send(t, "skip b"+strconv.Itoa(i), "keep b"+strconv.Itoa(i))
	}
	c2 := e2.open(t, "/api/v1/tail?q=keep", "Last-Event-ID", lastID)
	for i := 30; i < 100; i++ {
		f := c2.must(t)
		cur, _ := ParseCursor(f.id)
		if m := msgOf(t, f); m != "keep a"+strconv.Itoa(i) || cur.Epoch != testEpoch || cur.Seq != uint64(2*i+1) {
			t.Fatalf("old run: got %q at %s, want keep a%d at seq %d", m, f.id, i, 2*i+1)
		}
	}
	for i := 0; i < 20; i++ {
		f := c2.must(t)
		cur, _ := ParseCursor(f.id)
		if m := msgOf(t, f); m != "keep b"+strconv.Itoa(i) || cur.Epoch != epoch2 || cur.Seq != uint64(2*i+2) {
			t.Fatalf("new run: got %q at %s, want keep b%d at seq %d", m, f.id, i, 2*i+2)
		}
	}
	e2.send(t, "keep live")
	if f := c2.must(t); msgOf(t, f) != "keep live" {
		t.Fatalf("got %+v", f)
	}
}

// TestContentHashThroughStore: the hash of an event as published equals
// the hash of the row the store gives back, whatever the field order,
// empty values or repeated names.
func TestContentHashThroughStore(t *testing.T) {
	so := store.DefaultOptions()
	so.Dir = t.TempDir()
	so.Sync = store.SyncNone
	st, err := store.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := &event.Batch{}
	now := time.Now().UnixNano()
	add := func(msg string, fields ...string) {
		e := b.Add()
		e.Time = now + int64(b.Len())
		e.Index, e.Level, e.Message = "app", "WARN", msg
		for i := 0; i+1 < len(fields); i += 2 {
			e.Fields = append(e.Fields, event.Field{Name: fields[i], Value: fields[i+1]})
		}
	}
	add("plain")
	add("fields", "service", "api", "host", "web-1")
	add("reordered", "host", "web-1", "service", "api")
	add("empty value", "service", "", "host", "h")
	add("repeated", "service", "first", "service", "second")
	add("unicode ünï ✓", "request.url", "/a?b=c&d=\"e\"")
	b.Events[1].TraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	want := make([]uint64, b.Len())
	for i := range b.Events {
		want[i] = hashEvent(&b.Events[i])
	}
	if err := st.Write([]*event.Batch{b}); err != nil {
		t.Fatal(err)
	}
	q, err := query.Parse("*")
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		var got []uint64
		err = q.Run(context.Background(), st, query.RunOptions{}, func(r *query.Row) error {
			got = append(got, hashRow(r))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Fatalf("%s: store rows hash to %x, events to %x", when, got, w)
		}
	}
	check("in the head")
	st.Close()
	st, err = store.Open(so) // reopened: the events come from disk
	if err != nil {
		t.Fatal(err)
	}
	check("after reopening")
	// Different content hashes differently.
	if want[1] == want[2] && b.Events[1].Time == b.Events[2].Time {
		t.Fatal("BUG: test events share a time")
	}
	x, y := b.Events[0], b.Events[0]
	y.Message += "!"
	if hashEvent(&x) == hashEvent(&y) {
		t.Fatal("a changed message did not change the hash")
	}
}

// TestResumeLogFileRoundTrip: segments written by one hub's log writer are
// read back as they were, and a torn last record is ignored.
func TestResumeLogFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	var l seqLog
	l.limit = 1 << 20
	w, _, err := openLog(dir, 42, 1<<20, &l)
	if err != nil {
		t.Fatal(err)
	}
	segs := []*segment{
		{epoch: 42, first: 1, minT: -5, maxT: 9, hashes: []uint64{1, 2, 3}},
		{epoch: 42, first: 4, minT: 100, maxT: 100, hashes: []uint64{^uint64(0)}},
	}
	for _, s := range segs {
		w.write(s)
	}
	w.close()
	name := filepath.Join(dir, "42-1"+logExt)
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{40, 0, 0, 0, 1, 2, 3}) // a record cut short by a crash
	f.Close()
	var back seqLog
	back.limit = 1 << 20
	if _, _, err := openLog(dir, 43, 1<<20, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.segs) != 2 {
		t.Fatalf("read %d segments", len(back.segs))
	}
	for i, s := range back.segs {
		if s.epoch != 42 || s.first != segs[i].first || s.minT != segs[i].minT || s.maxT != segs[i].maxT || !slices.Equal(s.hashes, segs[i].hashes) {
			t.Fatalf("segment %d: %+v, want %+v", i, s, segs[i])
		}
	}
	if !strings.HasSuffix(name, ".seqlog") {
		t.Fatal(name)
	}
}

// TestHeartbeatOnQuietStream: a stream with nothing to say writes an SSE
// comment every Heartbeat, and not while events flow.
func TestHeartbeatOnQuietStream(t *testing.T) {
	opts := DefaultOptions()
	opts.Heartbeat = 300 * time.Millisecond
	e := newEnv(t, opts, nil)
	c := e.open(t, "/api/v1/tail?q=keep")
	start := time.Now()
	line, err := c.rd.ReadString('\n')
	if err != nil || line != ": hb\n" {
		t.Fatalf("want a heartbeat comment, got %q %v", line, err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Fatalf("heartbeat after %v, want about 300ms", d)
	}
	if l, _ := c.rd.ReadString('\n'); l != "\n" {
		t.Fatalf("heartbeat not ended by a blank line: %q", l)
	}
	e.send(t, "keep 1")
	if f := c.must(t); msgOf(t, f) != "keep 1" {
		t.Fatalf("got %+v", f)
	}
}

// stuckViewer opens a tail that never reads, with a small receive buffer,
// so the server's writes to it soon block.
func stuckViewer(t *testing.T, e *env) {
	t.Helper()
	stuck, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stuck.Close() })
	if err := stuck.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	if _, err := stuck.Write([]byte("GET /api/v1/tail HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
}

// TestStuckViewerIsCutOff: a viewer that stops reading is cut off once a
// write has waited WriteTimeout, freeing the writer and its limit; a
// viewer that reads gets everything meanwhile.
func TestStuckViewerIsCutOff(t *testing.T) {
	opts := DefaultOptions()
	opts.WriteTimeout = 300 * time.Millisecond
	opts.Writers = 1 // the stuck viewer's writes hold up the only writer
	opts.BufferEvents = 1 << 20
	e := newEnv(t, opts, nil)
	stuckViewer(t, e)
	good := e.open(t, "/api/v1/tail")
	big := strings.Repeat("x", 8<<10)
	const rounds, per = 40, 100 // 32 MiB: more than any socket buffers
	got := make(chan int)
	go func() {
		n := 0
		for n < rounds*per {
			f, err := good.next()
			if err != nil {
				break
			}
			if f.typ == "log" {
				n++
			}
		}
		got <- n
	}()
	for r := 0; r < rounds; r++ {
		msgs := make([]string, per)
		for i := range msgs {
			msgs[i] = big
		}
		e.send(t, msgs...)
	}
	select {
	case n := <-got:
		if n != rounds*per {
			t.Fatalf("the reading viewer got %d of %d", n, rounds*per)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the reading viewer was held up by the stuck one")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.hub.limMu.Lock()
		open := e.hub.open
		e.hub.limMu.Unlock()
		if open == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d streams open; the stuck one should have been cut off", open)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
