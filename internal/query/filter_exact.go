package query

import "strconv"

// filterExact is `field:=Value`: the whole value, case and all.
type filterExact struct {
	field  string
	value  string
	hashes []uint64
}

func newFilterExact(field, value string) *filterExact {
	return &filterExact{field: field, value: value, hashes: hashesOf(value, true)}
}

func (f *filterExact) String() string { return quoteValue(f.field) + ":=" + strconv.Quote(f.value) }

func (f *filterExact) mayMatch(bc *blockCtx) bool { return bc.mayContain(f.field, f.hashes) }

func (f *filterExact) apply(bc *blockCtx, bm *bitmap) {
	applyToValues(bc, bm, f.field, func(v string) bool { return v == f.value })
}
