package query

// filterExists is `field:*`: rows where the field is present and non-empty
// (the store keeps no difference between the two).
type filterExists struct{ field string }

func (f *filterExists) String() string { return quoteValue(f.field) + ":*" }

func (f *filterExists) mayMatch(*blockCtx) bool { return true }

func (f *filterExists) apply(bc *blockCtx, bm *bitmap) {
	applyToValues(bc, bm, f.field, func(v string) bool { return v != "" })
}
