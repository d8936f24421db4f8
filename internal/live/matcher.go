package live

import (
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/store"
)

// The matcher is the hub's own goroutine: it takes the groups Publish
// numbered and offers each to the subscriptions, matching once per distinct
// filter: filters of one exact value (`service:=s7`) by one lookup an
// event in an index (exact.go), the others by query.MatchBlock. Publish
// runs in the pipeline's writer, between one group commit and the next;
// matching a 32,768-event group for 5,000 viewers on 100
// filters took 90 ms there, and the pipeline waited for it (max TCP ingest
// with 5,000 matching viewers fell to 4-11% of its rate without them). Now
// Publish only numbers, copies and logs the group and queues it here.
//
// The queue is bounded (Options.PendingEvents). When the matcher is behind
// by more, Publish sheds: the group is not queued but counted as a stretch
// of cursors nobody was offered, and every subscription it may concern
// (shed_values.go) then gets a dropped notice naming the stretch (the
// events were not checked against its filter, so only their number is
// known) with the cursor to resume
// from; a resume fills the stretch from the ring or the store exactly as
// after any drop. Ingest thus never waits for viewers, and when the
// machine is overloaded the live deliveries are what gives way.

// pub is one published group waiting for the matcher; with ents nil, a
// stretch of cursors shed without matching.
type pub struct {
	ents        []*entry
	first, last uint64
	now         time.Time
	// values, for a shed stretch, are its events' values of the exact
	// index's fields (shed_values.go); nil: any value may occur.
	values *shedValues
}

// enqueue hands a published group to the matcher; the hub's lock is held.
func (h *Hub) enqueue(fresh []*entry, now time.Time) {
	h.pending = append(h.pending, pub{ents: fresh, first: fresh[0].seq, last: fresh[len(fresh)-1].seq, now: now})
	h.pendingEvents += len(fresh)
	h.wakeMatcher()
}

func (h *Hub) wakeMatcher() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// shedGroup numbers a group the matcher has no room for (Publish takes a
// group whenever nothing is pending or being matched, so one larger than
// the bound is matched when the matcher is idle) and queues it as a shed
// stretch; the hub's lock is held. It copies nothing: copying a 32,768-event
// group into the ring was most of Publish's time in the commit path (the
// allocation's GC assist and the copy), more than the store's own write. It
// logs the events' hashes, so a resume fills the stretch from the store,
// and lets the ring go, whose cursors must stay contiguous.
func (h *Hub) shedGroup(batches []*event.Batch, n int, now time.Time) {
	seg := &segment{epoch: h.epoch, first: h.seq + 1, hashes: make([]uint64, 0, n)}
	var values *shedValues
	if fields := h.exactFields.Load(); fields != nil && len(*fields) > 0 {
		values = newShedValues(*fields)
	}
	for _, b := range batches {
		for i := range b.Events {
			ev := &b.Events[i]
			seg.hashes = append(seg.hashes, hashEvent(ev))
			if values != nil {
				values.add(ev)
			}
			if len(seg.hashes) == 1 || ev.Time < seg.minT {
				seg.minT = ev.Time
			}
			if len(seg.hashes) == 1 || ev.Time > seg.maxT {
				seg.maxT = ev.Time
			}
		}
	}
	h.seq += uint64(n)
	h.log.append(seg)
	if h.lw != nil {
		h.lw.write(seg)
	}
	h.dropRing()
	h.shed += uint64(n)
	h.shedAt.Store(now.UnixNano())
	first, last := seg.first, h.seq
	if k := len(h.pending); k > 0 && h.pending[k-1].ents == nil && h.pending[k-1].last+1 == first {
		h.pending[k-1].last = last // one stretch for consecutive sheds
		h.pending[k-1].values = h.pending[k-1].values.merge(values)
		return
	}
	h.pending = append(h.pending, pub{first: first, last: last, values: values})
	h.wakeMatcher()
}

// Shed is how many events the hub has published without offering them to
// the subscriptions because its matcher was behind (each subscription
// got a dropped notice for them).
func (h *Hub) Shed() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.shed
}

// match is the matcher goroutine; when the hub closes, it offers what is
// pending and ends (the streams then end with the cursor it reached).
func (h *Hub) match() {
	defer close(h.matcherDone)
	for quit := false; ; {
		if quit {
			return
		}
		select {
		case <-h.wake:
		case <-h.quit:
			quit = true // one last round
		}
		for {
			h.mu.Lock()
			if len(h.pending) == 0 {
				h.pending = h.pending[:0:0] // let a grown array go
				h.mu.Unlock()
				break
			}
			p := h.pending[0]
			h.pending[0] = pub{}
			h.pending = h.pending[1:]
			h.mu.Unlock()

			h.subMu.Lock()
			h.offer(&p)
			h.matched = p.last
			h.subMu.Unlock()

			// The group counts against the bound until it is offered, so
			// that the bound is the matcher's whole backlog.
			h.mu.Lock()
			h.pendingEvents -= len(p.ents)
			h.mu.Unlock()
		}
	}
}

// offer queues p's events to each subscription whose filter matches them,
// or tells every subscription of a shed stretch; h.subMu is held.
func (h *Hub) offer(p *pub) {
	if len(h.groups) == 0 {
		return
	}
	if p.ents == nil {
		for _, g := range h.groups {
			if g.exact && !p.values.may(g.field, g.value) {
				continue // no event of the stretch had its value
			}
			for s := range g.subs {
				s.skip(p.first, p.last)
			}
		}
		return
	}
	h.touched = h.exact.match(p.ents, h.touched[:0])
	for i, g := range h.touched {
		h.deliver(g, p.ents, g.rows)
		g.rows = g.rows[:0]
		if cap(g.rows) > maxKeptRows {
			g.rows = nil
		}
		h.touched[i] = nil
	}
	if len(h.scanned) == 0 {
		return
	}
	evs := make([]event.Event, len(p.ents))
	for i, e := range p.ents {
		evs[i] = e.ev
	}
	blk := newGroupBlock(store.NewMemBlock(evs))
	for _, g := range h.scanned {
		rows, err := g.q.MatchBlock(blk, p.now)
		if err != nil || len(rows) == 0 {
			continue
		}
		h.deliver(g, p.ents, rows)
	}
}

// maxKeptRows bounds the row list an exact group keeps between offers: a
// burst that matched one filter in a 32,768-event group is not kept by
// each of thousands of groups.
const maxKeptRows = 4096

// deliver renders the entries of ents at rows (ascending) and queues them
// to g's subscriptions; h.subMu is held.
func (h *Hub) deliver(g *group, ents []*entry, rows []int) {
	for _, r := range rows {
		h.render(ents[r])
	}
	for s := range g.subs {
		s.push(ents, rows)
	}
}

// overloadFor is how long after a shed the hub counts as overloaded, and
// overloadBackoff how many times FlushInterval a stream then waits
// between writes (see Subscription.due).
const (
	overloadFor     = time.Second
	overloadBackoff = 4
)

// overloaded reports whether the hub shed a group within overloadFor.
func (h *Hub) overloaded() bool {
	at := h.shedAt.Load()
	return at != 0 && time.Since(time.Unix(0, at)) < overloadFor
}
