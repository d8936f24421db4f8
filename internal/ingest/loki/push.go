package loki

import (
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/logcaster/logcaster/internal/event"
)

// Bounds of the per-state name intern table: label names repeat from push
// to push; the bounds stop a sender inventing names from growing it.
const (
	maxInternedNames = 4096
	maxInternedLen   = 64
)

// fieldSlabLen is how many Fields one slab holds: events of a batch share
// slabs instead of allocating a Fields slice each.
const fieldSlabLen = 1024

// pushState is the reusable state of one push: the batches being filled,
// the current stream's label fields, and scratch buffers.
type pushState struct {
	opts    Options
	now     int64
	batches []*event.Batch
	batch   *event.Batch
	events  int

	// The current stream.
	streamFields []event.Field // labels other than the built-in ones
	index, level string
	traceID      string

	fields   []event.Field // the current event's fields
	slab     []event.Field
	p        fastjson.Parser
	snappy   []byte
	unq      []byte // unescaped label value
	interned map[string]string
}

// maxPooledSnappy is the largest decompression buffer kept for reuse:
// bigger ones are rare and would pin their memory.
const maxPooledSnappy = 8 << 20

var pushStates = sync.Pool{New: func() any { return &pushState{interned: map[string]string{}} }}

func getPushState() *pushState { return pushStates.Get().(*pushState) }

func putPushState(st *pushState) {
	clear(st.batches)
	st.batches, st.batch = st.batches[:0], nil
	st.slab = nil // the slab belongs to the stored batches now
	if cap(st.snappy) > maxPooledSnappy {
		st.snappy = nil
	}
	pushStates.Put(st)
}

func (st *pushState) reset(opts Options, now int64) {
	st.opts, st.now, st.events = opts, now, 0
	st.batch = &event.Batch{}
}

// flush moves the current batch, if it holds anything, to st.batches.
func (st *pushState) flush() {
	if st.batch.Len() > 0 {
		st.batches = append(st.batches, st.batch)
		st.batch = &event.Batch{}
	}
}

// beginStream starts a stream; labels are then given to streamLabel. The
// label strings are copied into the batch's arena by endStreamLabels, so
// a batch split inside a stream copies them again (see addEntry).
func (st *pushState) beginStream() {
	st.streamFields = st.streamFields[:0]
	st.index, st.level, st.traceID = "", "", ""
}

// streamLabel records one stream label.
func (st *pushState) streamLabel(name, value []byte) {
	if len(name) == 0 || len(value) == 0 {
		return
	}
	b := st.batch
	switch bytesView(name) {
	case "level", "detected_level", "severity", "lvl":
		if st.level == "" {
			if lv := event.NormalizeLevel(bytesView(value)); lv != "" {
				st.level = lv
				return
			}
		}
	case "index", "_index":
		if st.index == "" {
			st.index = st.intern(value)
			return
		}
	case "service_name":
		st.setStreamField("service", b.Str(value))
		return
	case "trace_id", "traceId", "traceID":
		st.traceID = b.Str(value)
		return
	}
	st.streamFields = append(st.streamFields, event.Field{Name: st.intern(name), Value: b.Str(value)})
}

// setStreamField sets a stream field, replacing one of the same name.
func (st *pushState) setStreamField(name, value string) {
	for i := range st.streamFields {
		if st.streamFields[i].Name == name {
			st.streamFields[i].Value = value
			return
		}
	}
	st.streamFields = append(st.streamFields, event.Field{Name: name, Value: value})
}

// endStreamLabels settles the stream's service and index once all its
// labels are known.
func (st *pushState) endStreamLabels() {
	service := ""
	for _, want := range [...]string{"service", "app", "job"} {
		for _, f := range st.streamFields {
			if f.Name == want {
				service = f.Value
				break
			}
		}
		if service != "" {
			break
		}
	}
	if service != "" {
		st.setStreamField("service", service)
	}
	if st.index == "" {
		st.index = service
	}
	if st.index == "" {
		st.index = st.opts.DefaultIndex
	}
	if len(st.index) > maxIndexLen {
		st.index = st.opts.DefaultIndex
	}
}

// maxIndexLen bounds an index name taken from a label.
const maxIndexLen = 255

// addEntry adds one entry of the current stream; its structured metadata
// is then given to entryMeta, and endEntry finishes it.
func (st *pushState) addEntry(ts int64, line []byte) *event.Event {
	if st.batch.Len() >= st.opts.BatchEvents {
		st.flush()
		// The stream's strings live in the old batch's arena; that arena
		// stays alive with the old batch, so sharing them is safe.
	}
	b := st.batch
	e := b.Add()
	if ts <= 0 {
		ts = st.now
	}
	e.Time = ts
	e.Index = st.index
	e.TraceID = st.traceID
	if !utf8.Valid(line) {
		st.unq = appendValidUTF8(st.unq[:0], line)
		line = st.unq
	}
	e.Message = b.Str(line)
	e.Level = st.level
	b.Bytes += len(line)
	st.fields = append(st.fields[:0], st.streamFields...)
	st.events++
	return e
}

// entryMeta records one structured metadata pair of the current entry.
func (st *pushState) entryMeta(e *event.Event, name, value []byte) {
	if len(name) == 0 || len(value) == 0 {
		return
	}
	b := st.batch
	switch event.CanonicalName(bytesView(name)) {
	case event.FieldTraceID:
		e.TraceID = b.Str(value)
		return
	case event.FieldLevel:
		if lv := event.NormalizeLevel(bytesView(value)); lv != "" {
			e.Level = lv
			return
		}
	}
	st.fields = append(st.fields, event.Field{Name: st.intern(name), Value: b.Str(value)})
}

func (st *pushState) endEntry(e *event.Event) {
	if e.Level == "" {
		e.Level = event.DetectLevel(e.Message)
	}
	e.Fields = st.takeFields(st.fields)
}

// takeFields copies fs into the current slab and returns the copy, its
// capacity cut so that an append by a later owner cannot overwrite the
// next event's fields.
func (st *pushState) takeFields(fs []event.Field) []event.Field {
	if len(fs) == 0 {
		return nil
	}
	if cap(st.slab)-len(st.slab) < len(fs) {
		st.slab = make([]event.Field, 0, max(fieldSlabLen, len(fs)))
	}
	start := len(st.slab)
	st.slab = append(st.slab, fs...)
	return st.slab[start:len(st.slab):len(st.slab)]
}

// intern returns p as a string shared by every event with the same name.
func (st *pushState) intern(p []byte) string {
	if s, ok := st.interned[string(p)]; ok { // no allocation: the compiler reuses p
		return s
	}
	if len(p) > maxInternedLen || len(st.interned) >= maxInternedNames {
		return st.batch.Str(p)
	}
	s := string(p)
	st.interned[s] = s
	return s
}

// bytesView returns p as a string without copying; the string must not
// outlive p's next change.
func bytesView(p []byte) string {
	return unsafe.String(unsafe.SliceData(p), len(p))
}

// appendValidUTF8 appends p to dst with every invalid byte replaced by
// U+FFFD (DESIGN.md: invalid UTF-8 is repaired, not dropped).
func appendValidUTF8(dst, p []byte) []byte {
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, p[:size]...)
		}
		p = p[size:]
	}
	return dst
}
