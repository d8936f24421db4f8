package query

// filterPrefix matches rows whose field has a token starting with the
// prefix, ignoring case: `host:web-*` matches "web-12", `err*` "Errors".
// The prefix may span tokens; its complete tokens go to the bloom filter.
type filterPrefix struct {
	field  string
	prefix string
	hashes []uint64
	m      tokenMatcher
}

func newFilterPrefix(field, prefix string) *filterPrefix {
	return &filterPrefix{field: field, prefix: prefix, hashes: hashesOf(prefix, false), m: newTokenMatcher(prefix, true)}
}

func (f *filterPrefix) String() string {
	return fieldPrefix(f.field) + quoteValue(f.prefix) + "*"
}

func (f *filterPrefix) mayMatch(bc *blockCtx) bool { return bc.mayContain(f.field, f.hashes) }

func (f *filterPrefix) apply(bc *blockCtx, bm *bitmap) {
	applyToValues(bc, bm, f.field, f.m.match)
}
