package query

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/logcaster/logcaster/internal/event"
)

// AppendNDJSON appends the row as one JSON object and a newline:
// {"timestamp":"<RFC 3339 UTC>","index":...,"level":...,"message":...,
// "trace_id":...,...other fields}, empty fields left out. It writes the JSON
// by hand, as encoding/json per row would allocate and reflect.
func AppendNDJSON(dst []byte, r *Row) []byte {
	dst = append(dst, '{')
	first := true
	if r.HasTime {
		dst = append(dst, `"timestamp":"`...)
		dst = appendTime(dst, r.Time)
		dst = append(dst, '"')
		first = false
	}
	for _, f := range r.Fields {
		if f.Value == "" {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, f.Name)
		dst = append(dst, ':')
		dst = appendJSONString(dst, f.Value)
	}
	return append(dst, '}', '\n')
}

func appendTime(dst []byte, ns int64) []byte {
	return time.Unix(0, ns).UTC().AppendFormat(dst, time.RFC3339Nano)
}

func formatTime(ns int64) string { return string(appendTime(nil, ns)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, and <, >, &
// left alone (the output is data, not HTML).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript readers.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// builtinOrder is the order of the built-in fields in a row.
var builtinOrder = [...]string{event.FieldIndex, event.FieldLevel, event.FieldMessage, event.FieldTraceID}
