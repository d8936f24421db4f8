// Package query is LogCaster's query language and the engine that runs it
// over a store.Scanner: filters (words, phrases, field values, prefixes,
// regular expressions, numeric comparisons and ranges, time), combined with
// AND, OR and NOT, then pipes (limit, offset, fields, sort, stats, top,
// uniq, where) over the matching rows.
//
// Promises: words and phrases match whole tokens as package tokenize splits
// them, ignoring case; `field:=Value` matches the whole value exactly.
// Results come newest first unless a pipe orders them; time bounds are
// inclusive at the start and exclusive at the end. A Query is immutable
// once parsed and may run on many goroutines at once. Run reads a block's
// columns only when a filter or the output needs them, skips blocks by time
// and bloom filter first, uses the scanner's parallelism and stops when its
// context is cancelled.
package query

import (
	"strings"

	"github.com/logcaster/logcaster/internal/event"
)

// Query is a parsed query: a filter and the pipes after it.
type Query struct {
	src    string
	filter filter
	pipes  []pipe
}

// String is the canonical form of the query: every AND and OR
// parenthesised, fields spelled out, values quoted where they must be.
func (q *Query) String() string {
	var b strings.Builder
	b.WriteString(q.filter.String())
	for _, p := range q.pipes {
		b.WriteString(" | ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Row is one result: an event, or a row of a stats pipe.
type Row struct {
	// Time is the event's timestamp in unix ns; HasTime is false for rows
	// that have none (stats results).
	Time    int64
	HasTime bool
	// Fields hold the values, non-empty, built-in fields first (index,
	// level, message, trace_id).
	Fields []event.Field
}

// Get returns a field's value; "timestamp" and "_time" give the time in
// RFC 3339.
func (r *Row) Get(name string) (string, bool) {
	if name == event.FieldTime || name == timeField {
		if !r.HasTime {
			for _, f := range r.Fields {
				if f.Name == name {
					return f.Value, true
				}
			}
			return "", false
		}
		return formatTime(r.Time), true
	}
	for _, f := range r.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}
