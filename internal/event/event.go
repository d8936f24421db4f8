// Package event defines the one model every protocol adapter produces and
// everything downstream consumes: an Event with a timestamp, an index, a
// normalised level, a message, an optional trace id and any number of other
// string fields (nested names flattened with dots).
//
// Events travel in Batches. A Batch owns an arena that the strings of its
// events point into, so building an event costs no allocation per field; a
// consumer that keeps an event beyond the batch's life must copy its strings
// (the store copies them into its own column buffers).
package event

import "unsafe"

// Names of the built-in fields, as the query language and the NDJSON output
// spell them. Every other field keeps the (flattened) name its sender used.
const (
	FieldTime    = "timestamp"
	FieldIndex   = "index"
	FieldLevel   = "level"
	FieldMessage = "message"
	FieldTraceID = "trace_id"
)

// DefaultIndex is the index of events whose sender named none.
const DefaultIndex = "default"

// Field is one extra field of an event.
type Field struct {
	Name, Value string
}

// Event is one log record.
type Event struct {
	Time    int64  // unix nanoseconds, UTC; arrival time if the sender gave none
	Index   string // application or source
	Level   string // TRACE, DEBUG, INFO, WARN, ERROR, FATAL, or "" when unknown
	Message string
	TraceID string
	Fields  []Field // other fields, in the order the sender gave them
}

// Get returns the value of the named field, built-in or extra, and whether
// the event has it (a built-in field is present when non-empty).
func (e *Event) Get(name string) (string, bool) {
	switch name {
	case FieldIndex:
		return e.Index, e.Index != ""
	case FieldLevel:
		return e.Level, e.Level != ""
	case FieldMessage:
		return e.Message, e.Message != ""
	case FieldTraceID:
		return e.TraceID, e.TraceID != ""
	}
	for i := range e.Fields {
		if e.Fields[i].Name == name {
			return e.Fields[i].Value, true
		}
	}
	return "", false
}

// Source identifies a batch sent over an acknowledged framing (logcaster
// send), so that a batch resent after a reconnect is stored once.
type Source struct {
	ClientID string // chosen by the client, stable for one run
	Seq      uint64 // increases by one a batch; 0 means "not deduplicated"
}

// Batch is a group of events that travel together from an adapter to the
// store, with the arena their strings live in.
type Batch struct {
	Events []Event
	Source Source
	// Bytes is the size of the input the batch was parsed from, for metrics.
	Bytes int
	arena []byte
}

// arenaChunk is the size of a fresh arena block: large enough that a batch of
// typical 300-byte events allocates a handful of times, small enough not to
// pin much memory when a batch holds a few events.
const arenaChunk = 64 << 10

// Str copies p into the batch's arena and returns it as a string that stays
// valid for as long as the batch (or the string) is referenced.
func (b *Batch) Str(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	if cap(b.arena)-len(b.arena) < len(p) {
		// Start a new chunk; strings already handed out keep the old one alive.
		b.arena = make([]byte, 0, max(arenaChunk, len(p)))
	}
	start := len(b.arena)
	b.arena = append(b.arena, p...)
	s := b.arena[start:len(b.arena):len(b.arena)]
	return unsafe.String(unsafe.SliceData(s), len(s))
}

// StrString is Str for a string argument.
func (b *Batch) StrString(s string) string {
	return b.Str(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// Add appends an empty event and returns it for the caller to fill.
func (b *Batch) Add() *Event {
	if len(b.Events) < cap(b.Events) {
		b.Events = b.Events[:len(b.Events)+1]
		e := &b.Events[len(b.Events)-1]
		fields := e.Fields[:0]
		*e = Event{Fields: fields}
		return e
	}
	b.Events = append(b.Events, Event{})
	return &b.Events[len(b.Events)-1]
}

// Len is the number of events in the batch.
func (b *Batch) Len() int { return len(b.Events) }

// StreamKey is the key rows are grouped by in the store: events of one
// stream are stored together and sorted by time. It is the index and the
// service, which keeps similar messages side by side (better compression)
// without splitting the data into thousands of tiny streams.
func StreamKey(e *Event) string {
	svc, _ := e.Get("service")
	return e.Index + "\x00" + svc
}
