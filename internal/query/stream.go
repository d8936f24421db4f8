package query

import (
	"context"
	"errors"
	"sync"

	"github.com/logcaster/logcaster/internal/store"
)

// Streaming: a query whose every matching row goes out (no limit, no
// stats, no sort; fields, where, extract, unpack_json, limit and offset
// after a where are fine) runs window by window, newest window first.
// Each window is collected, sorted and emitted before the next is read, so
// the rows still come newest first, the client sees them early, and
// memory holds one window, not the result.
//
// Windows are planned from a first pass that reads no column: each block
// that may match (time range, bloom filters) with its time range and rows.
// A window is the time span whose blocks, assuming their rows spread
// evenly in time, hold about targetRows candidate rows; after each window
// the target is set from the bytes a candidate row actually cost, so that a
// window takes about a quarter of the memory budget. A block spanning
// several windows is decoded once per window: the price of bounded memory
// when streams overlap in time (one block per stream, all covering the day,
// is what a merged part of a busy day looks like).

const (
	// streamFirstRows is the first window's candidate rows, before the
	// cost of a row is known.
	streamFirstRows = 1 << 16
	// streamMinRows and streamMaxRows bound a window's candidate rows.
	streamMinRows = 1 << 8
	streamMaxRows = 1 << 22
	// streamUnbudgeted is the bytes a window may take when the run has no
	// memory bound.
	streamUnbudgeted = 64 << 20
	// streamGuessRowBytes sizes the first window: a log row with a few
	// fields, as held in memory.
	streamGuessRowBytes = 1024
)

// blockSpan is a block that may match, as the planning pass saw it.
type blockSpan struct {
	min, max int64
	rows     int
}

func streamable(pipes []pipe) bool {
	for _, p := range pipes {
		switch p.(type) {
		case rowLocalPipe, *pipeLimit, *pipeOffset:
		default:
			return false
		}
	}
	return true
}

// spans lists the blocks that may hold matching rows, reading no column.
func (s *scan) spans(ctx context.Context, sc store.Scanner) ([]blockSpan, error) {
	var mu sync.Mutex
	var out []blockSpan
	err := sc.Scan(ctx, s.scanOptions(), func(b store.Block) error {
		bc := blockCtxPool.Get().(*blockCtx)
		defer blockCtxPool.Put(bc)
		bc.reset(b, s.rc.now)
		if !s.prepare(bc) {
			return nil
		}
		lo, hi := b.TimeRange()
		mu.Lock()
		out = append(out, blockSpan{min: max(lo, s.minT), max: min(hi, s.maxT), rows: b.Rows()})
		mu.Unlock()
		return nil
	})
	return out, err
}

// estimate is the candidate rows in [lo, hi], each block's rows taken as
// spread evenly over its time range.
func estimate(spans []blockSpan, lo, hi int64) float64 {
	n := 0.0
	for _, b := range spans {
		if b.max < lo || b.min > hi {
			continue
		}
		if b.min >= lo && b.max <= hi {
			n += float64(b.rows)
			continue
		}
		span := float64(b.max-b.min) + 1
		ov := float64(min(b.max, hi)-max(b.min, lo)) + 1
		n += float64(b.rows) * ov / span
	}
	return n
}

// windowStart returns the earliest lo >= floor such that [lo, hi] holds at
// most target candidate rows (hi itself when one instant holds more).
func windowStart(spans []blockSpan, floor, hi int64, target float64) int64 {
	if estimate(spans, floor, hi) <= target {
		return floor
	}
	a, b := floor, hi // estimate(a) > target; answer in (a, b]
	for b-a > 1 {
		m := a + (b-a)/2
		if estimate(spans, m, hi) <= target {
			b = m
		} else {
			a = m
		}
	}
	return b
}

// stream runs the query window by window; see the comment at the top.
func (s *scan) stream(ctx context.Context, sc store.Scanner, pipes []pipe, final int, emit func(*Row) error) error {
	spans, err := s.spans(ctx, sc)
	if err != nil || len(spans) == 0 {
		return err
	}
	floor, hi := spans[0].min, spans[0].max
	for _, b := range spans {
		floor, hi = min(floor, b.min), max(hi, b.max)
	}
	windowBytes := float64(streamUnbudgeted)
	if s.budget != nil {
		windowBytes = float64(s.budget.limit / 4)
	}
	st := streamState{pipes: pipes, final: final, emit: emit}
	st.init()
	target := min(float64(streamFirstRows), max(windowBytes/streamGuessRowBytes, streamMinRows))
	for hi >= floor {
		lo := windowStart(spans, floor, hi, target)
		// Each window has the whole budget to itself: the rows of the one
		// before have gone out. A window whose rows were bunched where
		// the estimate saw them spread is retried narrower.
		w := *s
		w.minT, w.maxT = lo, hi
		if s.budget != nil {
			w.budget = newBudget(s.budget.limit)
		}
		rows, err := w.collect(ctx, sc, 0)
		if errors.Is(err, ErrMemoryLimit) && lo < hi && target > 1 {
			target /= 4
			continue
		}
		if err != nil {
			return err
		}
		var bytes int64
		for _, r := range rows {
			bytes += rowBytes(r)
		}
		if done, err := st.push(s.rc, rows); err != nil || done {
			return err
		}
		if cand := estimate(spans, lo, hi); cand >= 1 && bytes > 0 {
			perRow := float64(bytes) / cand
			target = min(max(windowBytes/perRow, streamMinRows), streamMaxRows)
		} else {
			target = min(target*2, streamMaxRows)
		}
		if lo == floor {
			break
		}
		hi = lo - 1
	}
	return nil
}

// streamState carries the stateful pipes (limit, offset) and the final
// limit from window to window.
type streamState struct {
	pipes []pipe
	final int
	emit  func(*Row) error
	left  []int // per pipe: rows a limit still passes or an offset skips
	sent  int
}

func (st *streamState) init() {
	st.left = make([]int, len(st.pipes))
	for i, p := range st.pipes {
		switch p := p.(type) {
		case *pipeLimit:
			st.left[i] = p.n
		case *pipeOffset:
			st.left[i] = p.n
		}
	}
}

// push runs one window's rows (newest first) through the pipes and emits
// them; done when no later row can go out.
func (st *streamState) push(rc *runCtx, rows []*Row) (done bool, err error) {
	for i, p := range st.pipes {
		switch p := p.(type) {
		case *pipeLimit:
			if len(rows) > st.left[i] {
				rows = rows[:st.left[i]]
			}
			st.left[i] -= len(rows)
			if st.left[i] == 0 {
				done = true
			}
		case *pipeOffset:
			k := min(st.left[i], len(rows))
			rows = rows[k:]
			st.left[i] -= k
		default:
			if err := rc.ctx.Err(); err != nil {
				return true, err
			}
			if rows, err = p.run(rc, rows); err != nil {
				return true, err
			}
		}
	}
	for _, r := range rows {
		if st.final > 0 && st.sent >= st.final {
			return true, nil
		}
		if err := st.emit(r); err != nil {
			return true, err
		}
		st.sent++
	}
	if st.final > 0 && st.sent >= st.final {
		return true, nil
	}
	return done, nil
}
