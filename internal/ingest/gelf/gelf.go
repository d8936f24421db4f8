// Package gelf is the GELF adapter (Graylog Extended Log Format 1.1): a
// parser for GELF JSON messages (Parser), a listener (Server) that takes
// them over UDP (chunked or not, gzip or zlib compressed or plain) and TCP
// (NUL-delimited) on one port, and an HTTP handler (one message a POST).
//
// Mapping: short_message is the message; timestamp (unix seconds with a
// fraction) the time; level (a syslog severity number) the level; host and
// full_message are fields of those names; every additional field "_name"
// becomes the field "name" (nested objects flattened with dots), so
// "_trace_id" is the trace id and "_index" selects the index.
//
// Promises:
//   - Every valid GELF message becomes exactly one event; an invalid one
//     (not a JSON object, no short_message) is refused and counted in
//     logcaster_rejected_events_total, never half-stored.
//   - Compressed payloads are inflated up to MaxMessageBytes and no
//     further: a decompression bomb costs at most that much memory and is
//     refused and counted.
//   - Chunked UDP messages are reassembled within ChunkTimeout, with at
//     most MaxChunks (128, the GELF limit) chunks a message and bounded
//     memory for incomplete ones; what cannot be reassembled is counted as
//     dropped.
//   - TCP pushes back: Submit blocks while the pipeline's queue is full.
//     UDP cannot: what finds the queue full is dropped and counted. HTTP
//     answers 202 only after the event is durable, 429 when the queue is
//     full.
package gelf

import "github.com/logcaster/logcaster/internal/event"

// Names of the fields the parser adds besides the built-in ones.
const (
	FieldHost        = "host"
	FieldFullMessage = "full_message"
	// FieldTimestampRaw keeps a timestamp the parser could not read; the
	// event then has the arrival time.
	FieldTimestampRaw = "timestamp_raw"
	// FieldLevelRaw keeps a level that is not a syslog severity or a level
	// name; the event's level is then unknown.
	FieldLevelRaw = "level_raw"
)

// Protocol labels in metrics.
const (
	protoUDP  = "gelf_udp"
	protoTCP  = "gelf_tcp"
	protoHTTP = "gelf_http"
)

// severityLevels maps the syslog severities GELF's level holds to levels:
// emergency, alert and critical are FATAL; notice is INFO.
var severityLevels = [8]string{
	event.LevelFatal, event.LevelFatal, event.LevelFatal, event.LevelError,
	event.LevelWarn, event.LevelInfo, event.LevelInfo, event.LevelDebug,
}
