package query

import (
	"sort"
	"time"
)

// filterTime is `_time:1h` (the last hour before the run's clock) or
// `_time:[2026-11-01, 2026-11-02)`: start inclusive, end exclusive.
type filterTime struct {
	last     time.Duration // > 0 for the relative form
	min, max int64         // absolute [min, max), unix ns
	text     string        // as written, for String
}

func (f *filterTime) String() string { return "_time:" + f.text }

// bounds returns [min, max) for the run whose clock is now (unix ns).
func (f *filterTime) bounds(now int64) (int64, int64) {
	if f.last > 0 {
		return now - int64(f.last), now + 1
	}
	return f.min, f.max
}

func (f *filterTime) mayMatch(bc *blockCtx) bool {
	lo, hi := f.bounds(bc.now)
	bmin, bmax := bc.b.TimeRange()
	return bmax >= lo && bmin < hi
}

func (f *filterTime) apply(bc *blockCtx, bm *bitmap) {
	lo, hi := f.bounds(bc.now)
	ts := bc.timestamps()
	if ts == nil {
		bm.reset()
		return
	}
	// Timestamps ascend within a block: clear the two ends by binary search.
	a := sort.Search(len(ts), func(i int) bool { return ts[i] >= lo })
	b := sort.Search(len(ts), func(i int) bool { return ts[i] >= hi })
	for i := 0; i < a; i++ {
		bm.clear(i)
	}
	for i := b; i < len(ts); i++ {
		bm.clear(i)
	}
}
