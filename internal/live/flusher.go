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
// Each stream used to do this in its own goroutine: wait for a token,
// take one of Options.Writers slots, write, sleep FlushInterval. With
// 5,000 busy viewers that was three goroutine switches and a timer per
// write, about a fifth of the server's CPU on two cores, and every switch
// queued behind thousands of runnable streams. The stream's goroutine now
// only serves its heartbeat, idle cut-off, maximum duration and end.

// dueStream is one scheduled stream and when it is due (unix ns).
type dueStream struct {
	at int64
	st *stream
}

// flusher is the writers' queue, a binary min-heap by due time.
type flusher struct {
	mu   sync.Mutex
	heap []dueStream
	// wake tells a waiting writer that the heap has a new earliest entry.
	wake chan struct{}
}

// schedule queues st to be written at (unix ns).
func (f *flusher) schedule(st *stream, at int64) {
	f.mu.Lock()
	f.heap = append(f.heap, dueStream{at, st})
	i := len(f.heap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if f.heap[p].at <= at {
			break
		}
		f.heap[i], f.heap[p] = f.heap[p], f.heap[i]
		i = p
	}
	f.mu.Unlock()
	if i == 0 {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// next pops the earliest stream if it is due at now; otherwise it returns
// how long until the earliest is due (-1: none is scheduled). After a pop
// it wakes another writer for the new earliest: the popping writer may
// block in its write (a stuck viewer), and the others may be waiting for
// a wake-up that schedule sent only once, for the entry just popped.
func (f *flusher) next(now int64) (*stream, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.heap) == 0 {
		return nil, -1
	}
	if d := f.heap[0].at - now; d > 0 {
		return nil, time.Duration(d)
	}
	defer func() {
		if len(f.heap) > 0 {
			select {
			case f.wake <- struct{}{}:
			default:
			}
		}
	}()
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
	return st, 0
}

// write is one writer goroutine; it ends when the hub closes (the streams
// then write what is left themselves, see stream.end).
func (h *Hub) write() {
	f := &h.flusher
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		st, wait := f.next(time.Now().UnixNano())
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
