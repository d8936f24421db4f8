package part

import (
	"fmt"
	"path/filepath"
	"sync"
)

// BlockReader reads one block of a part lazily and implements the
// store.Block interface: nothing is read from disk until a column is asked
// for, and each section's CRC is verified when it is read (a mismatch is an
// error wrapping *CorruptError). A column is decoded once per Reset; the
// slices and strings it returns alias the reader's buffers, which the next
// Reset reuses. A BlockReader is used by one goroutine at a time.
type BlockReader struct {
	p  *Part
	h  *blockHeader
	ts []int64

	tsDone bool
	tsSec  []byte
	tsRaw  []byte

	// slots hold the decoded columns of the current block; slots[:n] are in
	// use. Each owns its buffers, since its strings alias them.
	slots []readerSlot
	n     int
	names []string
}

type readerSlot struct {
	id  int
	sec []byte // the section as read
	raw []byte // the section decompressed

	// A plain column is kept as parsed (values back to back in data, with
	// their ends) and turned into strings only when Column asks; a dict or
	// const column is kept as its dictionary and codes (coded), which
	// ColumnCodes hands out as they are, and turned into strings (vals)
	// and data/ends only when Column or ColumnRaw ask.
	vals     []string
	valsDone bool
	coded    bool
	codes    []byte // nil for a const column: every row is dict[0]
	dict     []string
	data     []byte
	ends     []uint32
	endsDone bool
	flat     []byte // data of a non-plain column, built by ColumnRaw
	// A template column (template.go) keeps its templates and codes, and
	// its variables once asked for; its values are built into flat/ends
	// (by flatten) only when Column or ColumnRaw ask.
	tmpl bool
	tc   templateCol
	// sparse and sflat hold what ColumnRows built of a template column.
	sparse []string
	sflat  []byte
}

var blockReaderPool = sync.Pool{New: func() any { return &BlockReader{} }}

// GetBlockReader returns a BlockReader from a pool.
func GetBlockReader() *BlockReader { return blockReaderPool.Get().(*BlockReader) }

// PutBlockReader returns r to the pool; r and everything it returned must
// not be used afterwards.
func PutBlockReader(r *BlockReader) {
	r.Reset(nil, 0)
	blockReaderPool.Put(r)
}

// Reset points r at block i of p (or at nothing when p is nil).
func (r *BlockReader) Reset(p *Part, i int) {
	r.p = p
	r.h = nil
	if p != nil {
		r.h = &p.blocks[i]
	}
	r.tsDone = false
	for j := range r.slots[:r.n] {
		sl := &r.slots[j]
		clear(sl.vals) // do not pin the last block's buffers via strings
		clear(sl.dict)
		sl.data, sl.codes = nil, nil
		sl.tc.reset()
		clear(sl.sparse)
	}
	r.n = 0
	r.names = r.names[:0]
}

// Rows is the number of rows of the block.
func (r *BlockReader) Rows() int { return r.h.rows }

// TimeRange is the smallest and largest timestamp of the block.
func (r *BlockReader) TimeRange() (min, max int64) { return r.h.minT, r.h.maxT }

// colHeader returns the block's header of the named column, or nil.
func (r *BlockReader) colHeader(name string) *colHeader {
	id, ok := r.p.colIDs[name]
	if !ok {
		return nil
	}
	cols := r.p.cols[r.h.colStart:r.h.colEnd]
	for i := range cols {
		if cols[i].id == id {
			return &cols[i]
		}
	}
	return nil
}

// MayContain reports whether the column may hold every token whose
// tokenize.Hash is given; false is definite. It reads nothing from disk.
func (r *BlockReader) MayContain(column string, hashes []uint64) bool {
	if len(hashes) == 0 {
		return true
	}
	c := r.colHeader(column)
	if c == nil {
		return false
	}
	return bloomMayContain(r.p.blooms[c.bloomOff:c.bloomOff+c.bloomLen], hashes)
}

func (r *BlockReader) corrupt(what, reason string) error {
	return fmt.Errorf("read %s of block: %w", what,
		&CorruptError{Path: filepath.Join(r.p.dir, dataFile), Reason: what + ": " + reason})
}

// read reads n bytes of data.bin at off into buf (grown as needed) for
// what, a truncated file being corruption.
func (r *BlockReader) read(what string, buf []byte, off int64, n int) ([]byte, error) {
	buf, err := r.p.readAt(buf, off, n)
	if err != nil {
		if IsCorrupt(err) {
			return buf, r.corrupt(what, "truncated")
		}
		return buf, fmt.Errorf("read %s of block: %w", what, err)
	}
	return buf, nil
}

// readSection reads and checks one section of data.bin into sec and
// returns it decoded (aliasing sec or raw).
func (r *BlockReader) readSection(what string, sec, raw *[]byte, off int64, n int, sum uint32) ([]byte, error) {
	var err error
	if *sec, err = r.read(what, *sec, off, n); err != nil {
		return nil, err
	}
	if crc(*sec) != sum {
		return nil, r.corrupt(what, "checksum mismatch")
	}
	out, reason := decodeSection(raw, *sec)
	if reason != "" {
		return nil, r.corrupt(what, reason)
	}
	return out, nil
}

// Timestamps returns the rows' timestamps, ascending.
func (r *BlockReader) Timestamps() ([]int64, error) {
	if r.tsDone {
		return r.ts, nil
	}
	h := r.h
	raw, err := r.readSection("timestamps", &r.tsSec, &r.tsRaw, h.tsOff, h.tsLen, h.tsCRC)
	if err != nil {
		return nil, err
	}
	var reason string
	if r.ts, reason = decodeTimestamps(r.ts, raw, h.rows, h.minT, h.maxT); reason != "" {
		return nil, r.corrupt("timestamps", reason)
	}
	r.tsDone = true
	return r.ts, nil
}

// Column returns the values of a column, "" where a row lacks it, or nil
// when the block has no such column.
func (r *BlockReader) Column(name string) ([]string, error) {
	sl, err := r.slot(name)
	if sl == nil || err != nil {
		return nil, err
	}
	if err := r.flatten(sl, name); err != nil {
		return nil, err
	}
	return r.slotVals(sl), nil
}

// flatten builds a template column's values (data and ends, as a plain
// column has them) on first use; other columns need nothing.
func (r *BlockReader) flatten(sl *readerSlot, name string) error {
	if !sl.tmpl || sl.endsDone {
		return nil
	}
	if err := r.allTemplateVars(sl, name); err != nil {
		return err
	}
	var reason string
	sl.flat, sl.ends, reason = sl.tc.appendValues(sl.flat[:0], sl.ends[:0])
	if reason != "" {
		return r.corrupt("column "+name, reason)
	}
	sl.data, sl.endsDone = sl.flat, true
	return nil
}

// ColumnRows is Column for the rows set in want (row i when bit i%64 of
// want[i/64] is set; want covers every row): the other rows' values may
// come back empty. A template column then rebuilds only those rows, which
// for a search's newest 100 rows or a rare word's few is a small part of
// the block; other columns are decoded whole, as by Column.
func (r *BlockReader) ColumnRows(name string, want []uint64) ([]string, error) {
	sl, err := r.slot(name)
	if sl == nil || err != nil {
		return nil, err
	}
	if !sl.tmpl || sl.endsDone || len(want)*64 < r.h.rows {
		return r.Column(name)
	}
	if err := r.allTemplateVars(sl, name); err != nil {
		return nil, err
	}
	// The strings are made once sflat has stopped growing.
	sl.sflat, sl.ends = sl.sflat[:0], sl.ends[:0]
	for i := 0; i < r.h.rows; i++ {
		if want[i/64]&(1<<(i%64)) == 0 {
			sl.ends = append(sl.ends, uint32(len(sl.sflat)))
			continue
		}
		var reason string
		if sl.sflat, reason = sl.tc.appendRow(sl.sflat, i); reason != "" {
			return nil, r.corrupt("column "+name, reason)
		}
		sl.ends = append(sl.ends, uint32(len(sl.sflat)))
	}
	sl.sparse = appendPlainStrings(sl.sparse[:0], sl.sflat, sl.ends)
	return sl.sparse, nil
}

// ColumnTemplates returns a template column's templates (each variable in
// them a NumVar or WordVar byte, see template.go) and one code a row: row
// i's value is templates[codes[i]] with its variables (ColumnVars) in
// place of those bytes. ok is false when the block lacks the column or
// does not store it as templates. A word or phrase search can decide each
// template once (template.go says when that is exact). Both alias the
// reader's buffers, like Column's strings.
func (r *BlockReader) ColumnTemplates(name string) (templates []string, codes []uint16, ok bool, err error) {
	sl, err := r.slot(name)
	if sl == nil || err != nil || !sl.tmpl {
		return nil, nil, false, err
	}
	return sl.tc.tmpls, sl.tc.codes, true, nil
}

// ColumnVars returns one kind of variables of a template column, numbers
// (ASCII digits only) or the others: row i's are data[ends[i-1]:ends[i]]
// (from 0 for row 0), each followed by a VarEnd byte; nil, nil when the
// block lacks the column or does not store it as templates. They alias
// the reader's buffers, like Column's strings.
func (r *BlockReader) ColumnVars(name string, numbers bool) (data []byte, ends []uint32, err error) {
	sl, err := r.slot(name)
	if sl == nil || err != nil || !sl.tmpl {
		return nil, nil, err
	}
	k := kindWord
	if numbers {
		k = kindNum
	}
	if err := r.templateVars(sl, name, k); err != nil {
		return nil, nil, err
	}
	return sl.tc.vs[k].vars, sl.tc.vs[k].ends, nil
}

// slotVals returns a decoded column's values, one string a row.
func (r *BlockReader) slotVals(sl *readerSlot) []string {
	if !sl.valsDone {
		if sl.coded {
			sl.vals = appendCoded(sl.vals[:0], sl.dict, sl.codes, r.h.rows)
		} else {
			sl.vals = appendPlainStrings(sl.vals[:0], sl.data, sl.ends)
		}
		sl.valsDone = true
	}
	return sl.vals
}

// ColumnCodes returns a dictionary-encoded column as its distinct values
// and one code a row (row i's value is dict[codes[i]]), or a constant
// column as its one value and nil codes; ok is false when the block lacks
// the column or stores it plain. A filter or a group-by can then decide
// each distinct value once and look rows up by code. Both alias the
// reader's buffers, like Column's strings.
func (r *BlockReader) ColumnCodes(name string) (dict []string, codes []byte, ok bool, err error) {
	sl, err := r.slot(name)
	if sl == nil || err != nil || !sl.coded {
		return nil, nil, false, err
	}
	return sl.dict, sl.codes, true, nil
}

// WordVarsMayContain reports whether a template column's word variables
// (ColumnVars with numbers false) may contain s, a string of ASCII token
// bytes, as a substring, ignoring the case of letters when fold is set;
// false is definite (see template.go's bigram filter). It reads nothing
// beyond the column's head.
func (r *BlockReader) WordVarsMayContain(name, s string, fold bool) (bool, error) {
	sl, err := r.slot(name)
	if sl == nil || err != nil || !sl.tmpl {
		return true, err
	}
	return mayHoldGrams(sl.tc.wordGrams, s, fold), nil
}

// ColumnRaw returns the values of a column back to back in data, row i
// being data[ends[i-1]:ends[i]] (data[:ends[0]] for row 0), or nil, nil
// when the block has no such column. For the message column, stored plain,
// this is the decompressed section itself: a search can run over data in
// one pass (bytes.Index and friends) and map hits to rows through ends,
// without a string header per row. Both alias the reader's buffers, like
// Column's strings.
func (r *BlockReader) ColumnRaw(name string) (data []byte, ends []uint32, err error) {
	sl, err := r.slot(name)
	if sl == nil || err != nil {
		return nil, nil, err
	}
	if err := r.flatten(sl, name); err != nil {
		return nil, nil, err
	}
	if !sl.endsDone {
		sl.flat, sl.ends = sl.flat[:0], sl.ends[:0]
		for _, v := range r.slotVals(sl) {
			sl.flat = append(sl.flat, v...)
			sl.ends = append(sl.ends, uint32(len(sl.flat)))
		}
		sl.data = sl.flat
		sl.endsDone = true
	}
	return sl.data, sl.ends, nil
}

// slot returns the decoded column name, reading it on first use, or nil
// when the block lacks it.
func (r *BlockReader) slot(name string) (*readerSlot, error) {
	c := r.colHeader(name)
	if c == nil {
		return nil, nil
	}
	for i := range r.slots[:r.n] {
		if r.slots[i].id == c.id {
			return &r.slots[i], nil
		}
	}
	if r.n == len(r.slots) {
		r.slots = append(r.slots, readerSlot{})
	}
	s := &r.slots[r.n]
	s.tmpl = false
	if c.headLen > 0 {
		if err := r.readTemplateHead(s, c, name); err != nil {
			return nil, err
		}
		s.id = c.id
		r.n++
		return s, nil
	}
	raw, err := r.readSection("column "+name, &s.sec, &s.raw, c.off, c.len, c.crc)
	if err != nil {
		return nil, err
	}
	var reason string
	if len(raw) > 0 && raw[0] == encPlain {
		s.ends, s.data, reason = decodePlain(s.ends, raw[1:], r.h.rows)
		s.valsDone, s.endsDone, s.coded, s.codes = false, true, false, nil
	} else {
		s.dict, s.codes, reason = decodeCodes(s.dict, raw, r.h.rows)
		s.valsDone, s.endsDone, s.coded = false, false, true
	}
	if reason != "" {
		return nil, r.corrupt("column "+name, reason)
	}
	s.id = c.id
	r.n++
	return s, nil
}

// readTemplateHead reads a template column's head alone (the index gives
// its length): the section's framing, its templates and codes, and where
// its variables are, each checked by its own CRC when read (the
// section's CRC in the index would need every byte). A word search reads
// and checks a tenth of the column this way.
func (r *BlockReader) readTemplateHead(s *readerSlot, c *colHeader, name string) error {
	var err error
	if s.sec, err = r.read("column "+name, s.sec, c.off, c.headLen); err != nil {
		return err
	}
	d := decoder{b: s.sec}
	comp, n := d.byte1(), d.uvarint()
	framing := c.headLen - len(d.b)
	if d.err != "" || comp != compNone || n != uint64(c.len-framing) {
		return r.corrupt("column "+name, "bad template column framing")
	}
	if reason := s.tc.decode(d.b, int(n), r.h.rows); reason != "" {
		return r.corrupt("column "+name, reason)
	}
	s.tc.base = c.off + int64(framing)
	s.valsDone, s.endsDone, s.coded, s.codes, s.tmpl = false, false, false, nil, true
	return nil
}

// templateVars reads, checks and decodes one kind of a template column's
// variables, once a block.
func (r *BlockReader) templateVars(sl *readerSlot, name string, k int) error {
	v := &sl.tc.vs[k]
	if !v.done && v.sec == nil {
		var err error
		if v.rbuf, err = r.read("column "+name, v.rbuf, sl.tc.base+int64(v.off), v.len); err != nil {
			return err
		}
		v.sec = v.rbuf
	}
	if reason := sl.tc.decodeVars(k); reason != "" {
		return r.corrupt("column "+name, reason)
	}
	return nil
}

// allTemplateVars is templateVars for both kinds, as rebuilding values
// needs.
func (r *BlockReader) allTemplateVars(sl *readerSlot, name string) error {
	for k := range sl.tc.vs {
		if err := r.templateVars(sl, name, k); err != nil {
			return err
		}
	}
	return nil
}

// ColumnNames lists the block's columns.
func (r *BlockReader) ColumnNames() []string {
	if len(r.names) == 0 {
		for _, c := range r.p.cols[r.h.colStart:r.h.colEnd] {
			r.names = append(r.names, r.p.names[c.id])
		}
	}
	return r.names
}
