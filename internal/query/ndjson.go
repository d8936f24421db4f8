package query

import (
	"strconv"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/jsonenc"
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
		dst = jsonenc.AppendString(dst, f.Name)
		dst = append(dst, ':')
		dst = jsonenc.AppendString(dst, f.Value)
	}
	return append(dst, '}', '\n')
}

func appendTime(dst []byte, ns int64) []byte {
	return time.Unix(0, ns).UTC().AppendFormat(dst, time.RFC3339Nano)
}

func formatTime(ns int64) string { return string(appendTime(nil, ns)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// builtinOrder is the order of the built-in fields in a row.
var builtinOrder = [...]string{event.FieldIndex, event.FieldLevel, event.FieldMessage, event.FieldTraceID}
