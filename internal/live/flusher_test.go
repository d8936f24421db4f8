package live

import (
	"math/rand/v2"
	"slices"
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
	if st, wait := f.next(ats[0] - 7); st != nil || wait != 7 {
		t.Fatalf("before the earliest is due: %p, wait %v; want none, 7ns", st, wait)
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
	}
	if st, wait := f.next(1 << 40); st != nil || wait != -1 || len(due) != 0 {
		t.Fatalf("empty queue: %p, %v, %d left", st, wait, len(due))
	}
	select {
	case <-f.wake:
	default:
		t.Fatal("scheduling an earliest entry did not wake a writer")
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
