package event

import "strings"

// Normalised levels.
const (
	LevelTrace = "TRACE"
	LevelDebug = "DEBUG"
	LevelInfo  = "INFO"
	LevelWarn  = "WARN"
	LevelError = "ERROR"
	LevelFatal = "FATAL"
)

// NormalizeLevel maps whatever a sender used for a level (names in any case,
// abbreviations, logback's level_value, syslog severities as words) to one of
// the six normalised levels, or "" when s is not a level it knows.
func NormalizeLevel(s string) string {
	if len(s) == 0 || len(s) > 16 {
		return ""
	}
	var buf [16]byte
	u := buf[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		u[i] = c
	}
	switch string(u) {
	case "TRACE", "TRC", "T", "FINEST", "FINER", "5000":
		return LevelTrace
	case "DEBUG", "DBG", "D", "FINE", "10000", "7":
		return LevelDebug
	case "INFO", "INF", "I", "INFORMATION", "INFORMATIONAL", "NOTICE", "CONFIG", "20000", "6", "5":
		return LevelInfo
	case "WARN", "WARNING", "WRN", "W", "30000", "4":
		return LevelWarn
	case "ERROR", "ERR", "E", "SEVERE", "40000", "3":
		return LevelError
	case "FATAL", "FTL", "F", "CRITICAL", "CRIT", "ALERT", "EMERG", "EMERGENCY", "PANIC", "50000", "0", "1", "2":
		return LevelFatal
	}
	return ""
}

// levelWords are the words DetectLevel looks for, most severe first.
// Each word is given in upper case and in lower case, so that matching
// allocates nothing.
var levelWords = []struct{ word, lower, level string }{
	{"FATAL", "fatal", LevelFatal}, {"PANIC", "panic", LevelFatal}, {"CRITICAL", "critical", LevelFatal},
	{"ERROR", "error", LevelError}, {"SEVERE", "severe", LevelError},
	{"WARN", "warn", LevelWarn}, {"WARNING", "warning", LevelWarn},
	{"INFO", "info", LevelInfo}, {"DEBUG", "debug", LevelDebug}, {"TRACE", "trace", LevelTrace},
}

// detectWindow is how far into a message DetectLevel looks: log lines put
// their level near the start, and scanning a 256 KiB line for one is waste.
const detectWindow = 128

// DetectLevel guesses the level of a plain-text line from the first level
// word (ERROR, WARN, ...) standing alone near its start, as Loki's detected
// level does; "" when it finds none.
func DetectLevel(msg string) string {
	if len(msg) > detectWindow {
		msg = msg[:detectWindow]
	}
	best := -1
	level := ""
	for _, lw := range levelWords {
		for _, w := range [2]string{lw.word, lw.lower} {
			if i := indexWord(msg, w); i >= 0 && (best < 0 || i < best) {
				best, level = i, lw.level
			}
		}
	}
	return level
}

// indexWord finds word in s as a whole word, case exactly as given.
func indexWord(s, w string) int {
	off := 0
	for {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return -1
		}
		i += off
		end := i + len(w)
		if (i == 0 || !isWordByte(s[i-1])) && (end == len(s) || !isWordByte(s[end])) {
			return i
		}
		off = i + 1
	}
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
