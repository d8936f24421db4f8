package part

import (
	"fmt"
	"slices"
)

// Merge writes the union of the rows of parts as a new part at dir, with the
// same grouping, order and atomicity as Write. It walks the streams in key
// order and, within a stream, merges the inputs' rows by time (ties keep the
// order of parts), decoding one block per input at a time: memory is a
// block per input plus the block being built, never whole parts.
func Merge(dir string, parts []*Part, meta Meta, opts WriteOptions) (Meta, error) {
	w, err := newPartWriter(dir, opts, true)
	if err != nil {
		return meta, err
	}
	var keys []string
	for _, p := range parts {
		keys = append(keys, p.streams...)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)

	b := w.builder()
	cursors := make([]*mergeCursor, len(parts))
	for j, p := range parts {
		cursors[j] = &mergeCursor{p: p, r: GetBlockReader()}
	}
	defer func() {
		for _, c := range cursors {
			PutBlockReader(c.r)
		}
	}()
	fail := func(err error) (Meta, error) {
		w.abort()
		return meta, fmt.Errorf("merge into %s: %w", dir, err)
	}
	live := make([]*mergeCursor, 0, len(parts))
	for _, key := range keys {
		live = live[:0]
		for _, c := range cursors {
			ok, err := c.startStream(key, b)
			if err != nil {
				return fail(err)
			}
			if ok {
				live = append(live, c)
			}
		}
		for len(live) > 0 {
			// Linear choice of the smallest timestamp: merges take a
			// handful of inputs, where a heap costs more than it saves.
			best := 0
			for j := 1; j < len(live); j++ {
				if live[j].ts[live[j].row] < live[best].ts[live[best].row] {
					best = j
				}
			}
			c := live[best]
			c.emit(b)
			if b.rows() >= opts.MaxBlockRows || b.raw >= opts.MaxBlockBytes {
				if b, err = w.writeBlock(key); err != nil {
					return fail(err)
				}
			}
			ok, err := c.advance(b)
			if err != nil {
				return fail(err)
			}
			if !ok {
				live = slices.Delete(live, best, best+1)
			}
		}
		if b, err = w.writeBlock(key); err != nil {
			return fail(err)
		}
	}
	return w.finish(meta)
}

// mergeCursor walks the rows of one stream of one input part.
type mergeCursor struct {
	p          *Part
	r          *BlockReader
	block, end int // blocks of the current stream still to read: [block, end)
	ts         []int64
	row        int
	cols       [][]string        // the current block's columns
	colMap     []int             // builder column of each of cols
	ranges     map[string][2]int // stream key → its blocks [start, end)
}

// startStream positions c at the first row of stream key; false when the
// part has no such stream. Blocks of a stream are contiguous in a part.
func (c *mergeCursor) startStream(key string, b *blockBuilder) (bool, error) {
	if c.ranges == nil {
		c.ranges = make(map[string][2]int, len(c.p.streams))
		for i := range c.p.blocks {
			k := c.p.streams[c.p.blocks[i].stream]
			r, ok := c.ranges[k]
			if !ok {
				r[0] = i
			}
			r[1] = i + 1
			c.ranges[k] = r
		}
	}
	r, ok := c.ranges[key]
	if !ok {
		return false, nil
	}
	c.block, c.end = r[0], r[1]
	return true, c.load(b)
}

// load decodes block c.block entirely.
func (c *mergeCursor) load(b *blockBuilder) error {
	c.r.Reset(c.p, c.block)
	var err error
	if c.ts, err = c.r.Timestamps(); err != nil {
		return fmt.Errorf("part %s: %w", c.p.dir, err)
	}
	c.cols, c.colMap = c.cols[:0], c.colMap[:0]
	for _, name := range c.r.ColumnNames() {
		vals, err := c.r.Column(name)
		if err != nil {
			return fmt.Errorf("part %s: %w", c.p.dir, err)
		}
		c.cols = append(c.cols, vals)
		c.colMap = append(c.colMap, b.col(name))
	}
	c.row = 0
	return nil
}

// emit appends c's current row to b.
func (c *mergeCursor) emit(b *blockBuilder) {
	b.ts = append(b.ts, c.ts[c.row])
	b.raw += 8
	for k, vals := range c.cols {
		b.set(c.colMap[k], vals[c.row])
	}
}

// advance moves to the next row; false when the stream is exhausted.
func (c *mergeCursor) advance(b *blockBuilder) (bool, error) {
	c.row++
	if c.row < len(c.ts) {
		return true, nil
	}
	c.block++
	if c.block >= c.end {
		return false, nil
	}
	return true, c.load(b)
}
