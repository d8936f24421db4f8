package store

import (
	"slices"
	"sort"
	"sync"

	"github.com/logcaster/logcaster/internal/event"
)

// head holds the events written since the last flush, as the batches they
// arrived in (their strings live in the batches' arenas, so nothing is
// copied). Writes only append batches; sorting them into per-stream blocks
// for scans is done lazily, by the first scan that needs them, and kept for
// the next: ingest pays nothing for scans that never come.
type head struct {
	batches []*event.Batch // guarded by Store.mu
	events  int            // guarded by Store.mu

	blocksMu   sync.Mutex
	blocks     []*MemBlock // the batches before sortedUpTo, sorted
	sortedUpTo int
}

func newHead() *head { return &head{} }

func (h *head) add(b *event.Batch) {
	h.batches = append(h.batches, b)
	h.events += len(b.Events)
}

// buildBlocks sorts the events of batches into one MemBlock per stream,
// each sorted by time.
func buildBlocks(batches []*event.Batch) []*MemBlock {
	n := 0
	for _, b := range batches {
		n += len(b.Events)
	}
	if n == 0 {
		return nil
	}
	// Keyed by the parts of event.StreamKey, so grouping allocates no key.
	type streamKey struct{ index, service string }
	byStream := map[streamKey][]event.Event{}
	for _, b := range batches {
		for i := range b.Events {
			e := &b.Events[i]
			svc, _ := e.Get("service")
			k := streamKey{e.Index, svc}
			byStream[k] = append(byStream[k], *e)
		}
	}
	keys := make([]streamKey, 0, len(byStream))
	for k := range byStream {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].index != keys[j].index {
			return keys[i].index < keys[j].index
		}
		return keys[i].service < keys[j].service
	})
	blocks := make([]*MemBlock, 0, len(keys))
	for _, k := range keys {
		evs := byStream[k]
		slices.SortStableFunc(evs, func(a, b event.Event) int {
			switch {
			case a.Time < b.Time:
				return -1
			case a.Time > b.Time:
				return 1
			}
			return 0
		})
		blocks = append(blocks, NewMemBlock(evs))
	}
	return blocks
}

// headView is what a scan sees of one head: its first n batches, taken
// under Store.mu.
type headView struct {
	h       *head
	batches []*event.Batch
}

func (h *head) view() headView {
	return headView{h: h, batches: h.batches[:len(h.batches):len(h.batches)]}
}

// allBlocks returns the view's batches as per-stream sorted blocks, sorting
// only the batches no earlier scan has sorted.
func (v headView) allBlocks() []*MemBlock {
	h := v.h
	h.blocksMu.Lock()
	defer h.blocksMu.Unlock()
	if n := len(v.batches); h.sortedUpTo < n {
		h.blocks = append(h.blocks, buildBlocks(v.batches[h.sortedUpTo:n])...)
		h.sortedUpTo = n
	}
	return h.blocks[:len(h.blocks):len(h.blocks)]
}

// eventsByDay groups the head's events by UTC day, the partition they
// belong to.
func (h *head) eventsByDay() map[string][]event.Event {
	// Events of a head are nearly always of one or two days: keep a pointer
	// to the current day's slice instead of a map lookup per event (which
	// was a third of this function's cost), and size the first day for all.
	type dayEvents struct {
		start, end int64
		events     []event.Event
	}
	var days []*dayEvents
	var cur *dayEvents
	for _, b := range h.batches {
		for i := range b.Events {
			t := b.Events[i].Time
			if cur == nil || t < cur.start || t >= cur.end {
				cur = nil
				for _, d := range days {
					if t >= d.start && t < d.end {
						cur = d
						break
					}
				}
				if cur == nil {
					start, end := dayBounds(t)
					capacity := 0
					if len(days) == 0 {
						capacity = h.events
					}
					cur = &dayEvents{start: start, end: end, events: make([]event.Event, 0, capacity)}
					days = append(days, cur)
				}
			}
			cur.events = append(cur.events, b.Events[i])
		}
	}
	out := make(map[string][]event.Event, len(days))
	for _, d := range days {
		out[dayOf(d.start)] = d.events
	}
	return out
}

const nsPerDay = int64(24 * 60 * 60 * 1e9)

// dayBounds returns the start (inclusive) and end (exclusive) of t's UTC day.
func dayBounds(t int64) (int64, int64) {
	start := t - t%nsPerDay
	if t%nsPerDay < 0 {
		start -= nsPerDay
	}
	return start, start + nsPerDay
}
