package query

import (
	"strings"

	"github.com/logcaster/logcaster/internal/event"
)

// pipeUniq is `| uniq by (a, b)`: one row per distinct combination of the
// fields' values, holding just those fields, in order of first appearance.
type pipeUniq struct{ names []string }

func (p *pipeUniq) String() string { return "uniq by (" + joinNames(p.names) + ")" }

func (p *pipeUniq) run(_ *runCtx, rows []*Row) ([]*Row, error) {
	seen := map[string]bool{}
	var out []*Row
	var key strings.Builder
	for _, r := range rows {
		key.Reset()
		fields := make([]event.Field, 0, len(p.names))
		for _, n := range p.names {
			v, _ := r.Get(n)
			key.WriteString(v)
			key.WriteByte(0)
			if v != "" {
				fields = append(fields, event.Field{Name: n, Value: v})
			}
		}
		k := key.String()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, &Row{Fields: fields})
	}
	return out, nil
}
