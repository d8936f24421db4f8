package query

import "strconv"

// pipeOffset is `| offset N`: all but the first N rows.
type pipeOffset struct{ n int }

func (p *pipeOffset) String() string { return "offset " + strconv.Itoa(p.n) }

func (p *pipeOffset) run(_ *runCtx, rows []*Row) ([]*Row, error) {
	if len(rows) <= p.n {
		return nil, nil
	}
	return rows[p.n:], nil
}
