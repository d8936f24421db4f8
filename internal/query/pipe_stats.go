package query

import (
	"encoding/binary"
	"slices"
	"strings"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// pipeStats is `| stats f1, f2 as name by (field, _time:1h)`. It returns one
// row per group, ordered by the group's values (time buckets ascending),
// with the by-fields first and then each function's result.
//
// As the first pipe it aggregates straight from the blocks (reading only
// the columns it needs, never copying rows); later in a pipeline it runs on
// the rows that reach it.
type pipeStats struct {
	funcs []statsFunc
	names []string // result names, one per func
	by    []string // group-by fields; timeField for the time bucket
	step  time.Duration
}

func (p *pipeStats) String() string {
	var b strings.Builder
	b.WriteString("stats ")
	for i, f := range p.funcs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.String())
		if p.names[i] != f.String() {
			b.WriteString(" as ")
			b.WriteString(quoteValue(p.names[i]))
		}
	}
	if len(p.by) > 0 {
		b.WriteString(" by (")
		for i, f := range p.by {
			if i > 0 {
				b.WriteString(", ")
			}
			if f == timeField {
				b.WriteString(timeField + ":" + formatStep(p.step))
			} else {
				b.WriteString(quoteValue(f))
			}
		}
		b.WriteString(")")
	}
	return b.String()
}

func formatStep(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return itoa(int64(d/(24*time.Hour))) + "d"
	case d%time.Hour == 0:
		return itoa(int64(d/time.Hour)) + "h"
	case d%time.Minute == 0:
		return itoa(int64(d/time.Minute)) + "m"
	}
	return d.String()
}

func (p *pipeStats) run(rc *runCtx, rows []*Row) ([]*Row, error) {
	a := p.newAgg()
	if len(rows) > 0 {
		var bc blockCtx
		bc.reset(rowsBlock(rows), rc.now)
		var bm bitmap
		bm.init(len(rows), true)
		a.addBlock(&bc, &bm)
	}
	return a.rows(), nil
}

// statsGroup is one group's key values and function states.
type statsGroup struct {
	keys   []string
	bucket int64
	states []statsState
}

// statsAgg aggregates blocks for one goroutine; aggs merge at the end.
type statsAgg struct {
	p      *pipeStats
	groups map[string]*statsGroup
	key    []byte
	last   *statsGroup // the group of the previous row
	keyCol [][]string
	valCol [][]string
}

func (p *pipeStats) newAgg() *statsAgg {
	return &statsAgg{p: p, groups: map[string]*statsGroup{}}
}

func (a *statsAgg) newGroup(key []byte, vals []string, bucket int64) *statsGroup {
	g := &statsGroup{keys: make([]string, len(vals)), bucket: bucket, states: make([]statsState, len(a.p.funcs))}
	for i, v := range vals {
		g.keys[i] = strings.Clone(v)
	}
	for i, f := range a.p.funcs {
		g.states[i] = f.newState()
	}
	a.groups[string(key)] = g
	return g
}

// onlyCounts reports whether every function is count(), which needs no values.
func (p *pipeStats) onlyCounts() bool {
	for _, f := range p.funcs {
		if c, ok := f.(*statsCount); !ok || c.f != "" {
			return false
		}
	}
	return true
}

// addBlock adds the rows set in bm.
func (a *statsAgg) addBlock(bc *blockCtx, bm *bitmap) {
	p := a.p
	if len(p.by) == 0 && p.onlyCounts() {
		// The common `| stats count()`: count the bitmap, touch no column.
		g := a.groups[""]
		if g == nil {
			g = a.newGroup(nil, nil, 0)
		}
		n := uint64(bm.count())
		for _, s := range g.states {
			s.(*countState).n += n
		}
		return
	}
	a.keyCol = a.keyCol[:0]
	a.last = nil
	var ts []int64
	for _, f := range p.by {
		if f == timeField {
			ts = bc.timestamps()
			a.keyCol = append(a.keyCol, nil)
			continue
		}
		a.keyCol = append(a.keyCol, bc.column(f))
	}
	a.valCol = a.valCol[:0]
	for _, f := range p.funcs {
		if f.field() == "" {
			a.valCol = append(a.valCol, nil)
		} else {
			a.valCol = append(a.valCol, bc.column(f.field()))
		}
	}
	step := int64(p.step)
	var vals [8]string
	keyVals := vals[:0]
	if len(p.by) > len(vals) {
		keyVals = make([]string, 0, len(p.by))
	}
	bm.keepIf(func(i int) bool {
		// Rows of a block are one stream in time order: most rows fall in
		// the group of the row before, which costs no key building at all.
		if g := a.last; g != nil && a.sameGroup(g, ts, step, i) {
			for j, s := range g.states {
				v := ""
				if col := a.valCol[j]; col != nil {
					v = col[i]
				}
				s.add(v)
			}
			return true
		}
		key := a.key[:0]
		keyVals = keyVals[:0]
		var bucket int64
		for j, col := range a.keyCol {
			if p.by[j] == timeField {
				bucket = ts[i] - mod(ts[i], step)
				key = binary.LittleEndian.AppendUint64(key, uint64(bucket))
				keyVals = append(keyVals, "")
				continue
			}
			v := ""
			if col != nil {
				v = col[i]
			}
			keyVals = append(keyVals, v)
			key = append(key, v...)
			key = append(key, 0)
		}
		a.key = key
		g := a.groups[string(key)]
		if g == nil {
			g = a.newGroup(key, keyVals, bucket)
		}
		a.last = g
		for j, s := range g.states {
			v := ""
			if col := a.valCol[j]; col != nil {
				v = col[i]
			}
			s.add(v)
		}
		return true
	})
}

// sameGroup reports whether row i belongs to g.
func (a *statsAgg) sameGroup(g *statsGroup, ts []int64, step int64, i int) bool {
	for j, col := range a.keyCol {
		if a.p.by[j] == timeField {
			if ts[i]-mod(ts[i], step) != g.bucket {
				return false
			}
			continue
		}
		v := ""
		if col != nil {
			v = col[i]
		}
		if v != g.keys[j] {
			return false
		}
	}
	return true
}

func mod(a, b int64) int64 {
	if b <= 0 {
		return 0
	}
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// merge folds o into a.
func (a *statsAgg) merge(o *statsAgg) {
	for k, og := range o.groups {
		g := a.groups[k]
		if g == nil {
			a.groups[k] = og
			continue
		}
		for i, s := range g.states {
			s.merge(og.states[i])
		}
	}
}

// rows returns the result rows, ordered by the group values.
func (a *statsAgg) rows() []*Row {
	p := a.p
	groups := make([]*statsGroup, 0, len(a.groups))
	for _, g := range a.groups {
		groups = append(groups, g)
	}
	if len(p.by) == 0 && len(groups) == 0 {
		groups = append(groups, a.newGroup(nil, nil, 0))
	}
	slices.SortFunc(groups, func(x, y *statsGroup) int {
		for j, f := range p.by {
			if f == timeField {
				if c := cmpInt(x.bucket, y.bucket); c != 0 {
					return c
				}
				continue
			}
			if c := compareValues(x.keys[j], y.keys[j]); c != 0 {
				return c
			}
		}
		return 0
	})
	rows := make([]*Row, len(groups))
	for i, g := range groups {
		r := &Row{Fields: make([]event.Field, 0, len(p.by)+len(p.funcs))}
		for j, f := range p.by {
			v := g.keys[j]
			if f == timeField {
				v = formatTime(g.bucket)
			}
			r.Fields = append(r.Fields, event.Field{Name: f, Value: v})
		}
		for j, s := range g.states {
			r.Fields = append(r.Fields, event.Field{Name: p.names[j], Value: s.result()})
		}
		rows[i] = r
	}
	return rows
}
