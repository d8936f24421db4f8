package query

import "strings"

// filterAnd matches rows every child matches. Children run in order on the
// rows still set, so a selective child first saves the others' work.
type filterAnd struct{ children []filter }

func (f *filterAnd) String() string {
	parts := make([]string, len(f.children))
	for i, c := range f.children {
		parts[i] = c.String()
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

func (f *filterAnd) mayMatch(bc *blockCtx) bool {
	for _, c := range f.children {
		if !c.mayMatch(bc) {
			return false
		}
	}
	return true
}

func (f *filterAnd) apply(bc *blockCtx, bm *bitmap) {
	for _, c := range f.children {
		if bm.isZero() {
			return
		}
		if !c.mayMatch(bc) {
			bm.reset()
			return
		}
		c.apply(bc, bm)
	}
}
