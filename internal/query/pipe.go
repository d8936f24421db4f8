package query

import "context"

// pipe transforms the rows that reach it. Pipes run after the filter, in
// the order written, on rows copied out of the blocks.
type pipe interface {
	String() string
	run(rc *runCtx, rows []*Row) ([]*Row, error)
}

// runCtx is what pipes need of the run.
type runCtx struct {
	ctx context.Context
	now int64
}
