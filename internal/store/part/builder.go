package part

import (
	"strings"
	"unsafe"

	"github.com/logcaster/logcaster/internal/event"
)

// blockBuilder gathers the rows of one block, column by column, until an
// encoder takes it. Columns persist across blocks (their value slices are
// reused), so steady-state building allocates nothing.
//
// Several builders take turns (one fills while others are encoded); they
// share a colSchema so a column has the same index in all of them, which
// Merge relies on when it maps an input block's columns once per block.
type blockBuilder struct {
	ts     []int64
	cols   []builderCol // cols[i] is schema column i; may be shorter than the schema
	schema *colSchema
	raw    int // bytes of the values and timestamps so far

	// copyStrings makes the builder copy values into its arena: Merge reads
	// them from buffers the next input block overwrites.
	copyStrings bool
	arena       arena
}

// colSchema numbers the columns seen by a Write or Merge. Only the goroutine
// filling builders touches it.
type colSchema struct {
	names []string
	idx   map[string]int
	// fieldCols[i] is the column of the last field seen at position i.
	fieldCols []int
}

func newColSchema() *colSchema {
	s := &colSchema{idx: map[string]int{}}
	// The built-in columns first, so their ids are stable.
	for _, n := range [...]string{event.FieldIndex, event.FieldLevel, event.FieldMessage, event.FieldTraceID} {
		s.col(n)
	}
	return s
}

// col returns the index of the named column, adding it if new.
func (s *colSchema) col(name string) int {
	if i, ok := s.idx[name]; ok {
		return i
	}
	name = strings.Clone(name) // keep no reference to the caller's buffer
	s.idx[name] = len(s.names)
	s.names = append(s.names, name)
	return len(s.names) - 1
}

type builderCol struct {
	name     string
	vals     []string // one a row up to the last row that set it
	nonEmpty int
	bytes    int // of the values
}

// reuse readies a reset builder for a new Write or Merge: its columns'
// value slices are kept for their capacity, renamed as columns arrive.
func (b *blockBuilder) reuse(schema *colSchema, copyStrings bool) {
	b.schema, b.copyStrings = schema, copyStrings
	b.cols = b.cols[:0]
}

func (b *blockBuilder) rows() int { return len(b.ts) }

func (b *blockBuilder) reset() {
	b.ts = b.ts[:0]
	for i := range b.cols {
		c := &b.cols[i]
		clear(c.vals) // drop references to the strings of the last block
		c.vals = c.vals[:0]
		c.nonEmpty, c.bytes = 0, 0
	}
	b.raw = 0
	b.arena.reset()
}

// col returns the index of the named column, adding it if new.
func (b *blockBuilder) col(name string) int { return b.schema.col(name) }

// set gives column ci value v in the current (last) row; the first value
// set wins, as in event.Event.Get.
func (b *blockBuilder) set(ci int, v string) {
	if v == "" {
		return
	}
	for ci >= len(b.cols) {
		n := len(b.cols)
		if n < cap(b.cols) {
			b.cols = b.cols[:n+1] // a pooled builder's column: keep its slice
		} else {
			b.cols = append(b.cols, builderCol{})
		}
		b.cols[n].name = b.schema.names[n]
		b.cols[n].vals = b.cols[n].vals[:0]
		b.cols[n].nonEmpty, b.cols[n].bytes = 0, 0
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
		v = b.arena.copy(v)
	}
	c.vals = append(c.vals, v)
	c.nonEmpty++
	c.bytes += len(v)
	b.raw += len(v)
}

// addEvent appends e as a row.
func (b *blockBuilder) addEvent(e *event.Event) {
	b.ts = append(b.ts, e.Time)
	b.raw += 8
	b.set(0, e.Index)
	b.set(1, e.Level)
	b.set(2, e.Message)
	b.set(3, e.TraceID)
	s := b.schema
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
		for i >= len(s.fieldCols) {
			s.fieldCols = append(s.fieldCols, -1)
		}
		ci := s.fieldCols[i]
		if ci < 0 || s.names[ci] != f.Name {
			ci = s.col(f.Name)
			s.fieldCols[i] = ci
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

// arena holds copies of the values of one block in chunks that are reused
// once the block is encoded: a merge copies every value it reads, and fresh
// chunks for each block were most of Merge's 244 MB/op.
type arena struct {
	chunks [][]byte
	cur    int // chunks[cur] is being filled
}

// arenaChunk is the size of an arena chunk; a longer value gets a chunk of
// its own that is not kept.
const arenaChunk = 256 << 10

func (a *arena) reset() {
	for i := range a.chunks {
		a.chunks[i] = a.chunks[i][:0]
	}
	a.cur = 0
}

func (a *arena) copy(v string) string {
	if len(v) > arenaChunk {
		return strings.Clone(v)
	}
	for {
		if a.cur == len(a.chunks) {
			a.chunks = append(a.chunks, make([]byte, 0, arenaChunk))
		}
		c := a.chunks[a.cur]
		if cap(c)-len(c) >= len(v) {
			start := len(c)
			c = append(c, v...)
			a.chunks[a.cur] = c
			s := c[start:]
			return unsafe.String(unsafe.SliceData(s), len(s))
		}
		a.cur++
	}
}
