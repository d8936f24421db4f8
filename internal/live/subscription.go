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

	mu      sync.Mutex
	queue   []*entry
	spare   []*entry
	notify  chan struct{}
	dropped int
	// dropFrom is the cursor to resume from after a drop: the sequence
	// number just before the first event lost.
	dropFrom uint64
	// cap bounds the live part of the queue; a replay may exceed it once.
	cap int
	// closedAt is the hub's sequence number when Close removed the
	// subscription; nothing after it is offered.
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
// registration, so no event is missed or queued twice between the two.
func (h *Hub) Subscribe(q *query.Query, from *Cursor) (*Subscription, Resume, error) {
	s := &Subscription{hub: h, key: q.String(), notify: make(chan struct{}, 1), cap: h.opts.BufferEvents}
	var res Resume
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, res, ErrClosed
	}
	s.start = h.seq
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
			if err := s.replay(q, h.ring[h.ringStart:]); err != nil {
				return nil, res, err
			}
			res.Replayed = len(s.queue)
			if res.Replayed > 0 {
				s.notify <- struct{}{}
			}
		default:
			live := h.ring[h.ringStart+int(from.Seq+1-first):]
			if err := s.replay(q, live); err != nil {
				return nil, res, err
			}
			res.Replayed = len(s.queue)
			if res.Replayed > 0 {
				s.notify <- struct{}{} // the stream's first wait takes them
			}
		}
	}
	g := h.groups[s.key]
	if g == nil {
		g = &group{q: q, subs: map[*Subscription]struct{}{}}
		h.groups[s.key] = g
	}
	g.subs[s] = struct{}{}
	return s, res, nil
}

// replay queues the entries of ents matching q; the hub's lock is held.
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
// queue is full; the hub's lock is held. It never blocks.
func (s *Subscription) push(fresh []*entry, rows []int) {
	s.mu.Lock()
	// A token is already waiting (or the stream is about to take) unless
	// the queue was empty: with 5,000 streams, sending to each channel at
	// every publish was an eighth of Publish's time.
	wake := len(s.queue) == 0 && s.dropped == 0
	for _, r := range rows {
		e := fresh[r]
		if s.dropped > 0 || len(s.queue) >= s.cap {
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
	s.mu.Unlock()
	if wake {
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
}

// Notify has a token whenever events or a drop wait to be taken.
func (s *Subscription) Notify() <-chan struct{} { return s.notify }

// take returns the queued events (valid until the next take) and the drop
// count and resume cursor, resetting both.
func (s *Subscription) take() (ents []*entry, dropped int, dropFrom uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ents = s.queue
	clear(s.spare)
	s.queue, s.spare = s.spare[:0], ents
	dropped, dropFrom = s.dropped, s.dropFrom
	s.dropped = 0
	return ents, dropped, dropFrom
}

// Close unregisters the subscription and returns the hub's sequence number
// at that moment: once the events still queued are written, a viewer
// resuming from it misses nothing (unless a drop is pending).
func (s *Subscription) Close() uint64 {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.closedAt = h.seq
		if g := h.groups[s.key]; g != nil {
			delete(g.subs, s)
			if len(g.subs) == 0 {
				delete(h.groups, s.key)
			}
		}
	}
	return s.closedAt
}
