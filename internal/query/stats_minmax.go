package query

// statsMinMax is min(f) or max(f) over the values that are numbers; ""
// when none is.
type statsMinMax struct {
	f     string
	isMax bool
}

func (s *statsMinMax) String() string {
	if s.isMax {
		return "max(" + quoteValue(s.f) + ")"
	}
	return "min(" + quoteValue(s.f) + ")"
}
func (s *statsMinMax) field() string        { return s.f }
func (s *statsMinMax) newState() statsState { return &minMaxState{isMax: s.isMax} }

type minMaxState struct {
	v     float64
	ok    bool
	isMax bool
}

func (c *minMaxState) put(x float64) {
	if !c.ok || (c.isMax && x > c.v) || (!c.isMax && x < c.v) {
		c.v, c.ok = x, true
	}
}

func (c *minMaxState) add(v string) {
	if x, ok := parseNumber(v); ok {
		c.put(x)
	}
}

func (c *minMaxState) merge(o statsState) {
	if oo := o.(*minMaxState); oo.ok {
		c.put(oo.v)
	}
}

func (c *minMaxState) result() string {
	if !c.ok {
		return ""
	}
	return formatFloat(c.v)
}
