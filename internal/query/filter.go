package query

import (
	"strconv"
	"strings"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/store"
	"github.com/logcaster/logcaster/internal/tokenize"
)

// filter is one node of a query's filter tree. A filter is immutable once
// parsed, so one Query may run on many goroutines at once.
type filter interface {
	// String is the canonical form, which parses back to the same tree.
	String() string
	// mayMatch answers from what a block knows without decoding (time
	// range, bloom filters); false means no row of the block matches.
	mayMatch(bc *blockCtx) bool
	// apply clears the rows of bm that do not match. It looks only at rows
	// still set, so cheap selective filters should narrow first.
	apply(bc *blockCtx, bm *bitmap)
}

// blockCtx is one block under evaluation: the columns decoded so far, the
// run's clock and the first error a column read returned.
type blockCtx struct {
	b     store.Block
	now   int64
	ts    []int64
	tsOK  bool
	names []string
	cols  [][]string
	err   error
	spare []*bitmap
	// memo caches per-value verdicts of the filter being applied.
	memo valueMemo
	// bloom is false for the head's MemBlocks, whose MayContain is an exact
	// scan of the column: tokenising and hashing every value costs more
	// than the matchers below do on the same values.
	bloom bool
	// allNames caches ColumnNames, which a MemBlock computes by walking
	// every row.
	allNames []string
	// verdicts is keepTemplates's scratch: one per template of a block.
	verdicts []bool
	// sumVals and sumCounts are countRows's scratch (summary.go).
	sumVals   []string
	sumCounts []uint32
}

func (bc *blockCtx) columnNames() []string {
	if bc.allNames == nil {
		bc.allNames = bc.b.ColumnNames()
		if bc.allNames == nil {
			bc.allNames = []string{}
		}
	}
	return bc.allNames
}

func (bc *blockCtx) reset(b store.Block, now int64) {
	bc.b, bc.now = b, now
	bc.ts, bc.tsOK = nil, false
	bc.names = bc.names[:0]
	clear(bc.cols)
	bc.cols = bc.cols[:0]
	bc.err = nil
	bc.allNames = nil
	_, isMem := b.(*store.MemBlock)
	bc.bloom = !isMem
}

// mayContain asks the block's bloom filter for the tokens' hashes.
func (bc *blockCtx) mayContain(field string, hashes []uint64) bool {
	if !bc.bloom || len(hashes) == 0 {
		return true
	}
	return bc.b.MayContain(field, hashes)
}

// read returns the column name when a filter has already read it.
func (bc *blockCtx) read(name string) ([]string, bool) {
	for i, n := range bc.names {
		if n == name {
			return bc.cols[i], true
		}
	}
	return nil, false
}

// column returns the values of a column, decoding it once per block; nil
// when no row has it.
func (bc *blockCtx) column(name string) []string {
	if col, ok := bc.read(name); ok {
		return col
	}
	col, err := bc.b.Column(name)
	if err != nil && bc.err == nil {
		bc.err = err
	}
	bc.names = append(bc.names, name)
	bc.cols = append(bc.cols, col)
	return col
}

func (bc *blockCtx) timestamps() []int64 {
	if !bc.tsOK {
		ts, err := bc.b.Timestamps()
		if err != nil && bc.err == nil {
			bc.err = err
		}
		bc.ts, bc.tsOK = ts, true
	}
	return bc.ts
}

func (bc *blockCtx) getBitmap() *bitmap {
	if n := len(bc.spare); n > 0 {
		bm := bc.spare[n-1]
		bc.spare = bc.spare[:n-1]
		return bm
	}
	return &bitmap{}
}

func (bc *blockCtx) putBitmap(bm *bitmap) { bc.spare = append(bc.spare, bm) }

// applyToValues keeps the rows whose value of field satisfies match, by
// the column's codes when it is dictionary-coded, else value by value
// (memoised); a block without the column is decided by match("") once.
// Every filter on a field's values goes through here.
func applyToValues(bc *blockCtx, bm *bitmap, field string, match func(v string) bool) {
	if keepIfCodes(bc, bm, field, match) {
		return
	}
	col := bc.column(field)
	if col == nil {
		if !match("") {
			bm.reset()
		}
		return
	}
	keepIfMemo(bc, bm, col, match)
}

// hashesOf returns the bloom hashes of the tokens of s that the store
// indexes; complete=false drops the last token, which a prefix may cut.
func hashesOf(s string, complete bool) []uint64 {
	var toks []string
	tokenize.Each(s, func(t string) { toks = append(toks, t) })
	if !complete && len(toks) > 0 && tokenEndAt(s, len(s)) && strings.HasSuffix(s, toks[len(toks)-1]) {
		toks = toks[:len(toks)-1]
	}
	var hs []uint64
	for _, t := range toks {
		if len(t) <= tokenize.MaxTokenLen {
			hs = append(hs, tokenize.Hash(t))
		}
	}
	return hs
}

// quoteValue prints a value bare when it lexes back as the same single
// word, and quoted otherwise.
func quoteValue(s string) string {
	if s == "" || strings.HasSuffix(s, "*") || s[0] == '-' || isKeyword(s) || strings.ContainsAny(s[:1], "><=~") {
		return strconv.Quote(s)
	}
	for i := 0; i < len(s); i++ {
		if isSpecial(s[i]) || s[i] < ' ' || s[i] == '\\' {
			return strconv.Quote(s)
		}
	}
	return s
}

func isKeyword(s string) bool {
	return strings.EqualFold(s, "and") || strings.EqualFold(s, "or") || strings.EqualFold(s, "not")
}

// fieldPrefix prints "field:" unless field is the message, the default.
func fieldPrefix(field string) string {
	if field == event.FieldMessage {
		return ""
	}
	return quoteValue(field) + ":"
}
