package query

import "strconv"

// statsCount is count() (every row) or count(f) (rows where f is non-empty).
type statsCount struct{ f string }

func (s *statsCount) String() string {
	if s.f == "" {
		return "count()"
	}
	return "count(" + quoteValue(s.f) + ")"
}
func (s *statsCount) field() string        { return s.f }
func (s *statsCount) newState() statsState { return &countState{all: s.f == ""} }

type countState struct {
	n   uint64
	all bool
}

func (c *countState) add(v string) {
	if c.all || v != "" {
		c.n++
	}
}
func (c *countState) merge(o statsState) { c.n += o.(*countState).n }
func (c *countState) result() string     { return strconv.FormatUint(c.n, 10) }
