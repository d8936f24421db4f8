// Package issues groups errors into issues, as Sentry does: error events
// (from Sentry SDKs, or ERROR/FATAL log events that carry a stack trace)
// are fingerprinted, and events with one fingerprint make one issue with a
// short id, counts, users, tags, an hourly sparkline and a status.
//
// Promises: every state change (project created, event counted, status
// set) is appended to a journal with a CRC per record, in the order the
// changes are applied; the call that made a change returns only once its
// record is written and fsynced (records of concurrent callers share one
// write and one fsync), or written only with Options.NoSync. Open replays
// a snapshot and the journal, so the state survives a restart and a
// kill -9. The Tracker is safe for concurrent use; the pipeline subscriber
// never blocks ingest: it drops (and counts) batches when its queue is
// full.
package issues

import (
	"crypto/rand"
	"encoding/hex"
)

// Frame is one stack frame, innermost last (as Sentry orders them).
type Frame struct {
	Module   string `json:"module,omitempty"`
	Function string `json:"function,omitempty"`
	File     string `json:"filename,omitempty"`
	Line     int    `json:"lineno,omitempty"`
	InApp    bool   `json:"in_app,omitempty"`
}

// Exception is one exception of an event; chained exceptions (Java's
// "Caused by:", Go's wrapped errors) come outermost first... as Sentry
// sends them: the last one is the one that was raised.
type Exception struct {
	Type   string  `json:"type,omitempty"`
	Value  string  `json:"value,omitempty"`
	Module string  `json:"module,omitempty"`
	Frames []Frame `json:"frames,omitempty"`
}

// ErrorEvent is one error occurrence, in the shape the API returns.
type ErrorEvent struct {
	EventID     string            `json:"event_id"`
	Project     string            `json:"project"`
	Time        int64             `json:"-"` // unix ns
	Timestamp   string            `json:"timestamp"`
	Level       string            `json:"level"`
	Message     string            `json:"message,omitempty"`
	Exceptions  []Exception       `json:"exceptions,omitempty"`
	Fingerprint []string          `json:"fingerprint,omitempty"`
	TraceID     string            `json:"trace_id,omitempty"`
	Release     string            `json:"release,omitempty"`
	Environment string            `json:"environment,omitempty"`
	ServerName  string            `json:"server_name,omitempty"`
	Platform    string            `json:"platform,omitempty"`
	UserID      string            `json:"user_id,omitempty"`
	UserIP      string            `json:"user_ip,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Logger      string            `json:"logger,omitempty"`
	// Extra is Sentry's "Additional Data" (the event's extra object): a
	// string value as itself, any other value as its compact JSON text.
	// Unlike tags it is not counted on the issue; it is shown on the event.
	Extra map[string]string `json:"extra,omitempty"`
}

// mainException is the exception that was raised last (Sentry's order puts
// it at the end), or nil.
func (e *ErrorEvent) mainException() *Exception {
	if len(e.Exceptions) == 0 {
		return nil
	}
	return &e.Exceptions[len(e.Exceptions)-1]
}

// user is the key distinct users are counted by: user.id, else the IP.
func (e *ErrorEvent) user() string {
	if e.UserID != "" {
		return "id:" + e.UserID
	}
	if e.UserIP != "" {
		return "ip:" + e.UserIP
	}
	return ""
}

// newEventID returns 32 random hex digits, Sentry's event id format.
func newEventID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
