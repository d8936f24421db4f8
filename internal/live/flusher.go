package live

import (
	"sync"
	"time"
)

// The hub's writers (Options.Writers goroutines) write every stream's
// queued events. A subscription that gets something to write while it has
// nothing pending is scheduled once, due FlushInterval after its last
// write (at once if it has been quiet that long); the writers take the
// streams in order of when they are due, each as it comes due, and write
// all that stream has queued by then in one write(2).
//
// At most half the cores' worth of writers write at once (one on two
// cores); the others stand by for a writer stuck on a viewer whose
// connection takes nothing, which can block it for up to WriteTimeout:
// once every writing writer has been at one stream for stuckAfter, an
// idle one starts too. Writing less at once leaves the other cores to
// ingest (and, in TestTailLoad, to the viewers on the same machine), and a
// writer that falls behind makes each write carry more events: on two
// cores, all writers at once made 40-48k writes/s and a p99 of 187-411 ms,
// one at a time 38k writes/s and 186-207 ms (BENCHMARKS.md, live tail).
//
// Each stream used to do this in its own goroutine: wait for a token,
// take one of Options.Writers slots, write, sleep FlushInterval. With
// 5,000 busy viewers that was three goroutine switches and a timer per
// write, about a fifth of the server's CPU on two cores, and every switch
// queued behind thousands of runnable streams. The stream's goroutine now
// only serves its heartbeat, idle cut-off, maximum duration and end.

// stuckAfter is how long a writer may spend on one stream before another
// starts beside it: a write takes tens of microseconds, and a writer the
// OS or the GC paused for a few milliseconds is better left to finish.
const stuckAfter = 20 * time.Millisecond

// maxAtOnce bounds the writers writing at once (GOMAXPROCS/2): eight cores
// of writes is some 400,000 a second, and it keeps takeAt's scan on the
// stack.
const maxAtOnce = 8

// dueStream is one scheduled stream and when it is due (unix ns).
type dueStream struct {
	at int64
	st *stream
}

// flusher is the writers' queue, a binary min-heap by due time.
type flusher struct {
	mu   sync.Mutex
	heap []dueStream
	// atOnce is how many writers write at once unless some are stuck.
	atOnce int
	// sleeps holds for each writer 0 while it writes and, while it is
	// idle, when it wakes by itself (unix ns), or -1 when only a wake-up
	// wakes it. One idle writer at a time keeps a timer for the earliest
	// stream; a timer each would wake every idle writer for every stream.
	sleeps []int64
	// since holds for each writer when it took the stream it is writing
	// (unix ns), 0 while it is idle.
	since []int64
	// wake wakes one idle writer (see watch).
	wake chan struct{}
}

func newFlusher(writers, atOnce int) flusher {
	return flusher{atOnce: max(atOnce, 1), sleeps: make([]int64, writers), since: make([]int64, writers), wake: make(chan struct{}, 1)}
}

// schedule queues st to be written at (unix ns).
func (f *flusher) schedule(st *stream, at int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.heap = append(f.heap, dueStream{at, st})
	for i := len(f.heap) - 1; i > 0; {
		p := (i - 1) / 2
		if f.heap[p].at <= at {
			break
		}
		f.heap[i], f.heap[p] = f.heap[p], f.heap[i]
		i = p
	}
	f.watch()
}

// takeAt is when an idle writer may take the earliest stream: when it is
// due, and while atOnce writers are writing, not before all but atOnce-1
// of them have been at their stream for stuckAfter; f.mu is held and the
// heap is not empty.
func (f *flusher) takeAt() int64 {
	at := f.heap[0].at
	// The writing writers' start times, newest first: the atOnce-th
	// newest is the one whose being stuck lets another start.
	var newest [maxAtOnce]int64
	k := min(f.atOnce, maxAtOnce)
	for _, s := range f.since {
		if s == 0 {
			continue
		}
		for i := 0; i < k; i++ {
			if s > newest[i] {
				copy(newest[i+1:k], newest[i:k-1])
				newest[i] = s
				break
			}
		}
	}
	if newest[k-1] != 0 { // atOnce writers are writing
		at = max(at, newest[k-1]+int64(stuckAfter))
	}
	return at
}

// watched reports whether an idle writer other than w wakes by itself by
// at; f.mu is held.
func (f *flusher) watched(at int64, w int) bool {
	for i, s := range f.sleeps {
		if i != w && s > 0 && s <= at {
			return true
		}
	}
	return false
}

// watch makes sure the earliest stream is taken in time: when no idle
// writer wakes by itself by takeAt, it wakes one, which then watches it;
// f.mu is held.
func (f *flusher) watch() {
	if len(f.heap) == 0 || f.watched(f.takeAt(), -1) {
		return
	}
	for _, s := range f.sleeps {
		if s != 0 { // an idle writer
			select {
			case f.wake <- struct{}{}:
			default:
			}
			return
		}
	}
}

// next is writer w's turn, once it is done with its last stream: it pops
// the earliest stream if the writer may take it at now; otherwise it
// returns how long the writer may sleep before it may (-1: until woken,
// when no stream is scheduled or another idle writer watches).
func (f *flusher) next(w int, now int64) (*stream, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.since[w] = 0
	if len(f.heap) == 0 {
		f.sleeps[w] = -1
		return nil, -1
	}
	if at := f.takeAt(); at > now {
		if f.watched(at, w) {
			f.sleeps[w] = -1
			return nil, -1
		}
		f.sleeps[w] = at
		return nil, time.Duration(at - now)
	}
	st := f.heap[0].st
	n := len(f.heap) - 1
	f.heap[0] = f.heap[n]
	f.heap[n] = dueStream{}
	f.heap = f.heap[:n]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < n && f.heap[l].at < f.heap[small].at {
			small = l
		}
		if r := l + 1; r < n && f.heap[r].at < f.heap[small].at {
			small = r
		}
		if small == i {
			break
		}
		f.heap[i], f.heap[small] = f.heap[small], f.heap[i]
		i = small
	}
	f.sleeps[w], f.since[w] = 0, now
	f.watch()
	return st, 0
}

// write is writer w's goroutine; it ends when the hub closes (the streams
// then write what is left themselves, see stream.end).
func (h *Hub) write(w int) {
	f := &h.flusher
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		st, wait := f.next(w, time.Now().UnixNano())
		if st != nil {
			st.writeDue()
			continue
		}
		var fire <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			fire = timer.C
		}
		select {
		case <-f.wake:
		case <-fire:
		case <-h.done:
			timer.Stop()
			return
		}
		timer.Stop()
	}
}
