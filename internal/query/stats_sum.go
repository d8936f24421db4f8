package query

import "strconv"

// statsSum is sum(f) over the values that are numbers.
type statsSum struct{ f string }

func (s *statsSum) String() string       { return "sum(" + quoteValue(s.f) + ")" }
func (s *statsSum) field() string        { return s.f }
func (s *statsSum) newState() statsState { return &sumState{} }

type sumState struct {
	sum float64
	n   uint64
}

func (c *sumState) add(v string) {
	if x, ok := parseNumber(v); ok {
		c.sum += x
		c.n++
	}
}

func (c *sumState) merge(o statsState) {
	oo := o.(*sumState)
	c.sum += oo.sum
	c.n += oo.n
}

func (c *sumState) result() string { return formatFloat(c.sum) }

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
