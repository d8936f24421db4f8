package query

// filterAny is `*`: every row.
type filterAny struct{}

func (filterAny) String() string           { return "*" }
func (filterAny) mayMatch(*blockCtx) bool  { return true }
func (filterAny) apply(*blockCtx, *bitmap) {}
