package query

import "strconv"

// pipeLimit is `| limit N`: the first N rows.
type pipeLimit struct{ n int }

func (p *pipeLimit) String() string { return "limit " + strconv.Itoa(p.n) }

func (p *pipeLimit) run(_ *runCtx, rows []*Row) ([]*Row, error) {
	if len(rows) > p.n {
		rows = rows[:p.n]
	}
	return rows, nil
}
