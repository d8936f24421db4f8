package query

import (
	"slices"
	"strconv"
)

// pipeTop is `| top N (field)`: the N most frequent values of a field with
// their counts (field "hits"), most frequent first, ties by value.
type pipeTop struct {
	n     int
	field string
	stats *pipeStats
}

// hitsField names the count column of top.
const hitsField = "hits"

func newPipeTop(n int, field string) *pipeTop {
	return &pipeTop{n: n, field: field, stats: &pipeStats{
		funcs: []statsFunc{&statsCount{}}, names: []string{hitsField}, by: []string{field},
	}}
}

func (p *pipeTop) String() string {
	return "top " + strconv.Itoa(p.n) + " (" + quoteValue(p.field) + ")"
}

func (p *pipeTop) run(rc *runCtx, rows []*Row) ([]*Row, error) {
	out, err := p.stats.run(rc, rows)
	if err != nil {
		return nil, err
	}
	return p.finish(out), nil
}

// finish orders the stats rows by count and keeps the first N.
func (p *pipeTop) finish(rows []*Row) []*Row {
	slices.SortStableFunc(rows, func(a, b *Row) int {
		ah, _ := a.Get(hitsField)
		bh, _ := b.Get(hitsField)
		return -compareValues(ah, bh)
	})
	if len(rows) > p.n {
		rows = rows[:p.n]
	}
	return rows
}
