package query

import (
	"container/heap"
	"context"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/store"
)

// collector gathers the matching rows, newest first. With a limit it keeps
// only the newest N in a min-heap; once the heap is full, its oldest time
// is a threshold no block ending at or before it can beat, and as blocks
// arrive newest first the scan stops at the first such block.
type collector struct {
	limit int // 0: every row
	mu    sync.Mutex
	h     rowHeap
	all   []*Row
	// thr is the heap's oldest time once full, math.MinInt64 before.
	thr    atomic.Int64
	budget *memBudget
}

type rowHeap []*Row

func (h rowHeap) Len() int           { return len(h) }
func (h rowHeap) Less(i, j int) bool { return h[i].Time < h[j].Time }
func (h rowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rowHeap) Push(x any)        { *h = append(*h, x.(*Row)) }
func (h *rowHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}

// collect runs the filter over every block and returns the newest limit
// matching rows (all when limit is 0, none when it is negative), newest first.
func (s *scan) collect(ctx context.Context, sc store.Scanner, limit int) ([]*Row, error) {
	if limit < 0 {
		return nil, nil
	}
	c := &collector{limit: limit, budget: s.budget}
	c.thr.Store(math.MinInt64)
	err := sc.Scan(ctx, s.scanOptions(), func(b store.Block) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if limit > 0 {
			if _, bmax := b.TimeRange(); bmax <= c.thr.Load() {
				// Blocks come in descending order of their newest row:
				// neither this one nor any later one can beat the heap.
				return store.ErrStopScan
			}
		}
		bc := blockCtxPool.Get().(*blockCtx)
		defer blockCtxPool.Put(bc)
		bc.reset(b, s.rc.now)
		bm := bc.getBitmap()
		defer bc.putBitmap(bm)
		if !s.prepare(bc) {
			return nil
		}
		lo, hi, err := s.rowRange(bc)
		if err != nil || lo >= hi {
			return err
		}
		if limit == 0 {
			if ok, err := s.eval(bc, bm, lo, hi); err != nil || !ok {
				return err
			}
			_, err := c.addBlock(bc, bm)
			return err
		}
		// With a limit only the block's newest matches count: evaluate
		// windows from the newest row back, growing, and stop once the
		// block has given limit rows or its rows fall below the threshold.
		ts := bc.timestamps()
		if bc.err != nil {
			return bc.err
		}
		got := 0
		for win := firstWindow; hi > lo; win *= 4 {
			thr := c.thr.Load()
			if ts[hi-1] <= thr {
				break
			}
			wlo := max(lo, hi-win)
			if ts[wlo] <= thr {
				wlo = max(wlo, sort.Search(hi-wlo, func(i int) bool { return ts[wlo+i] > thr })+wlo)
			}
			ok, err := s.eval(bc, bm, wlo, hi)
			if err != nil {
				return err
			}
			if ok {
				n, err := c.addBlock(bc, bm)
				if err != nil {
					return err
				}
				if got += n; got >= limit {
					break
				}
			}
			hi = wlo
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows := c.all
	if limit > 0 {
		rows = []*Row(c.h)
	}
	slices.SortStableFunc(rows, func(a, b *Row) int { return cmpInt(b.Time, a.Time) })
	return rows, nil
}

// firstWindow is the rows a limited query evaluates first at a block's
// newest end; later windows grow fourfold, so a block with few matches
// costs at most a third more than one full pass.
const firstWindow = 1024

// memCheckRows is how often a block's copying checks the memory budget, so
// that one huge block cannot overshoot it by much.
const memCheckRows = 1024

// addBlock copies out the block's matching rows that can still make the
// result, newest first, and returns how many it took.
func (c *collector) addBlock(bc *blockCtx, bm *bitmap) (int, error) {
	ts := bc.timestamps()
	names := bc.columnNames()
	cols := rowColumns(bc, names, bm)
	if bc.err != nil {
		return 0, bc.err
	}
	var rows []*Row
	var bytes int64
	thr := c.thr.Load()
	for i := bm.last(bm.n); i >= 0; i = bm.last(i) {
		if c.limit > 0 && (ts[i] <= thr || len(rows) >= c.limit) {
			// Rows ascend in time: every earlier row is older still.
			break
		}
		r := copyRow(ts[i], cols, i)
		rows = append(rows, r)
		bytes += rowBytes(r)
		if len(rows)%memCheckRows == 0 {
			if !c.budget.add(bytes) {
				return 0, c.budget.err()
			}
			bytes = 0
		}
	}
	if !c.budget.add(bytes) {
		return 0, c.budget.err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limit == 0 {
		c.all = append(c.all, rows...)
		return len(rows), nil
	}
	var freed int64
	for k, r := range rows {
		if len(c.h) < c.limit {
			heap.Push(&c.h, r)
		} else if r.Time > c.h[0].Time {
			freed += rowBytes(c.h[0])
			c.h[0] = r
			heap.Fix(&c.h, 0)
		} else {
			for _, r := range rows[k:] {
				freed += rowBytes(r)
			}
			break
		}
	}
	c.budget.add(-freed)
	if len(c.h) == c.limit {
		c.thr.Store(c.h[0].Time)
	}
	return len(rows), nil
}

// namedCol is a column with its name, in output order.
type namedCol struct {
	name string
	vals []string
}

// rowColumns returns the block's columns in output order: built-in fields,
// then the others as the block lists them. Only the rows set in bm are
// read from them.
func rowColumns(bc *blockCtx, names []string, bm *bitmap) []namedCol {
	cols := make([]namedCol, 0, len(names))
	for _, n := range builtinOrder {
		if v := bc.rowsColumn(n, bm); v != nil {
			cols = append(cols, namedCol{n, v})
		}
	}
	for _, n := range names {
		if isBuiltin(n) {
			continue
		}
		if v := bc.rowsColumn(n, bm); v != nil {
			cols = append(cols, namedCol{n, v})
		}
	}
	return cols
}

// rowsColumner is what a part block offers to read only some rows of a
// column (a template column then rebuilds only those).
type rowsColumner interface {
	ColumnRows(name string, want []uint64) ([]string, error)
}

// rowsColumn returns name's values for at least the rows set in bm (the
// others may be empty): the column already read, when a filter read it,
// else the rows the block can give alone. The result is not kept in bc.
func (bc *blockCtx) rowsColumn(name string, bm *bitmap) []string {
	if col, ok := bc.read(name); ok {
		return col
	}
	rc, ok := bc.b.(rowsColumner)
	if !ok {
		return bc.column(name)
	}
	col, err := rc.ColumnRows(name, bm.words)
	if err != nil && bc.err == nil {
		bc.err = err
	}
	return col
}

func isBuiltin(n string) bool {
	return n == event.FieldIndex || n == event.FieldLevel || n == event.FieldMessage || n == event.FieldTraceID || n == event.FieldTime
}

// copyRow copies row i out of the block into one allocation for its
// strings, as block strings die with the callback.
func copyRow(t int64, cols []namedCol, i int) *Row {
	size := 0
	n := 0
	for _, c := range cols {
		if v := c.vals[i]; v != "" {
			size += len(v) + len(c.name)
			n++
		}
	}
	buf := make([]byte, 0, size)
	r := &Row{Time: t, HasTime: true, Fields: make([]event.Field, 0, n)}
	for _, c := range cols {
		v := c.vals[i]
		if v == "" {
			continue
		}
		start := len(buf)
		buf = append(buf, c.name...)
		buf = append(buf, v...)
		name := unsafe.String(unsafe.SliceData(buf[start:]), len(c.name))
		val := unsafe.String(unsafe.SliceData(buf[start+len(c.name):]), len(v))
		r.Fields = append(r.Fields, event.Field{Name: name, Value: val})
	}
	return r
}
