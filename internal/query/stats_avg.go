package query

// statsAvg is avg(f) over the values that are numbers; "" when none is.
type statsAvg struct{ f string }

func (s *statsAvg) String() string       { return "avg(" + quoteValue(s.f) + ")" }
func (s *statsAvg) field() string        { return s.f }
func (s *statsAvg) newState() statsState { return &avgState{} }

type avgState struct{ sumState }

func (c *avgState) merge(o statsState) { c.sumState.merge(&o.(*avgState).sumState) }

func (c *avgState) result() string {
	if c.n == 0 {
		return ""
	}
	return formatFloat(c.sum / float64(c.n))
}
