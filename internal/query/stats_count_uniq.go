package query

import (
	"strconv"
	"strings"
)

// statsCountUniq is count_uniq(f): how many distinct non-empty values.
type statsCountUniq struct{ f string }

func (s *statsCountUniq) String() string       { return "count_uniq(" + quoteValue(s.f) + ")" }
func (s *statsCountUniq) field() string        { return s.f }
func (s *statsCountUniq) newState() statsState { return &countUniqState{seen: map[string]struct{}{}} }

type countUniqState struct{ seen map[string]struct{} }

func (c *countUniqState) add(v string) {
	if v == "" {
		return
	}
	if _, ok := c.seen[v]; !ok {
		c.seen[strings.Clone(v)] = struct{}{}
	}
}

func (c *countUniqState) merge(o statsState) {
	for v := range o.(*countUniqState).seen {
		c.seen[v] = struct{}{}
	}
}

func (c *countUniqState) result() string { return strconv.Itoa(len(c.seen)) }
