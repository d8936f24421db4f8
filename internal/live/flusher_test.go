package live

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFlusherDueOrder: the writers' queue hands out streams in order of
// their due times, none before it is due, and says how long until the
// earliest is.
func TestFlusherDueOrder(t *testing.T) {
	f := newFlusher(1, 1)
	r := rand.New(rand.NewPCG(1, 2))
	const n = 1000
	streams := make([]stream, n)
	due := make(map[*stream]int64, n)
	var ats []int64
	for i := range streams {
		at := int64(r.IntN(500)) // repeats on purpose
		due[&streams[i]] = at
		ats = append(ats, at)
		f.schedule(&streams[i], at)
	}
	slices.Sort(ats)
	if st, wait := f.next(0, ats[0]-7); st != nil || wait != 7 {
		t.Fatalf("before the earliest is due: %p, wait %v; want none, 7ns", st, wait)
	}
	for i, want := range ats {
		st, wait := f.next(0, 1<<40)
		if st == nil || wait != 0 {
			t.Fatalf("pop %d: %p, %v", i, st, wait)
		}
		if due[st] != want {
			t.Fatalf("pop %d: due %d, want %d", i, due[st], want)
		}
		delete(due, st) // each stream once
	}
	if st, wait := f.next(0, 1<<40); st != nil || wait != -1 || len(due) != 0 {
		t.Fatalf("empty queue: %p, %v, %d left", st, wait, len(due))
	}
}

// TestFlusherWatch: one idle writer keeps a timer for the earliest stream,
// the others sleep until woken; a writer that pops a stream wakes an idle
// one when none would wake by itself in time for the next, since the
// popping writer may block in its write.
func TestFlusherWatch(t *testing.T) {
	f := newFlusher(3, 3) // all may write at once: stuck writers are another test
	woken := func() bool {
		select {
		case <-f.wake:
			return true
		default:
			return false
		}
	}
	var a, b, c stream
	f.schedule(&a, 100)
	if woken() {
		t.Fatal("woke a writer while none was idle")
	}
	// Writers 1 and 2 go idle before a is due: 1 watches it, 2 sleeps.
	if _, wait := f.next(1, 40); wait != 60 || f.sleeps[1] != 100 {
		t.Fatalf("writer 1: wait %v, sleeps %d; want 60ns, 100", wait, f.sleeps[1])
	}
	if _, wait := f.next(2, 41); wait != -1 || f.sleeps[2] != -1 {
		t.Fatalf("writer 2: wait %v, sleeps %d; want -1 (writer 1 watches)", wait, f.sleeps[2])
	}
	// A stream due before writer 1 wakes: an idle writer is woken, and
	// watches it.
	f.schedule(&b, 50)
	if !woken() {
		t.Fatal("a stream due before the watching writer wakes woke nobody")
	}
	if _, wait := f.next(2, 45); wait != 5 {
		t.Fatalf("writer 2, woken: wait %v, want 5ns", wait)
	}
	// Due later than the watchers wake: nobody needs waking.
	f.schedule(&c, 300)
	if woken() {
		t.Fatal("woke a writer for a stream the watchers cover")
	}
	// Writer 2 pops b at 50; a (due 100) is watched by writer 1. Done
	// writing, writer 2 sleeps until woken.
	if st, _ := f.next(2, 50); st != &b || woken() {
		t.Fatalf("pop at 50: %p (want b), or woke a writer although writer 1 watches a", st)
	}
	if _, wait := f.next(2, 60); wait != -1 {
		t.Fatalf("writer 2 after b: wait %v, want -1", wait)
	}
	// Writer 1 pops a at 100 (and may block writing it); c (300) is then
	// watched by nobody, and writer 2 is idle: it is woken.
	if st, _ := f.next(1, 100); st != &a || !woken() {
		t.Fatalf("pop at 100: %p (want a), or woke nobody for c", st)
	}
	if _, wait := f.next(2, 110); wait != 190 || f.sleeps[2] != 300 {
		t.Fatalf("writer 2 watches c: wait %v, sleeps %d", wait, f.sleeps[2])
	}
}

// TestFlusherOneAtOnce: with one writer writing at a time, a second takes
// a due stream only once the first has been at its stream for stuckAfter;
// the first, done sooner, takes it itself.
func TestFlusherOneAtOnce(t *testing.T) {
	f := newFlusher(2, 1)
	var a, b, c stream
	f.schedule(&a, 0)
	f.schedule(&b, 1)
	f.schedule(&c, 2)
	if st, _ := f.next(0, 10); st != &a {
		t.Fatalf("writer 0 took %p, want a", st)
	}
	stuck := 10 + int64(stuckAfter)
	if st, wait := f.next(1, 11); st != nil || wait != time.Duration(stuck-11) {
		t.Fatalf("writer 1 beside a writing writer: %p, wait %v; want none until writer 0 has been at it %v", st, wait, stuckAfter)
	}
	// Writer 0 is done with a in time and takes b itself.
	if st, _ := f.next(0, 20); st != &b {
		t.Fatalf("writer 0 took %p, want b", st)
	}
	if st, _ := f.next(1, stuck); st != nil {
		t.Fatal("writer 1 took c although writer 0 started b only now")
	}
	// Writer 0 stays on b (a stuck viewer): writer 1 takes c.
	if st, _ := f.next(1, 20+int64(stuckAfter)); st != &c {
		t.Fatalf("writer 1 beside a stuck writer took %p, want c", st)
	}
}

// TestFlushIntervalHoldsBusyStreams: a stream that has been quiet writes
// its next event at once; one that has just written holds what comes next
// until FlushInterval after that write, then sends it all in one write.
func TestFlushIntervalHoldsBusyStreams(t *testing.T) {
	opts := DefaultOptions()
	// Long enough that a loaded machine's commit and write times (tens of
	// ms) do not blur the difference between at once and held.
	const interval = time.Second
	opts.FlushInterval = interval
	e := newEnv(t, opts, nil)
	c := e.open(t, "/api/v1/tail")
	time.Sleep(interval) // the stream's first write (its headers) is long past

	sent := time.Now()
	e.send(t, "first")
	if f := c.must(t); msgOf(t, f) != "first" {
		t.Fatalf("got %+v", f)
	}
	first := time.Since(sent)
	if first > interval/2 {
		t.Fatalf("a quiet stream's event took %v, want it written at once", first)
	}
	arrived := time.Now()
	e.send(t, "second")
	e.send(t, "third")
	if f := c.must(t); msgOf(t, f) != "second" {
		t.Fatalf("got %+v", f)
	}
	// The write of "first" happened before it arrived, so "second" is due
	// interval after a moment before `arrived`; reading it costs little.
	if held := time.Since(arrived); held < interval-100*time.Millisecond || held > 3*interval {
		t.Fatalf("the event after a write came %v later, want about %v", held, interval)
	}
	// "third" came in the same write: it is already in the reader's buffer.
	if c.rd.Buffered() == 0 {
		t.Fatal(`"third" did not come in the same write as "second"`)
	}
	if f := c.must(t); msgOf(t, f) != "third" {
		t.Fatalf("got %+v", f)
	}
}

// TestStuckViewersHoldOnlyTheirWriters: viewers whose connections take
// nothing block a writer each, until WriteTimeout cuts them off; the other
// writers go on, so a viewer that reads gets a new event at once. (With as
// many writers as stuck viewers, it would wait for the timeout.)
func TestStuckViewersHoldOnlyTheirWriters(t *testing.T) {
	opts := DefaultOptions()
	opts.WriteTimeout = 30 * time.Second // stuck for the whole test
	opts.Writers = 3
	opts.BufferEvents = 1 << 20
	e := newEnv(t, opts, nil)
	stuckViewer(t, e)
	stuckViewer(t, e)
	good := e.open(t, "/api/v1/tail?q=probe")
	// 32 MiB for each stuck viewer: more than its socket buffers hold, so
	// the writes to it block.
	big := strings.Repeat("x", 8<<10)
	for r := 0; r < 40; r++ {
		msgs := make([]string, 100)
		for i := range msgs {
			msgs[i] = big
		}
		e.send(t, msgs...)
	}
	time.Sleep(time.Second) // the writers reach the full sockets
	sent := time.Now()
	e.send(t, "probe")
	if f := good.must(t); msgOf(t, f) != "probe" {
		t.Fatalf("got %+v", f)
	}
	if d := time.Since(sent); d > 5*time.Second {
		t.Fatalf("the reading viewer's event took %v behind two stuck viewers", d)
	}
	e.hub.limMu.Lock()
	open := e.hub.open
	e.hub.limMu.Unlock()
	if open != 3 {
		t.Fatalf("%d streams open, want the two stuck ones still open (blocked) and the reader", open)
	}
}
