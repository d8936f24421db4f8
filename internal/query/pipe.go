package query

import "context"

// pipe transforms the rows that reach it. Pipes run after the filter, in
// the order written, on rows copied out of the blocks.
type pipe interface {
	String() string
	run(rc *runCtx, rows []*Row) ([]*Row, error)
}

// rowLocalPipe is a pipe that looks at one row at a time (fields, where,
// extract, unpack_json): it runs on any chunk of rows the same as on all
// of them, so results can stream through it.
type rowLocalPipe interface {
	pipe
	rowLocal()
}

func (*pipeFields) rowLocal() {}
func (*pipeWhere) rowLocal()  {}

// runCtx is what pipes need of the run.
type runCtx struct {
	ctx    context.Context
	now    int64
	budget *memBudget
}
