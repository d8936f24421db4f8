package query

import (
	"slices"
	"strings"

	"github.com/logcaster/logcaster/internal/event"
)

// sortKey is one field of `sort by (...)`.
type sortKey struct {
	field string
	desc  bool
}

// pipeSort is `| sort by (f [desc], ...)`. Values that are both numbers
// compare as numbers, others as strings; rows lacking a field sort last.
// The sort is stable, so ties keep the newest-first order.
type pipeSort struct{ keys []sortKey }

func (p *pipeSort) String() string {
	parts := make([]string, len(p.keys))
	for i, k := range p.keys {
		parts[i] = quoteValue(k.field)
		if k.desc {
			parts[i] += " desc"
		}
	}
	return "sort by (" + strings.Join(parts, ", ") + ")"
}

// byTimeDesc reports whether the sort is the default order.
func (p *pipeSort) byTimeDesc() bool {
	return len(p.keys) == 1 && p.keys[0].desc && isTimeName(p.keys[0].field)
}

func isTimeName(s string) bool { return s == event.FieldTime || s == timeField }

func (p *pipeSort) run(_ *runCtx, rows []*Row) ([]*Row, error) {
	slices.SortStableFunc(rows, func(a, b *Row) int {
		for _, k := range p.keys {
			c := compareField(a, b, k.field)
			if c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
	return rows, nil
}

func compareField(a, b *Row, field string) int {
	if isTimeName(field) && a.HasTime && b.HasTime {
		return cmpInt(a.Time, b.Time)
	}
	av, aok := a.Get(field)
	bv, bok := b.Get(field)
	if !aok || !bok {
		switch {
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	}
	return compareValues(av, bv)
}

// compareValues orders numbers numerically and anything else as strings.
func compareValues(a, b string) int {
	an, aok := parseNumber(a)
	bn, bok := parseNumber(b)
	if aok && bok {
		switch {
		case an < bn:
			return -1
		case an > bn:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
