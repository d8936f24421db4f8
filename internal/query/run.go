package query

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/logcaster/logcaster/internal/store"
)

// RunOptions bound one run of a query.
type RunOptions struct {
	// Start and End bound the time, unix ns, start inclusive and end
	// exclusive; 0 leaves that side open.
	Start, End int64
	// Limit caps the rows emitted; 0 is no cap.
	Limit int
	// Now is the clock relative times (_time:1h) count back from; zero
	// means time.Now().
	Now time.Time
	// Parallelism is passed to the scanner; 0 means every core.
	Parallelism int
	// MaxMemory bounds what the run holds (rows waiting to be emitted,
	// stats groups, count_uniq sets, quantile values), in bytes; past it
	// the run stops with a *MemoryLimitError. 0 is no bound.
	MaxMemory int64
}

// Run runs the query over the scanner and calls emit with each result row,
// newest first unless a pipe orders them. Rows passed to emit are the
// caller's to keep. Run stops with ctx's error when ctx is done, and with
// emit's error when emit fails.
func (q *Query) Run(ctx context.Context, sc store.Scanner, opts RunOptions, emit func(*Row) error) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	rc := &runCtx{ctx: ctx, now: now.UnixNano(), budget: newBudget(opts.MaxMemory)}
	minT, maxT := q.timeBounds(opts, rc.now)
	if minT > maxT {
		return nil
	}
	pipes := q.pipes
	// A leading sort by time, newest first, is the scan's own order.
	if len(pipes) > 0 {
		if s, ok := pipes[0].(*pipeSort); ok && s.byTimeDesc() {
			pipes = pipes[1:]
		}
	}
	s := &scan{q: q, rc: rc, minT: minT, maxT: maxT, parallelism: opts.Parallelism, budget: rc.budget}
	var rows []*Row
	var err error
	switch p := first(pipes).(type) {
	case *pipeStats:
		rows, err = s.aggregate(ctx, sc, p)
		pipes = pipes[1:]
	case *pipeTop:
		rows, err = s.aggregate(ctx, sc, p.stats)
		rows = p.finish(rows)
		pipes = pipes[1:]
	default:
		limit := sourceLimit(pipes, opts.Limit)
		if limit == 0 && streamable(pipes) {
			return s.stream(ctx, sc, pipes, opts.Limit, emit)
		}
		rows, err = s.collect(ctx, sc, limit)
	}
	if err != nil {
		return err
	}
	for _, p := range pipes {
		if err := ctx.Err(); err != nil {
			return err
		}
		if rows, err = p.run(rc, rows); err != nil {
			return err
		}
	}
	if opts.Limit > 0 && len(rows) > opts.Limit {
		rows = rows[:opts.Limit]
	}
	for _, r := range rows {
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

func first(pipes []pipe) pipe {
	if len(pipes) == 0 {
		return nil
	}
	return pipes[0]
}

// sourceLimit is how many of the newest matching rows the pipes can use:
// limit and offset ahead of any pipe that reorders or merges rows bound
// it; 0 means every matching row.
func sourceLimit(pipes []pipe, final int) int {
	need, skip := math.MaxInt, 0
	preserving := true
	for _, p := range pipes {
		switch p := p.(type) {
		case *pipeLimit:
			need = min(need, skip+p.n)
		case *pipeOffset:
			skip += p.n
		case *pipeFields:
		default:
			preserving = false
		}
		if !preserving {
			break
		}
	}
	if preserving && final > 0 {
		need = min(need, skip+final)
	}
	if need == math.MaxInt {
		return 0
	}
	if need == 0 {
		return -1
	}
	return need
}

// timeBounds intersects the run's [Start, End) with the query's top-level
// time filters, as inclusive [min, max] for the scanner.
func (q *Query) timeBounds(opts RunOptions, now int64) (int64, int64) {
	minT, maxT := int64(math.MinInt64), int64(math.MaxInt64)
	if opts.Start != 0 {
		minT = opts.Start
	}
	if opts.End != 0 {
		maxT = opts.End - 1
	}
	narrow := func(f filter) {
		if t, ok := f.(*filterTime); ok {
			lo, hi := t.bounds(now)
			minT = max(minT, lo)
			maxT = min(maxT, hi-1)
		}
	}
	narrow(q.filter)
	if a, ok := q.filter.(*filterAnd); ok {
		for _, c := range a.children {
			narrow(c)
		}
	}
	return minT, maxT
}

// scan holds what the scan callbacks of one run share.
type scan struct {
	q           *Query
	rc          *runCtx
	minT, maxT  int64
	parallelism int
	budget      *memBudget
}

var blockCtxPool = sync.Pool{New: func() any { return &blockCtx{} }}

// prepare answers from what the block knows without decoding: false when
// no row of it can match.
func (s *scan) prepare(bc *blockCtx) bool {
	b := bc.b
	bmin, bmax := b.TimeRange()
	if bmax < s.minT || bmin > s.maxT || b.Rows() == 0 {
		return false
	}
	return s.q.filter.mayMatch(bc)
}

// rowRange returns the rows [lo, hi) inside the run's time bounds.
func (s *scan) rowRange(bc *blockCtx) (int, int, error) {
	n := bc.b.Rows()
	bmin, bmax := bc.b.TimeRange()
	if bmin >= s.minT && bmax <= s.maxT {
		return 0, n, nil
	}
	ts := bc.timestamps()
	if bc.err != nil {
		return 0, 0, bc.err
	}
	lo := sort.Search(len(ts), func(i int) bool { return ts[i] >= s.minT })
	hi := sort.Search(len(ts), func(i int) bool { return ts[i] > s.maxT })
	return lo, hi, nil
}

// eval evaluates the filter on rows [lo, hi) of the block, leaving the
// matching ones set in bm; false when none matches.
func (s *scan) eval(bc *blockCtx, bm *bitmap, lo, hi int) (bool, error) {
	bm.init(bc.b.Rows(), false)
	bm.setRange(lo, hi)
	s.q.filter.apply(bc, bm)
	if bc.err != nil {
		return false, bc.err
	}
	return !bm.isZero(), nil
}

// match evaluates the filter on the whole block.
func (s *scan) match(bc *blockCtx, bm *bitmap) (bool, error) {
	if !s.prepare(bc) {
		return false, nil
	}
	return s.matchPrepared(bc, bm)
}

// matchPrepared is match for a block prepare has let through.
func (s *scan) matchPrepared(bc *blockCtx, bm *bitmap) (bool, error) {
	lo, hi, err := s.rowRange(bc)
	if err != nil || lo >= hi {
		return false, err
	}
	return s.eval(bc, bm, lo, hi)
}

func (s *scan) scanOptions() store.ScanOptions {
	return store.ScanOptions{MinTime: s.minT, MaxTime: s.maxT, NewestFirst: true, Parallelism: s.parallelism}
}

// aggregate runs a stats pipe straight over the blocks: one aggregator per
// concurrent callback, merged at the end.
func (s *scan) aggregate(ctx context.Context, sc store.Scanner, p *pipeStats) ([]*Row, error) {
	// One aggregator per concurrent callback, from a pool: a mutex around
	// a free list was 16% of `* | stats count() by (service, level)` once
	// summaries made each block a few counts. An aggregator the pool drops
	// is still in all, so its counts still count.
	var mu sync.Mutex
	var all []*statsAgg
	aggs := sync.Pool{New: func() any {
		a := p.newAgg(s.budget)
		mu.Lock()
		all = append(all, a)
		mu.Unlock()
		return a
	}}
	err := sc.Scan(ctx, s.scanOptions(), func(b store.Block) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		bc := blockCtxPool.Get().(*blockCtx)
		defer blockCtxPool.Put(bc)
		bc.reset(b, s.rc.now)
		if !s.prepare(bc) {
			return nil
		}
		a := aggs.Get().(*statsAgg)
		defer aggs.Put(a)
		if a.addSummary(bc, s.q.filter, s.minT, s.maxT) { // count-only stats
			if s.budget.exceeded() {
				return s.budget.err()
			}
			return nil
		}
		bm := bc.getBitmap()
		defer bc.putBitmap(bm)
		ok, err := s.matchPrepared(bc, bm)
		if err != nil || !ok {
			return err
		}
		a.addBlock(bc, bm)
		if s.budget.exceeded() {
			return s.budget.err()
		}
		return bc.err
	})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	total := p.newAgg(s.budget)
	for _, a := range all {
		total.merge(a)
	}
	return total.rows(), nil
}
