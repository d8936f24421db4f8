package part

import "github.com/logcaster/logcaster/internal/event"

// Write writes events (any order) as a new part in directory dir, which must
// not exist. It groups rows by event.StreamKey, sorts each stream by time and
// cuts streams into blocks. It writes dir+".tmp", fsyncs every file and the
// directory, renames it to dir and fsyncs the parent. It returns the
// completed Meta.
func Write(dir string, events []event.Event, meta Meta, opts WriteOptions) (Meta, error) {
	return meta, errNotImplemented
}
