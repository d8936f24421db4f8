package part

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/logcaster/logcaster/internal/event"
)

// Write writes events (any order) as a new part in directory dir, which must
// not exist. It groups rows by event.StreamKey, sorts each stream by time and
// cuts streams into blocks of at most opts.MaxBlockRows rows and about
// opts.MaxBlockBytes raw bytes. It writes dir+".tmp", fsyncs every file and
// the directory, renames it to dir and fsyncs the parent. It returns meta
// completed with what Write knows (see Meta).
func Write(dir string, events []event.Event, meta Meta, opts WriteOptions) (Meta, error) {
	w, err := newPartWriter(dir, opts, false)
	if err != nil {
		return meta, err
	}
	// Group by stream with one map lookup per event on (index, service),
	// then sort each stream by time: cheaper than one big sort comparing
	// stream keys, and logs arrive nearly sorted, which pdqsort likes.
	type streamKey struct{ index, service string }
	type stream struct {
		key  streamKey
		rows []int32
	}
	byKey := map[streamKey]int{}
	var streams []stream
	for i := range events {
		svc, _ := events[i].Get("service")
		k := streamKey{events[i].Index, svc}
		si, ok := byKey[k]
		if !ok {
			si = len(streams)
			byKey[k] = si
			streams = append(streams, stream{key: k})
		}
		streams[si].rows = append(streams[si].rows, int32(i))
	}
	slices.SortFunc(streams, func(a, b stream) int {
		return cmp.Or(cmp.Compare(a.key.index, b.key.index), cmp.Compare(a.key.service, b.key.service))
	})
	b := w.builder()
	for si := range streams {
		s := &streams[si]
		// Ties keep arrival order (the row number breaks them).
		slices.SortFunc(s.rows, func(a, b int32) int {
			return cmp.Or(cmp.Compare(events[a].Time, events[b].Time), cmp.Compare(a, b))
		})
		key := s.key.index + "\x00" + s.key.service
		for _, ri := range s.rows {
			b.addEvent(&events[ri])
			if b.rows() >= opts.MaxBlockRows || b.raw >= opts.MaxBlockBytes {
				if b, err = w.writeBlock(key); err != nil {
					w.abort()
					return meta, fmt.Errorf("write part %s: %w", dir, err)
				}
			}
		}
		if b, err = w.writeBlock(key); err != nil {
			w.abort()
			return meta, fmt.Errorf("write part %s: %w", dir, err)
		}
	}
	return w.finish(meta)
}
