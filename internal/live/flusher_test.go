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
	var f flusher
	f.wake = make(chan struct{}, 1)
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
	woken := func() bool {
		select {
		case <-f.wake:
			return true
		default:
			return false
		}
	}
	if !woken() {
		t.Fatal("scheduling an earliest entry did not wake a writer")
	}
	if st, wait := f.next(ats[0] - 7); st != nil || wait != 7 || woken() {
		t.Fatalf("before the earliest is due: %p, wait %v; want none, 7ns, no wake-up", st, wait)
	}
	for i, want := range ats {
		st, wait := f.next(1 << 40)
		if st == nil || wait != 0 {
			t.Fatalf("pop %d: %p, %v", i, st, wait)
		}
		if due[st] != want {
			t.Fatalf("pop %d: due %d, want %d", i, due[st], want)
		}
		delete(due, st) // each stream once
		// Another writer must look at the new earliest, as this one may
		// block in its write.
		if w := woken(); w != (i < n-1) {
			t.Fatalf("pop %d of %d: another writer woken %v", i, n, w)
		}
	}
	if st, wait := f.next(1 << 40); st != nil || wait != -1 || len(due) != 0 {
		t.Fatalf("empty queue: %p, %v, %d left", st, wait, len(due))
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
