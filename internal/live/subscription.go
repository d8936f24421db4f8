package live

import (
	"sync"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/query"
	"github.com/logcaster/logcaster/internal/store"
)

// Subscription is one viewer's queue of matched events.
type Subscription struct {
	hub *Hub
	key string
	// start is the hub's last sequence number when the subscription was
	// registered: everything after it is offered to the queue.
	start uint64

	mu    sync.Mutex
	queue []*entry
	spare []*entry
	// st is the stream that writes the queue once it is live (attach);
	// scheduled is set while it waits in the hub's writers' queue
	// (flusher.go), and lastTake is when the queue was last taken (unix
	// ns), from which the next write is due FlushInterval later.
	st        *stream
	scheduled bool
	lastTake  int64
	dropped   int
	// unchecked counts the events of shed stretches (see matcher.go): not
	// matched against the filter, so each may or may not have matched.
	unchecked uint64
	// dropFrom is the cursor to resume from after a drop: the sequence
	// number just before the first event lost.
	dropFrom uint64
	// cap bounds the live part of the queue; a replay may exceed it once.
	cap int
	// closedAt is the last sequence number offered to the subscription
	// when Close removed it; nothing after it is offered.
	closedAt uint64
	closed   bool
}

// Resume tells how a subscription started from a cursor.
type Resume struct {
	// Gap is set when the cursor is ahead of the hub (a later run's, or
	// past its last event): nothing is replayed.
	Gap bool
	// Replayed is how many events came from the ring.
	Replayed int
	// fill, set when the cursor is older than the ring, is what the
	// stream reads from the store before the queue (see fill.go).
	fill *fillPlan
}

// Filled reports whether the resume reads the store before the ring.
func (r Resume) Filled() bool { return r.fill != nil }

// Subscribe registers a subscription for q's filter. With from set, the
// ring's matching events after it are queued first, atomically with the
// registration, so no event is missed or queued twice between the two:
// the subscription takes every published event after s.start, the ring's
// up to it from the replay and the later ones from the matcher, which
// waits meanwhile (h.subMu). Publish does not wait: the ring is copied
// under h.mu and matched after.
func (h *Hub) Subscribe(q *query.Query, from *Cursor) (*Subscription, Resume, error) {
	s := &Subscription{hub: h, key: q.String(), cap: h.opts.BufferEvents}
	var res Resume
	h.subMu.Lock()
	defer h.subMu.Unlock()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, res, ErrClosed
	}
	s.start = h.seq
	var ring []*entry
	if from != nil {
		first := h.seq + 1 // the ring's oldest sequence number
		if len(h.ring) > h.ringStart {
			first = h.ring[h.ringStart].seq
		}
		switch {
		case from.Epoch > h.epoch || (from.Epoch == h.epoch && from.Seq > h.seq):
			res.Gap = true
		case from.Epoch < h.epoch || from.Seq+1 < first:
			// Older than the ring: the store answers up to the ring's
			// oldest, then the whole ring follows, exactly as below.
			res.fill = &fillPlan{from: *from, epoch: h.epoch, end: first, segs: h.log.after(*from, h.epoch, first), known: h.log.has(from.Epoch)}
			ring = append([]*entry(nil), h.ring[h.ringStart:]...)
		default:
			ring = append([]*entry(nil), h.ring[h.ringStart+int(from.Seq+1-first):]...)
		}
	}
	h.viewers++ // before mu is let go: the next Publish queues its group
	h.mu.Unlock()
	if err := s.replay(q, ring); err != nil {
		h.mu.Lock()
		h.viewers--
		h.mu.Unlock()
		return nil, res, err
	}
	res.Replayed = len(s.queue) // written once the stream is live (attach)
	g := h.groups[s.key]
	if g == nil {
		g = h.newGroup(s.key, q)
	}
	g.subs[s] = struct{}{}
	return s, res, nil
}

// replay queues the entries of ents matching q; h.subMu is held.
func (s *Subscription) replay(q *query.Query, ents []*entry) error {
	if len(ents) == 0 {
		return nil
	}
	evs := make([]event.Event, len(ents))
	for i, e := range ents {
		evs[i] = e.ev
	}
	rows, err := q.MatchBlock(store.NewMemBlock(evs), time.Now())
	if err != nil {
		return err
	}
	for _, r := range rows {
		s.hub.render(ents[r])
		s.queue = append(s.queue, ents[r])
	}
	return nil
}

// push queues the matched rows of fresh, or counts them as dropped when the
// queue is full; h.subMu is held. It never blocks.
func (s *Subscription) push(fresh []*entry, rows []int) {
	s.mu.Lock()
	for _, r := range rows {
		e := fresh[r]
		if e.seq <= s.start {
			continue // registered after it was published: replayed or not owed
		}
		if s.dropped > 0 || s.unchecked > 0 || len(s.queue) >= s.cap {
			// Once dropping, keep dropping until the viewer has read the
			// notice: a stream never skips ahead and then goes back.
			if s.dropped == 0 {
				s.dropFrom = e.seq - 1
			}
			s.dropped++
			continue
		}
		s.queue = append(s.queue, e)
	}
	s.unlockScheduling()
}

// unlockScheduling lets s.mu go and, when the subscription has just become
// due (see due), schedules its stream with the hub's writers.
func (s *Subscription) unlockScheduling() {
	st, at := s.due()
	s.mu.Unlock()
	if st != nil {
		s.hub.flusher.schedule(st, at)
	}
}

// due marks the subscription scheduled and returns its stream and when
// the write is due, when it is live, has something to write and is not
// yet scheduled; s.mu is held. Only the first event after a write
// schedules: with 5,000 streams, waking each at every publish was an
// eighth of Publish's time.
func (s *Subscription) due() (*stream, int64) {
	if s.st == nil || s.scheduled || (len(s.queue) == 0 && s.dropped == 0 && s.unchecked == 0) {
		return nil, 0
	}
	s.scheduled = true
	hold := s.hub.opts.FlushInterval
	if s.hub.overloaded() {
		// While the hub sheds (the machine cannot keep up with ingest),
		// streams write overloadBackoff times less often: fewer, larger
		// writes, and the queues overflowing into dropped notices, leave
		// the CPU to ingest.
		hold *= overloadBackoff
	}
	return s.st, max(time.Now().UnixNano(), s.lastTake+int64(hold))
}

// attach makes st the subscription's writer: from now on the hub's
// writers write its queue, starting with what is already queued; nil
// detaches it (the stream has ended).
func (s *Subscription) attach(st *stream) {
	s.mu.Lock()
	s.st = st
	s.unlockScheduling()
}

// skip tells the subscription that the events first...last were shed
// unmatched (see matcher.go): it reports them as dropped, to be resumed
// from the cursor before the first of them it was owed; h.subMu is held.
func (s *Subscription) skip(first, last uint64) {
	if last <= s.start {
		return
	}
	first = max(first, s.start+1)
	s.mu.Lock()
	if s.dropped == 0 && s.unchecked == 0 {
		s.dropFrom = first - 1
	}
	s.unchecked += last - first + 1
	s.unlockScheduling()
}

// drop is what a subscription lost since its last take: dropped matching
// events, unchecked ones of shed stretches, and the cursor to resume from.
type drop struct {
	dropped   int
	unchecked uint64
	from      uint64
}

func (d drop) any() bool { return d.dropped > 0 || d.unchecked > 0 }

// take returns the queued events (valid until the next take) and what was
// dropped after them, resetting it; the next event schedules the next
// write, FlushInterval after this take.
func (s *Subscription) take() (ents []*entry, d drop) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scheduled = false
	s.lastTake = time.Now().UnixNano()
	ents = s.queue
	clear(s.spare)
	s.queue, s.spare = s.spare[:0], ents
	d = drop{dropped: s.dropped, unchecked: s.unchecked, from: s.dropFrom}
	s.dropped, s.unchecked = 0, 0
	return ents, d
}

// Close unregisters the subscription and returns the last sequence number
// offered to it: once the events still queued are written, a viewer
// resuming from it misses nothing (unless a drop is pending).
func (s *Subscription) Close() uint64 {
	h := s.hub
	h.subMu.Lock()
	defer h.subMu.Unlock()
	if !s.closed {
		s.closed = true
		s.closedAt = max(h.matched, s.start)
		if g := h.groups[s.key]; g != nil {
			delete(g.subs, s)
			if len(g.subs) == 0 {
				h.dropGroup(s.key, g)
			}
		}
		h.mu.Lock()
		h.viewers--
		h.mu.Unlock()
	}
	return s.closedAt
}
