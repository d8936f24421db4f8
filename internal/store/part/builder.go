package part

import (
	"strings"
	"unsafe"

	"github.com/logcaster/logcaster/internal/event"
)

// blockBuilder gathers the rows of one block, column by column, until the
// writer encodes them. Columns persist across blocks (their value slices are
// reused), so steady-state building allocates nothing.
type blockBuilder struct {
	ts     []int64
	cols   []builderCol
	colIdx map[string]int
	// fieldCols[i] is the column of the last field seen at position i.
	fieldCols []int
	raw       int // bytes of the values and timestamps so far

	// copyStrings makes the builder copy values into arena: Merge reads
	// them from buffers the next input block overwrites.
	copyStrings bool
	arena       []byte
}

type builderCol struct {
	name     string
	vals     []string // one a row up to the last row that set it
	nonEmpty int
}

func newBlockBuilder(copyStrings bool) *blockBuilder {
	b := &blockBuilder{colIdx: map[string]int{}, copyStrings: copyStrings}
	// The built-in columns first, so their ids are stable.
	for _, n := range [...]string{event.FieldIndex, event.FieldLevel, event.FieldMessage, event.FieldTraceID} {
		b.col(n)
	}
	return b
}

func (b *blockBuilder) rows() int { return len(b.ts) }

func (b *blockBuilder) reset() {
	b.ts = b.ts[:0]
	for i := range b.cols {
		c := &b.cols[i]
		clear(c.vals) // drop references to the strings of the last block
		c.vals = c.vals[:0]
		c.nonEmpty = 0
	}
	b.raw = 0
	b.arena = b.arena[:0:0]
}

// col returns the index of the named column, adding it if new.
func (b *blockBuilder) col(name string) int {
	if i, ok := b.colIdx[name]; ok {
		return i
	}
	name = strings.Clone(name) // keep no reference to the caller's buffer
	b.colIdx[name] = len(b.cols)
	b.cols = append(b.cols, builderCol{name: name})
	return len(b.cols) - 1
}

// set gives column ci value v in the current (last) row; the first value
// set wins, as in event.Event.Get.
func (b *blockBuilder) set(ci int, v string) {
	if v == "" {
		return
	}
	row := len(b.ts) - 1
	c := &b.cols[ci]
	if len(c.vals) > row {
		return
	}
	for len(c.vals) < row {
		c.vals = append(c.vals, "")
	}
	if b.copyStrings {
		v = b.copy(v)
	}
	c.vals = append(c.vals, v)
	c.nonEmpty++
	b.raw += len(v)
}

// arenaChunk is the size of a fresh arena block for copied values.
const arenaChunk = 256 << 10

func (b *blockBuilder) copy(v string) string {
	if cap(b.arena)-len(b.arena) < len(v) {
		// Strings already handed out keep the old chunk alive.
		b.arena = make([]byte, 0, max(arenaChunk, len(v)))
	}
	start := len(b.arena)
	b.arena = append(b.arena, v...)
	s := b.arena[start:]
	return unsafe.String(unsafe.SliceData(s), len(s))
}

// addEvent appends e as a row.
func (b *blockBuilder) addEvent(e *event.Event) {
	b.ts = append(b.ts, e.Time)
	b.raw += 8
	b.set(0, e.Index)
	b.set(1, e.Level)
	b.set(2, e.Message)
	b.set(3, e.TraceID)
	for i := range e.Fields {
		f := &e.Fields[i]
		switch f.Name {
		case event.FieldIndex, event.FieldLevel, event.FieldMessage, event.FieldTraceID:
			continue // shadowed by the built-in field, as in Event.Get
		}
		if f.Value == "" {
			continue
		}
		// Senders repeat the same fields in the same order: remember the
		// column of each position to skip the map lookup.
		for i >= len(b.fieldCols) {
			b.fieldCols = append(b.fieldCols, -1)
		}
		ci := b.fieldCols[i]
		if ci < 0 || b.cols[ci].name != f.Name {
			ci = b.col(f.Name)
			b.fieldCols[i] = ci
		}
		b.set(ci, f.Value)
	}
}

// finish pads every column to the block's row count.
func (b *blockBuilder) finish() {
	n := len(b.ts)
	for i := range b.cols {
		c := &b.cols[i]
		if c.nonEmpty == 0 {
			continue
		}
		for len(c.vals) < n {
			c.vals = append(c.vals, "")
		}
	}
}
