package query

import (
	"strconv"
	"strings"
)

// filterRange compares a field's value with bounds: `status:>=500`,
// `latency_ms:[100, 250)`. When every bound is a number the value is parsed
// as a number (all fields are strings; a value that is no number does not
// match); otherwise values compare as strings, byte by byte.
type filterRange struct {
	field          string
	op             string // ">", ">=", "<", "<=", or "" for a [lo, hi) range
	lo, hi         string // bounds as written; "" is open
	loIncl, hiIncl bool
	numeric        bool
	loN, hiN       float64
}

func newFilterRange(field, lo, hi string, loIncl, hiIncl bool, op string) *filterRange {
	f := &filterRange{field: field, op: op, lo: lo, hi: hi, loIncl: loIncl, hiIncl: hiIncl, numeric: true}
	var err error
	if lo != "" {
		if f.loN, err = strconv.ParseFloat(lo, 64); err != nil {
			f.numeric = false
		}
	}
	if hi != "" {
		if f.hiN, err = strconv.ParseFloat(hi, 64); err != nil {
			f.numeric = false
		}
	}
	return f
}

func (f *filterRange) String() string {
	p := quoteValue(f.field) + ":"
	if f.op != "" {
		b := f.lo
		if b == "" {
			b = f.hi
		}
		return p + f.op + quoteValue(b)
	}
	l, r := "[", "]"
	if !f.loIncl {
		l = "("
	}
	if !f.hiIncl {
		r = ")"
	}
	return p + l + quoteValue(f.lo) + ", " + quoteValue(f.hi) + r
}

func (f *filterRange) mayMatch(*blockCtx) bool { return true }

func (f *filterRange) apply(bc *blockCtx, bm *bitmap) {
	applyToValues(bc, bm, f.field, f.match)
}

func (f *filterRange) match(v string) bool {
	if f.numeric {
		n, ok := parseNumber(v)
		if !ok {
			return false
		}
		if f.lo != "" && (n < f.loN || n == f.loN && !f.loIncl) {
			return false
		}
		if f.hi != "" && (n > f.hiN || n == f.hiN && !f.hiIncl) {
			return false
		}
		return true
	}
	if v == "" {
		return false
	}
	if f.lo != "" {
		c := strings.Compare(v, f.lo)
		if c < 0 || c == 0 && !f.loIncl {
			return false
		}
	}
	if f.hi != "" {
		c := strings.Compare(v, f.hi)
		if c > 0 || c == 0 && !f.hiIncl {
			return false
		}
	}
	return true
}

// parseNumber parses a field value as a number, allowing surrounding
// spaces; it does not allocate for plain integers.
func parseNumber(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	// Integers are most values; parse them without strconv's float path.
	neg := false
	s := v
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s != "" && len(s) <= 18 {
		var n int64
		ok := true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				ok = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if ok {
			if neg {
				n = -n
			}
			return float64(n), true
		}
	}
	n, err := strconv.ParseFloat(v, 64)
	return n, err == nil
}
