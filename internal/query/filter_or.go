package query

import "strings"

// filterOr matches rows any child matches. Each child sees only the rows no
// earlier child has matched yet.
type filterOr struct{ children []filter }

func (f *filterOr) String() string {
	parts := make([]string, len(f.children))
	for i, c := range f.children {
		parts[i] = c.String()
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

func (f *filterOr) mayMatch(bc *blockCtx) bool {
	for _, c := range f.children {
		if c.mayMatch(bc) {
			return true
		}
	}
	return false
}

func (f *filterOr) apply(bc *blockCtx, bm *bitmap) {
	matched := bc.getBitmap()
	matched.init(bm.n, false)
	left := bc.getBitmap()
	for _, c := range f.children {
		if !c.mayMatch(bc) {
			continue
		}
		left.copyFrom(bm)
		left.andNot(matched)
		if left.isZero() {
			break
		}
		c.apply(bc, left)
		matched.or(left)
	}
	copy(bm.words, matched.words)
	bc.putBitmap(left)
	bc.putBitmap(matched)
}
