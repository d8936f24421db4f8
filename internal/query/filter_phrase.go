package query

import (
	"strconv"

	"github.com/logcaster/logcaster/internal/tokenize"
)

// filterPhrase matches rows whose field holds the phrase's tokens
// consecutively and in order, with only non-token characters between them
// ("connection refused" matches "Connection: refused"). A phrase without
// tokens ("->") matches as a plain substring.
type filterPhrase struct {
	field  string
	phrase string
	hashes []uint64
	m      phraseMatcher
	substr bool
	sm     substrMatcher
}

func newFilterPhrase(field, phrase string) *filterPhrase {
	f := &filterPhrase{field: field, phrase: phrase, hashes: hashesOf(phrase, true)}
	var toks []string
	tokenize.Each(phrase, func(t string) { toks = append(toks, t) })
	if len(toks) == 0 {
		f.substr = true
		f.sm = newSubstrMatcher(phrase)
	} else {
		f.m = newPhraseMatcher(toks)
	}
	return f
}

func (f *filterPhrase) String() string { return fieldPrefix(f.field) + strconv.Quote(f.phrase) }

func (f *filterPhrase) mayMatch(bc *blockCtx) bool { return bc.mayContain(f.field, f.hashes) }

func (f *filterPhrase) apply(bc *blockCtx, bm *bitmap) {
	if f.substr {
		if applyRawSubstr(bc, bm, f.field, &f.sm) {
			return
		}
	} else if applyRawTokens(bc, bm, f.field, &f.m.first, &f.m) {
		return
	}
	if f.substr {
		applyToValues(bc, bm, f.field, f.sm.match)
		return
	}
	applyToValues(bc, bm, f.field, f.m.match)
}
