// Package fluentforward is the Fluentd Forward protocol adapter (v1), what
// Fluentd and Fluent Bit use between each other: msgpack frames over TCP
// in Message mode [tag, time, record, option?], Forward mode [tag,
// [[time, record], ...], option?], PackedForward mode [tag, bin(entries),
// option?] and CompressedPackedForward (the same, gzip-compressed, with
// option compressed="gzip"). Time is an integer, a float or the EventTime
// extension (type 0: seconds and nanoseconds).
//
// Mapping: the record's message/log/msg is the message (one trailing
// newline, as Docker's log lines have, is removed); level (and its
// aliases) the level; trace ids the trace id; nested maps are flattened
// with dots, arrays kept as JSON text. The tag is the field fluent_tag, and
// its first dot-separated part is the index unless the record names one.
//
// Promises:
//   - A frame is read whole before it is decoded, and only if it is within
//     MaxFrameBytes; every length and count in it is checked against that
//     limit as soon as its header arrives, before anything is allocated.
//     Compressed entries inflate to at most MaxFrameBytes too. A frame past
//     a limit, or a stream that is not msgpack, ends the connection,
//     counted.
//   - A frame is taken whole or not at all: a frame that is valid msgpack
//     but not a Forward message adds no event, is counted and logged, and
//     the connection goes on.
//   - With the chunk option, {"ack": chunk} is written only after every
//     event of the frame is durable (the pipeline's Ticket is done), so a
//     sender with require_ack_response loses nothing on a crash.
//   - Submit blocks while the pipeline's queue is full, so reads stop and
//     TCP flow control slows the sender.
//
// Not supported: the secure-forward handshake (HELO/PING/PONG with shared
// keys) and UDP heartbeats; senders using them must turn them off.
package fluentforward

// Names of the fields the adapter adds.
const (
	// FieldTag is the Fluentd tag of the event.
	FieldTag = "fluent_tag"
	// FieldLevelRaw keeps a level that NormalizeLevel does not know.
	FieldLevelRaw = "level_raw"
)

// protocol is the metrics label.
const protocol = "fluent"
