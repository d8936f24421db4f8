package query

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
	"time"
	"unsafe"

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
	a := p.newAgg(rc.budget)
	if len(rows) > 0 {
		var bc blockCtx
		bc.reset(rowsBlock(rows), rc.now)
		var bm bitmap
		bm.init(len(rows), true)
		a.addBlock(&bc, &bm)
	}
	if rc.budget.exceeded() {
		return nil, rc.budget.err()
	}
	return a.rows(), nil
}

// statsGroup is one group's key values and function states.
type statsGroup struct {
	keys   []string
	bucket int64
	states []statsState
	// pending counts rows not yet added to the countStates, when every
	// function is count(): adding to an interface per row costs more than
	// the rest of the row's work.
	pending uint64
}

// statsAgg aggregates blocks for one goroutine; aggs merge at the end.
type statsAgg struct {
	p      *pipeStats
	budget *memBudget
	groups map[string]*statsGroup
	key    []byte
	keyCol [][]string
	// keyCodes[j].ok: by-field j is dictionary-coded in this block (see
	// match_codes.go) and keyCol[j] is not read unless a fallback needs it.
	keyCodes []codedCol
	valCol   [][]string
	counts   bool // every function is count()
	// oneBucket stands for the timestamps of a block that lies in one
	// _time bucket: all its block's minimum (see add).
	oneBucket []int64

	// Per block: each by-field value gets a small local id (memoised by
	// string identity, so a dictionary column costs a pointer compare a
	// row), the ids pack into one uint64, and the packed key finds the
	// group in a map of ints rather than of built strings.
	memos  []valueMemo
	ids    []map[string]int32
	local  [][]string // local id -> value, per by-field
	idCols [][]uint16 // local id per row, per by-field
	// constID[j]: by-field j has one value on every row of the block (a
	// constant column, such as the stream's service), set by fillIDs.
	constID []bool
	dense   []uint32
	denseG  []*statsGroup
	buckets map[int64]int32
	bucketV []int64
	byKey   map[uint64]*statsGroup
	touched []*statsGroup
	// byVals and vals are addSummary's scratch (summary.go).
	byVals []byValues
	vals   []string
}

// codedCol is a by-field's dictionary and codes in the current block.
type codedCol struct {
	dict  []string
	codes []byte // nil: every row is dict[0]
	ok    bool
}

// maxPackedFields is how many group-by fields pack into the uint64 key
// (16 bits of local id each); more fall back to string keys per row.
const maxPackedFields = 4

// maxLocalID bounds a block's distinct values per field in a packed key.
const maxLocalID = 1<<16 - 1

func (p *pipeStats) newAgg(budget *memBudget) *statsAgg {
	return &statsAgg{p: p, budget: budget, groups: map[string]*statsGroup{}, counts: p.onlyCounts()}
}

// groupOverhead estimates a group's fixed memory: the struct, its slices,
// its map entry and a state per function.
const groupOverhead = int64(unsafe.Sizeof(statsGroup{})) + mapEntryOverhead + 64

func (a *statsAgg) newGroup(key []byte, vals []string, bucket int64) *statsGroup {
	g := &statsGroup{keys: make([]string, len(vals)), bucket: bucket, states: make([]statsState, len(a.p.funcs))}
	for i, v := range vals {
		g.keys[i] = strings.Clone(v)
	}
	size := groupOverhead + 2*int64(len(key)) + int64(len(a.p.funcs))*32
	for i, f := range a.p.funcs {
		g.states[i] = f.newState()
		if b, ok := g.states[i].(budgeted); ok {
			b.setBudget(a.budget)
		}
	}
	a.budget.add(size)
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
	if len(p.by) == 0 && a.counts {
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
	a.keyCodes = a.keyCodes[:0]
	var ts []int64
	packed := len(p.by) <= maxPackedFields
	for _, f := range p.by {
		if f == timeField {
			// A block inside one bucket needs no timestamps decoded: every
			// row gets its first one. The merged 10M-event store's blocks
			// span about 20 minutes each, so with _time:1h most are; the
			// decoding was a third of `level:ERROR | stats count() by
			// (_time:1h)`.
			if minT, maxT := bc.b.TimeRange(); !bc.tsOK && p.inOneBucket(minT, maxT) {
				n := bc.b.Rows()
				if len(a.oneBucket) < n || a.oneBucket[0] != minT {
					a.oneBucket = slices.Grow(a.oneBucket[:0], n)[:n]
					for i := range a.oneBucket {
						a.oneBucket[i] = minT
					}
				}
				ts = a.oneBucket[:n]
			} else {
				ts = bc.timestamps()
			}
			a.keyCol = append(a.keyCol, nil)
			a.keyCodes = append(a.keyCodes, codedCol{})
			continue
		}
		if packed {
			if dict, codes, ok := bc.codes(f); ok {
				a.keyCol = append(a.keyCol, nil)
				a.keyCodes = append(a.keyCodes, codedCol{dict: dict, codes: codes, ok: true})
				continue
			}
		}
		a.keyCol = append(a.keyCol, bc.column(f))
		a.keyCodes = append(a.keyCodes, codedCol{})
	}
	a.valCol = a.valCol[:0]
	for _, f := range p.funcs {
		if f.field() == "" {
			a.valCol = append(a.valCol, nil)
		} else {
			a.valCol = append(a.valCol, bc.column(f.field()))
		}
	}
	if bc.err != nil {
		return
	}
	a.startBlock()
	step := int64(p.step)
	if packed && a.fillIDs(bm, ts, step) {
		a.addPacked(bm)
	} else {
		for j, f := range p.by {
			if a.keyCodes[j].ok {
				a.keyCol[j] = bc.column(f)
			}
		}
		bm.keepIf(func(i int) bool {
			a.addRow(a.groupOf(ts, step, i), i)
			return true
		})
	}
	a.endBlock()
}

// addRow adds row i to group g.
func (a *statsAgg) addRow(g *statsGroup, i int) {
	if a.counts {
		if g.pending == 0 {
			a.touched = append(a.touched, g)
		}
		g.pending++
		return
	}
	for j, s := range g.states {
		v := ""
		if col := a.valCol[j]; col != nil {
			v = col[i]
		}
		s.add(v)
	}
}

// maxDense bounds the combinations of local ids that get a dense table
// (a counter or a group pointer per combination) instead of a map.
const maxDense = 1 << 14

// addPacked adds the rows set in bm by the local ids fillIDs left.
func (a *statsAgg) addPacked(bm *bitmap) {
	var sizes [maxPackedFields]int
	prod := 1
	for j := range a.idCols {
		n := len(a.local[j])
		if a.p.by[j] == timeField {
			n = len(a.bucketV)
		}
		sizes[j] = max(n, 1)
		prod *= sizes[j]
		if prod > maxDense {
			break
		}
	}
	if prod <= maxDense {
		a.addDense(bm, sizes[:len(a.idCols)], prod)
		return
	}
	var lastKey uint64
	var last *statsGroup
	var ids [maxPackedFields]uint16
	for wi, w := range bm.words {
		for w != 0 {
			i := wi*64 + bits.TrailingZeros64(w)
			w &= w - 1
			var key uint64
			for _, col := range a.idCols {
				key = key<<16 | uint64(col[i])
			}
			g := last
			if g == nil || key != lastKey {
				g = a.byKey[key]
				if g == nil {
					for j, col := range a.idCols {
						ids[j] = col[i]
					}
					g = a.groupOfIDs(ids[:len(a.idCols)])
					a.byKey[key] = g
				}
				last, lastKey = g, key
			}
			a.addRow(g, i)
		}
	}
}

// denseIndex is row i's place in addDense's table: its local ids in mixed
// radix over sizes.
func (a *statsAgg) denseIndex(sizes []int, i int) int {
	idx := 0
	for j, col := range a.idCols {
		idx = idx*sizes[j] + int(col[i])
	}
	return idx
}

// addDense adds the rows through a table indexed by the combination of
// local ids (mixed radix over sizes): with count() alone a row is one
// increment, and groups are found once per combination at the end.
func (a *statsAgg) addDense(bm *bitmap, sizes []int, prod int) {
	if a.counts {
		if cap(a.dense) < prod {
			a.dense = make([]uint32, prod)
		}
		dense := a.dense[:prod]
		// A field constant over the block adds a fixed offset; with one
		// field left (count by service and level: the stream's service is
		// constant) a row is one load and one increment, all rows of the
		// block without testing bits when every row is set. The per-row
		// loop over both fields was half of that query's CPU.
		base, vary, varyStride := 0, -1, 0
		stride := 1
		for j := len(sizes) - 1; j >= 0; j-- {
			switch {
			case a.constID[j]:
				base += int(a.idCols[j][0]) * stride
			case vary == -1:
				vary, varyStride = j, stride
			default:
				vary = -2 // two or more vary
			}
			stride *= sizes[j]
		}
		switch {
		case vary == -1:
			dense[base] += uint32(bm.count())
		case vary >= 0 && bm.count() == bm.n:
			for _, id := range a.idCols[vary][:bm.n] {
				dense[base+int(id)*varyStride]++
			}
		case vary >= 0:
			col := a.idCols[vary]
			for wi, w := range bm.words {
				for w != 0 {
					i := wi*64 + bits.TrailingZeros64(w)
					w &= w - 1
					dense[base+int(col[i])*varyStride]++
				}
			}
		default:
			for wi, w := range bm.words {
				for w != 0 {
					i := wi*64 + bits.TrailingZeros64(w)
					w &= w - 1
					dense[a.denseIndex(sizes, i)]++
				}
			}
		}
		var ids [maxPackedFields]uint16
		for idx, n := range dense {
			if n == 0 {
				continue
			}
			dense[idx] = 0
			rest := idx
			for j := len(sizes) - 1; j >= 0; j-- {
				ids[j] = uint16(rest % sizes[j])
				rest /= sizes[j]
			}
			g := a.groupOfIDs(ids[:len(sizes)])
			for _, s := range g.states {
				s.(*countState).n += uint64(n)
			}
		}
		return
	}
	if cap(a.denseG) < prod {
		a.denseG = make([]*statsGroup, prod)
	}
	denseG := a.denseG[:prod]
	var ids [maxPackedFields]uint16
	for wi, w := range bm.words {
		for w != 0 {
			i := wi*64 + bits.TrailingZeros64(w)
			w &= w - 1
			idx := a.denseIndex(sizes, i)
			g := denseG[idx]
			if g == nil {
				for j, col := range a.idCols {
					ids[j] = col[i]
				}
				g = a.groupOfIDs(ids[:len(sizes)])
				denseG[idx] = g
			}
			a.addRow(g, i)
		}
	}
	clear(denseG)
}

// fillIDs gives every row set in bm a local id per group-by field, one
// field at a time; false when a field has too many distinct values in
// the block to pack.
func (a *statsAgg) fillIDs(bm *bitmap, ts []int64, step int64) bool {
	a.constID = slices.Grow(a.constID[:0], len(a.keyCol))[:len(a.keyCol)]
	clear(a.constID)
	for j, col := range a.keyCol {
		if cap(a.idCols[j]) < bm.n {
			a.idCols[j] = make([]uint16, bm.n)
		}
		ids := a.idCols[j][:bm.n]
		a.idCols[j] = ids
		if cc := &a.keyCodes[j]; cc.ok {
			// Each distinct value once; rows by their code (every row, set
			// or not: a lookup costs less than testing the bit).
			var remap [256]uint16
			for k, v := range cc.dict {
				id := a.localID(j, v)
				if id > maxLocalID {
					return false
				}
				remap[k] = uint16(id)
			}
			if cc.codes == nil {
				for i := range ids {
					ids[i] = remap[0]
				}
				a.constID[j] = len(ids) > 0
				continue
			}
			for i, c := range cc.codes {
				ids[i] = remap[c]
			}
			continue
		}
		if a.p.by[j] == timeField {
			// Rows ascend in time within a block (not after a pipe, so the
			// bucket is checked, not assumed): one division per bucket.
			lo, hi := int64(1), int64(0)
			var cur uint16
			for wi, w := range bm.words {
				for w != 0 {
					i := wi*64 + bits.TrailingZeros64(w)
					w &= w - 1
					if t := ts[i]; t < lo || t > hi {
						b := bucketOf(t, step)
						lo, hi = b, b+step-1
						if step <= 0 {
							hi = lo
						}
						id, ok := a.buckets[b]
						if !ok {
							id = int32(len(a.bucketV))
							if id > maxLocalID {
								return false
							}
							a.buckets[b] = id
							a.bucketV = append(a.bucketV, b)
						}
						cur = uint16(id)
					}
					ids[i] = cur
				}
			}
			continue
		}
		if col == nil {
			clear(ids) // every row has "", the first local id
			a.localID(j, "")
			continue
		}
		var prevP *byte
		prevN := -1
		var cur uint16
		for wi, w := range bm.words {
			for w != 0 {
				i := wi*64 + bits.TrailingZeros64(w)
				w &= w - 1
				v := col[i]
				if len(v) != prevN || unsafe.StringData(v) != prevP {
					id := a.localID(j, v)
					if id > maxLocalID {
						return false
					}
					cur = uint16(id)
					prevP, prevN = unsafe.StringData(v), len(v)
				}
				ids[i] = cur
			}
		}
	}
	return true
}

// groupOfIDs finds or makes the group of the given local ids.
func (a *statsAgg) groupOfIDs(ids []uint16) *statsGroup {
	var vals [maxPackedFields]string
	keyVals := vals[:0]
	var bucket int64
	for j, id := range ids {
		if a.p.by[j] == timeField {
			bucket = a.bucketV[id]
			keyVals = append(keyVals, "")
			continue
		}
		keyVals = append(keyVals, a.local[j][id])
	}
	return a.groupOfValues(keyVals, bucket)
}

// groupOfValues finds or makes the group of by-field values vals (bucket
// for the _time field, whose value is "").
func (a *statsAgg) groupOfValues(vals []string, bucket int64) *statsGroup {
	key := a.key[:0]
	for j, v := range vals {
		if a.p.by[j] == timeField {
			key = binary.LittleEndian.AppendUint64(key, uint64(bucket))
			continue
		}
		key = append(key, v...)
		key = append(key, 0)
	}
	a.key = key
	g := a.groups[string(key)]
	if g == nil {
		g = a.newGroup(key, vals, bucket)
	}
	return g
}

// startBlock resets the per-block local ids.
func (a *statsAgg) startBlock() {
	n := len(a.p.by)
	if len(a.memos) != n {
		a.memos = make([]valueMemo, n)
		a.ids = make([]map[string]int32, n)
		a.local = make([][]string, n)
		a.idCols = make([][]uint16, n)
		for j := range a.ids {
			a.ids[j] = map[string]int32{}
		}
		a.buckets = map[int64]int32{}
		a.byKey = map[uint64]*statsGroup{}
	}
	for j := range a.memos {
		a.memos[j].reset()
		clear(a.ids[j])
		a.local[j] = a.local[j][:0]
	}
	clear(a.buckets)
	a.bucketV = a.bucketV[:0]
	clear(a.byKey)
	a.touched = a.touched[:0]
}

// endBlock adds the pending counts and drops the block's strings.
func (a *statsAgg) endBlock() {
	for _, g := range a.touched {
		for _, s := range g.states {
			s.(*countState).n += g.pending
		}
		g.pending = 0
	}
	for j := range a.memos {
		a.memos[j].reset()
		clear(a.ids[j])
		clear(a.local[j])
	}
}

// localID returns the block-local id of value v of by-field j.
func (a *statsAgg) localID(j int, v string) int32 {
	m := &a.memos[j]
	if id, ok := m.get(v); ok {
		return id
	}
	id, ok := a.ids[j][v]
	if !ok {
		id = int32(len(a.local[j]))
		a.ids[j][v] = id // v lives as long as the block: no copy needed
		a.local[j] = append(a.local[j], v)
	}
	m.put(v, id)
	return id
}

// groupOf finds or makes row i's group by its values.
func (a *statsAgg) groupOf(ts []int64, step int64, i int) *statsGroup {
	var vals [maxPackedFields]string
	keyVals := vals[:0]
	var bucket int64
	for j, col := range a.keyCol {
		if a.p.by[j] == timeField {
			bucket = bucketOf(ts[i], step)
			keyVals = append(keyVals, "")
			continue
		}
		v := ""
		if col != nil {
			v = col[i]
		}
		keyVals = append(keyVals, v)
	}
	return a.groupOfValues(keyVals, bucket)
}

// bucketOf is the start of the _time bucket of step that holds t.
func bucketOf(t, step int64) int64 { return t - mod(t, step) }

// inOneBucket reports whether the times minT..maxT (a block's) lie in one
// _time bucket, so that its rows need no timestamps to be grouped.
func (p *pipeStats) inOneBucket(minT, maxT int64) bool {
	step := int64(p.step)
	return step > 0 && bucketOf(minT, step) == bucketOf(maxT, step)
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
