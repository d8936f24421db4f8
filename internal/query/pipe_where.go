package query

import (
	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/store"
)

// pipeWhere is `| where <filter>`: the filter language again, on the rows
// that reach it (after stats: `| where count:>10`). The rows are wrapped in
// a MemBlock so every filter works unchanged.
type pipeWhere struct{ f filter }

func (p *pipeWhere) String() string { return "where " + p.f.String() }

func (p *pipeWhere) run(rc *runCtx, rows []*Row) ([]*Row, error) {
	if len(rows) == 0 {
		return rows, nil
	}
	b := rowsBlock(rows)
	var bc blockCtx
	bc.reset(b, rc.now)
	var bm bitmap
	bm.init(len(rows), true)
	p.f.apply(&bc, &bm)
	if bc.err != nil {
		return nil, bc.err
	}
	out := rows[:0]
	for i, r := range rows {
		if bm.isSet(i) {
			out = append(out, r)
		}
	}
	return out, nil
}

// rowsBlock turns rows into a block for filters and stats. The block's
// times are the rows' and so may not ascend; the filters that rely on that
// (the time filter's binary search) are given ascending rows only by the
// executor, and stats do not rely on it.
func rowsBlock(rows []*Row) *store.MemBlock {
	evs := make([]event.Event, len(rows))
	for i, r := range rows {
		e := &evs[i]
		e.Time = r.Time
		for _, f := range r.Fields {
			switch f.Name {
			case event.FieldIndex:
				e.Index = f.Value
			case event.FieldLevel:
				e.Level = f.Value
			case event.FieldMessage:
				e.Message = f.Value
			case event.FieldTraceID:
				e.TraceID = f.Value
			default:
				e.Fields = append(e.Fields, f)
			}
		}
	}
	return store.NewMemBlock(evs)
}
