package query

// filterWord matches rows whose field holds the word as a whole token,
// ignoring case: `timeout`, `level:error`.
type filterWord struct {
	field  string
	word   string
	hashes []uint64
	m      tokenMatcher
}

func newFilterWord(field, word string) *filterWord {
	return &filterWord{field: field, word: word, hashes: hashesOf(word, true), m: newTokenMatcher(word, false)}
}

func (f *filterWord) String() string { return fieldPrefix(f.field) + quoteValue(f.word) }

func (f *filterWord) mayMatch(bc *blockCtx) bool { return bc.mayContain(f.field, f.hashes) }

func (f *filterWord) apply(bc *blockCtx, bm *bitmap) {
	if applyRawTokens(bc, bm, f.field, &f.m, nil) {
		return
	}
	applyToValues(bc, bm, f.field, f.m.match)
}
