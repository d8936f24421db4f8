package query

// filterNot matches rows its child does not match.
type filterNot struct{ child filter }

func (f *filterNot) String() string { return "NOT " + f.child.String() }

// mayMatch cannot use the child's answer: a block where the child cannot
// match is one where NOT matches everything.
func (f *filterNot) mayMatch(*blockCtx) bool { return true }

func (f *filterNot) apply(bc *blockCtx, bm *bitmap) {
	if !f.child.mayMatch(bc) {
		return
	}
	sub := bc.getBitmap()
	sub.copyFrom(bm)
	f.child.apply(bc, sub)
	bm.andNot(sub)
	bc.putBitmap(sub)
}
