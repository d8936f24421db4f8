package syslog

import (
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// maxTagLen bounds what is taken for an RFC 3164 TAG. The RFC says 32;
// real programs exceed it a little, and a longer first word followed by a
// colon is more likely a message ("Exception in thread...:") than a tag.
const maxTagLen = 48

// futureSlack is how far past the arrival time a year-less RFC 3164
// timestamp may lie before it is taken to be from last year (clocks
// differ; a message from Dec 31 arriving on Jan 1 is not from next year).
const futureSlack = 24 * time.Hour

// parse3164 reads an RFC 3164 header after PRI: an optional timestamp, a
// hostname (only after a timestamp, as the RFC orders them) and an
// optional TAG[PID]: before the message.
func parse3164(h *header, rest []byte, now int64, loc *time.Location) error {
	if t, n, ok := parseBSDTime(rest, now, loc); ok {
		h.time, h.hasTime = t, true
		rest = rest[n:]
		if len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
		// The next word is the hostname unless it already looks like the
		// tag (logger --rfc3164 and Python send none at times).
		tok, after := token(rest)
		if len(tok) > 0 && len(after) > 0 && !looksLikeTag(tok) {
			h.host, rest = tok, after
		}
	}
	h.app, h.procID, h.text = parseTag(rest)
	return nil
}

// looksLikeTag reports whether a word ends a tag: "app:" or "app[12]:".
func looksLikeTag(tok []byte) bool {
	c := tok[len(tok)-1]
	return c == ':' || c == ']'
}

// parseTag splits "TAG[PID]: MSG" or "TAG: MSG"; anything else is all MSG.
func parseTag(s []byte) (tag, pid, msg []byte) {
	i := 0
	for i < len(s) && i <= maxTagLen && s[i] != ':' && s[i] != '[' && s[i] != ' ' {
		i++
	}
	if i == 0 || i >= len(s) || i > maxTagLen {
		return nil, nil, s
	}
	switch s[i] {
	case ':':
		tag, msg = s[:i], s[i+1:]
	case '[':
		j := i + 1
		for j < len(s) && s[j] != ']' && s[j] != ' ' {
			j++
		}
		if j >= len(s) || s[j] != ']' {
			return nil, nil, s
		}
		tag, pid, msg = s[:i], s[i+1:j], s[j+1:]
		if len(msg) > 0 && msg[0] == ':' {
			msg = msg[1:]
		}
	default:
		return nil, nil, s
	}
	if len(msg) > 0 && msg[0] != ' ' {
		return nil, nil, s // "word:word" is text (a URL, a time), not a tag
	}
	if len(msg) > 0 {
		msg = msg[1:]
	}
	return tag, pid, msg
}

// parseBSDTime reads the timestamp at the start of s and returns it with
// the number of bytes it took. Forms: "Mmm dd hh:mm:ss", the day also
// space-padded or single-digit, seconds with an optional fraction, and a
// year either after the day ("Mmm dd yyyy hh:mm:ss") or after the time;
// or an RFC 3339 timestamp (rsyslog's forward format).
func parseBSDTime(s []byte, now int64, loc *time.Location) (int64, int, bool) {
	if len(s) >= 5 && isDigit(s[0]) && s[4] == '-' {
		tok, _ := token(s)
		t, ok := event.ParseTime(bytesView(tok))
		return t, len(tok), ok
	}
	if len(s) < len("Mmm d hh:mm:ss") {
		return 0, 0, false
	}
	month := monthOf(s[:3])
	if month == 0 || s[3] != ' ' {
		return 0, 0, false
	}
	i := 4
	if s[i] == ' ' {
		i++
	}
	day, i := digits(s, i, 2)
	if day < 1 || i >= len(s) || s[i] != ' ' {
		return 0, 0, false
	}
	i++
	year := -1
	if y, j := digits(s, i, 4); j-i == 4 && j < len(s) && s[j] == ' ' {
		year, i = y, j+1
	}
	hour, i := fixed2(s, i)
	if hour < 0 || i >= len(s) || s[i] != ':' {
		return 0, 0, false
	}
	minute, i := fixed2(s, i+1)
	if minute < 0 || i >= len(s) || s[i] != ':' {
		return 0, 0, false
	}
	sec, i := fixed2(s, i+1)
	if sec < 0 || hour > 23 || minute > 59 || sec > 60 {
		return 0, 0, false
	}
	nanos := 0
	if i < len(s) && s[i] == '.' {
		j, scale := i+1, 100_000_000
		for j < len(s) && isDigit(s[j]) {
			nanos += int(s[j]-'0') * scale
			scale /= 10
			j++
		}
		if j == i+1 {
			return 0, 0, false
		}
		i = j
	}
	if i < len(s) && s[i] != ' ' {
		return 0, 0, false
	}
	if year < 0 && i+5 <= len(s) {
		if y, j := digits(s, i+1, 4); j-(i+1) == 4 && (j == len(s) || s[j] == ' ') {
			year, i = y, j
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	if year < 0 {
		ref := time.Unix(0, now).In(loc)
		year = ref.Year()
		if t := time.Date(year, month, day, hour, minute, sec, nanos, loc); t.UnixNano() > now+int64(futureSlack) {
			year--
		}
	}
	t := time.Date(year, month, day, hour, minute, sec, nanos, loc)
	if t.Day() != day { // Feb 30, or Feb 29 of a common year
		return 0, 0, false
	}
	return t.UnixNano(), i, true
}

// digits reads up to n decimal digits of s from i.
func digits(s []byte, i, n int) (v, end int) {
	end = i
	for end < len(s) && end-i < n && isDigit(s[end]) {
		v = v*10 + int(s[end]-'0')
		end++
	}
	if end == i {
		return -1, i
	}
	return v, end
}

// fixed2 reads exactly two digits of s from i; -1 when they are not there.
func fixed2(s []byte, i int) (int, int) {
	if i+2 > len(s) || !isDigit(s[i]) || !isDigit(s[i+1]) {
		return -1, i
	}
	return int(s[i]-'0')*10 + int(s[i+1]-'0'), i + 2
}

func monthOf(m []byte) time.Month {
	switch string(m) {
	case "Jan":
		return time.January
	case "Feb":
		return time.February
	case "Mar":
		return time.March
	case "Apr":
		return time.April
	case "May":
		return time.May
	case "Jun":
		return time.June
	case "Jul":
		return time.July
	case "Aug":
		return time.August
	case "Sep":
		return time.September
	case "Oct":
		return time.October
	case "Nov":
		return time.November
	case "Dec":
		return time.December
	}
	return 0
}
