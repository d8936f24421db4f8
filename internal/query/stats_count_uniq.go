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

type countUniqState struct {
	seen   map[string]struct{}
	budget *memBudget
}

func (c *countUniqState) setBudget(b *memBudget) { c.budget = b }

func (c *countUniqState) add(v string) {
	if v == "" {
		return
	}
	if _, ok := c.seen[v]; !ok {
		c.seen[strings.Clone(v)] = struct{}{}
		c.budget.add(int64(len(v)) + mapEntryOverhead)
	}
}

// merge folds o in; values both saw were counted twice, and are given
// back.
func (c *countUniqState) merge(o statsState) {
	var dup int64
	for v := range o.(*countUniqState).seen {
		if _, ok := c.seen[v]; ok {
			dup += int64(len(v)) + mapEntryOverhead
			continue
		}
		c.seen[v] = struct{}{}
	}
	c.budget.add(-dup)
}

func (c *countUniqState) result() string { return strconv.Itoa(len(c.seen)) }
