package query

import (
	"math"
	"slices"
	"strconv"
)

// statsQuantile is quantile(phi, f): the value below which a fraction phi
// of the numeric values lie (nearest rank; exact, as it keeps every value).
type statsQuantile struct {
	phi float64
	f   string
}

func (s *statsQuantile) String() string {
	return "quantile(" + strconv.FormatFloat(s.phi, 'g', -1, 64) + ", " + quoteValue(s.f) + ")"
}
func (s *statsQuantile) field() string        { return s.f }
func (s *statsQuantile) newState() statsState { return &quantileState{phi: s.phi} }

type quantileState struct {
	phi    float64
	vals   []float64
	budget *memBudget
}

func (c *quantileState) setBudget(b *memBudget) { c.budget = b }

func (c *quantileState) add(v string) {
	if x, ok := parseNumber(v); ok {
		if len(c.vals) == cap(c.vals) {
			// Count the growth, not each value: append doubles.
			c.budget.add(int64(max(cap(c.vals), 8)) * 8)
		}
		c.vals = append(c.vals, x)
	}
}

func (c *quantileState) merge(o statsState) { c.vals = append(c.vals, o.(*quantileState).vals...) }

func (c *quantileState) result() string {
	if len(c.vals) == 0 {
		return ""
	}
	slices.Sort(c.vals)
	// Nearest rank: the ceil(phi*n)-th smallest value, 1-based.
	k := int(math.Ceil(c.phi*float64(len(c.vals)))) - 1
	k = max(0, min(k, len(c.vals)-1))
	return formatFloat(c.vals[k])
}
