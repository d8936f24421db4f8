package query

import "time"

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
	// A linear pass rather than a binary search: rows reaching a where
	// pipe are not in ascending order, and the pass is cheap next to the
	// column reads of other filters.
	bm.keepIf(func(i int) bool { return ts[i] >= lo && ts[i] < hi })
}
