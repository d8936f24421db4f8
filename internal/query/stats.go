package query

// statsFunc is one function of `| stats`: count(), sum(f), quantile(0.99, f).
type statsFunc interface {
	// String is the canonical form, also the default result name.
	String() string
	// field is the field whose values the function reads, "" for count().
	field() string
	newState() statsState
}

// budgeted is a state whose memory grows with its values (count_uniq,
// quantile); it counts what it keeps against the run's budget.
type budgeted interface{ setBudget(b *memBudget) }

// statsState accumulates one function over one group. Values passed to add
// are valid only during the call: a state keeping one must copy it.
type statsState interface {
	add(v string)
	merge(o statsState)
	result() string
}
