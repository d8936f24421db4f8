package query

import (
	"fmt"
	"time"

	"github.com/logcaster/logcaster/internal/store"
)

// MatchBlock evaluates only the query's filter on every row of b and
// returns the indices of the rows that match, in row order. Relative time
// filters (_time:5m) count back from now. The pipes are not run: callers
// that must honour them (the live tail refuses them) check FilterOnly.
func (q *Query) MatchBlock(b store.Block, now time.Time) ([]int, error) {
	n := b.Rows()
	if n == 0 {
		return nil, nil
	}
	var bc blockCtx
	bc.reset(b, now.UnixNano())
	if !q.filter.mayMatch(&bc) {
		return nil, bc.err
	}
	var bm bitmap
	bm.init(n, true)
	q.filter.apply(&bc, &bm)
	if bc.err != nil {
		return nil, fmt.Errorf("match block: %w", bc.err)
	}
	var rows []int
	for i := 0; i < n; i++ {
		if bm.isSet(i) {
			rows = append(rows, i)
		}
	}
	return rows, nil
}

// FilterOnly reports an error naming the first pipe when the query has
// any: a stream of single events (the live tail) can only filter.
func (q *Query) FilterOnly() error {
	if len(q.pipes) == 0 {
		return nil
	}
	return fmt.Errorf("the live tail takes filters only: pipe %q needs more than one event at a time", q.pipes[0].String())
}
