package query

import (
	"regexp"
	"regexp/syntax"
	"strconv"
)

// filterRegex is `field:~"re"`: an RE2 match anywhere in the value, case
// sensitive unless the pattern says (?i). A pattern that is a plain literal
// (`~"ockMana"`, the common case) runs as strings.Contains, which is far
// faster than the regexp engine.
type filterRegex struct {
	field   string
	re      *regexp.Regexp
	literal substrMatcher
	isLit   bool
}

func newFilterRegex(field, pattern string) (*filterRegex, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	f := &filterRegex{field: field, re: re}
	if p, err := syntax.Parse(pattern, syntax.Perl); err == nil {
		p = p.Simplify()
		if p.Op == syntax.OpLiteral && p.Flags&syntax.FoldCase == 0 {
			f.literal, f.isLit = newSubstrMatcher(string(p.Rune)), true
		}
	}
	return f, nil
}

func (f *filterRegex) String() string {
	return fieldPrefix(f.field) + "~" + strconv.Quote(f.re.String())
}

// mayMatch rules out a block for a literal when the column's summary says
// no value can hold it (summary.go); a regular expression has no tokens
// to look up.
func (f *filterRegex) mayMatch(bc *blockCtx) bool {
	return !f.isLit || bc.mayHoldSubstr(f.field, f.literal.needle)
}

func (f *filterRegex) apply(bc *blockCtx, bm *bitmap) {
	if f.isLit {
		if applyRawSubstr(bc, bm, f.field, &f.literal) {
			return
		}
		applyToValues(bc, bm, f.field, f.literal.match)
		return
	}
	applyToValues(bc, bm, f.field, f.re.MatchString)
}
