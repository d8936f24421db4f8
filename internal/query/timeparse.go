package query

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses a relative time: Go durations (90s, 1h30m) plus days
// and weeks (7d, 2w), which time.ParseDuration lacks.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		if i == 0 || j == i {
			return 0, errors.New("bad duration " + strconv.Quote(s))
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		var mult time.Duration
		switch unit {
		case "d":
			mult = 24 * time.Hour
		case "w":
			mult = 7 * 24 * time.Hour
		default:
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, errors.New("bad duration " + strconv.Quote(s))
			}
			total += d
			continue
		}
		n, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, errors.New("bad duration " + strconv.Quote(s))
		}
		total += time.Duration(n * float64(mult))
	}
	if total <= 0 {
		return 0, errors.New("bad duration " + strconv.Quote(s))
	}
	return total, nil
}

// timeLayouts are the absolute forms a query or parameter may use, all UTC
// unless they carry an offset.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseTime parses an absolute time (RFC 3339, a date, a date and time in
// UTC, or unix seconds) or a relative one (15m: now minus that).
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	if d, err := ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, errors.New("bad time " + strconv.Quote(s) + ": want RFC 3339, a date or a duration like 15m")
}
