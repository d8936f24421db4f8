package query

import (
	"strings"

	"github.com/logcaster/logcaster/internal/event"
)

// pipeFields is `| fields a, b`: keep only the named fields, in that order.
// The timestamp stays only when "timestamp" or "_time" is named.
type pipeFields struct{ names []string }

func (p *pipeFields) String() string { return "fields " + joinNames(p.names) }

func (p *pipeFields) run(_ *runCtx, rows []*Row) ([]*Row, error) {
	keepTime := false
	for _, n := range p.names {
		if n == event.FieldTime || n == timeField {
			keepTime = true
		}
	}
	for _, r := range rows {
		out := make([]event.Field, 0, len(p.names))
		for _, n := range p.names {
			if n == event.FieldTime || n == timeField {
				if !r.HasTime {
					if v, ok := r.Get(n); ok {
						out = append(out, event.Field{Name: n, Value: v})
					}
				}
				continue
			}
			if v, ok := r.Get(n); ok {
				out = append(out, event.Field{Name: n, Value: v})
			}
		}
		r.Fields = out
		if !keepTime {
			r.HasTime = false
		}
	}
	return rows, nil
}

func joinNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteValue(n)
	}
	return strings.Join(q, ", ")
}
