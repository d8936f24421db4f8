package store

import (
	"math"
	"slices"
	"sort"

	"github.com/logcaster/logcaster/internal/event"
)

// freezeEvents is how many unsorted events the head collects before it sorts
// them into per-stream blocks. Scans sort the unfrozen tail on every call,
// so it must stay small; freezing too often makes many tiny blocks.
const freezeEvents = 32 << 10

// head holds the events written since the last flush, as the batches they
// arrived in (their strings live in the batches' arenas, so nothing is
// copied). Batches before frozenUpTo are also sorted into per-stream blocks
// ready for scans.
type head struct {
	batches    []*event.Batch
	events     int
	blocks     []*MemBlock
	frozenUpTo int // batches[:frozenUpTo] are in blocks
	unfrozen   int // events in batches[frozenUpTo:]
}

func newHead() *head { return &head{} }

func (h *head) add(b *event.Batch) {
	h.batches = append(h.batches, b)
	h.events += len(b.Events)
	h.unfrozen += len(b.Events)
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

// headView is what a scan sees of one head: its frozen blocks and the
// batches not yet frozen.
type headView struct {
	blocks  []*MemBlock
	pending []*event.Batch
}

func (h *head) view() headView {
	return headView{blocks: h.blocks, pending: h.batches[h.frozenUpTo:]}
}

// allBlocks returns the view's blocks, sorting the pending batches.
func (v headView) allBlocks() []*MemBlock {
	if len(v.pending) == 0 {
		return v.blocks
	}
	return append(slices.Clip(v.blocks), buildBlocks(v.pending)...)
}

// eventsByDay groups the head's events by UTC day, the partition they
// belong to.
func (h *head) eventsByDay() map[string][]event.Event {
	days := map[string][]event.Event{}
	lastDay, lastStart, lastEnd := "", int64(math.MaxInt64), int64(math.MinInt64)
	for _, b := range h.batches {
		for i := range b.Events {
			t := b.Events[i].Time
			if t < lastStart || t >= lastEnd {
				lastDay = dayOf(t)
				lastStart, lastEnd = dayBounds(t)
			}
			days[lastDay] = append(days[lastDay], b.Events[i])
		}
	}
	return days
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
