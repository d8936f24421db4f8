package ingest

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/logcaster/logcaster/internal/event"
)

// DefaultMaxLineBytes is the line-size limit of every line-based listener:
// far above any sane log line (stack traces included), small enough that a
// sender without newlines cannot make the server buffer without bound.
const DefaultMaxLineBytes = 256 << 10

// Names of the fields ParseLine adds itself.
const (
	// FieldTruncated is set to "true" on an event whose line was longer than
	// MaxLineBytes; the event holds the first MaxLineBytes bytes (cut back to
	// a whole UTF-8 character).
	FieldTruncated = "truncated"
	// FieldTimestampRaw keeps a timestamp ParseLine could not parse; the
	// event's time is then the arrival time.
	FieldTimestampRaw = "timestamp_raw"
	// FieldLevelRaw keeps a level NormalizeLevel does not know; the event's
	// level is then "" (unknown), as the Event contract wants one of the six
	// levels or nothing.
	FieldLevelRaw = "level_raw"
)

// BadJSON says what ParseLine does with a line that starts with '{' but is
// not a valid JSON object.
type BadJSON uint8

const (
	// BadJSONAsText stores the line as a plain-text message (and still
	// returns a *LineError with Kept set, for the caller to count). The TCP
	// lines listener and `logcaster send` use it: they have no way to tell
	// the sender, and DESIGN.md wants nothing lost.
	BadJSONAsText BadJSON = iota
	// BadJSONReject adds nothing and returns a *LineError. HTTP ingest uses
	// it: it lists the line in "rejected" and the sender can fix it.
	BadJSONReject
)

// LineOptions control ParseLine.
type LineOptions struct {
	// DefaultIndex is the index of events that name none ("" means
	// event.DefaultIndex).
	DefaultIndex string
	// MaxLineBytes is the longest line kept whole; 0 means no limit.
	MaxLineBytes int
	// BadJSON is the policy for invalid JSON lines.
	BadJSON BadJSON
	// Now is the arrival time (unix ns) given to events without a
	// timestamp; 0 means time.Now() per line. Callers parsing a burst of
	// lines set it once per burst.
	Now int64
}

// DefaultLineOptions returns the options of the TCP lines listener.
func DefaultLineOptions() LineOptions {
	return LineOptions{DefaultIndex: event.DefaultIndex, MaxLineBytes: DefaultMaxLineBytes}
}

// Validate reports options that cannot work.
func (o LineOptions) Validate() error {
	if o.MaxLineBytes < 0 {
		return errors.New("line options: max line bytes must not be negative")
	}
	if o.BadJSON > BadJSONReject {
		return fmt.Errorf("line options: unknown bad json policy %d", o.BadJSON)
	}
	return nil
}

// LineError reports a line that was not valid JSON although it started
// with '{'.
type LineError struct {
	Err  error
	Kept bool // the line was stored as a plain-text message (BadJSONAsText)
}

func (e *LineError) Error() string { return "invalid json: " + e.Err.Error() }
func (e *LineError) Unwrap() error { return e.Err }

// ParseLine parses one line into a new event of b:
//
//   - A trailing LF or CRLF is removed; a line that is then empty (or only
//     spaces and tabs) is skipped and adds nothing.
//   - A line longer than opts.MaxLineBytes is cut to that size (back to a
//     whole UTF-8 character), stored as a plain-text message, and marked
//     with the field truncated=true. It is never parsed as JSON: cut JSON is
//     invalid JSON, and the limit is about size, not syntax.
//   - Invalid UTF-8 is repaired: each invalid byte becomes U+FFFD.
//   - A line whose first non-blank byte is '{' is a JSON object. Nested
//     objects are flattened with dots ({"request":{"url":"/x"}} gives
//     request.url); arrays, numbers and booleans are kept as their JSON
//     text; null fields are dropped; names go through event.CanonicalName.
//     The first timestamp, level, message, trace_id and index fill the
//     built-in fields; a repeated one is kept as an extra field under the
//     name the sender used. A timestamp ParseTime cannot read is kept in
//     timestamp_raw and the event gets the arrival time; a level
//     NormalizeLevel does not know is kept in level_raw and the level is
//     left unknown. No level is guessed for JSON events: the sender said
//     what it meant.
//   - Invalid JSON follows opts.BadJSON and returns a *LineError.
//   - Any other line is a plain-text message whose level is guessed with
//     event.DetectLevel.
//
// Strings are copied into b's arena (or interned, for field names), so line
// may be reused as soon as ParseLine returns. ParseLine is safe for
// concurrent use on different batches.
func ParseLine(b *event.Batch, line []byte, opts LineOptions) error {
	line = trimEOL(line)
	if isBlank(line) {
		return nil
	}
	st := getLineParser()
	defer putLineParser(st)

	truncated := false
	if opts.MaxLineBytes > 0 && len(line) > opts.MaxLineBytes {
		line = line[:runeStart(line, opts.MaxLineBytes)]
		truncated = true
	}
	if !utf8.Valid(line) {
		st.repaired = appendValidUTF8(st.repaired[:0], line)
		line = st.repaired
	}
	now := opts.Now
	if now == 0 {
		now = time.Now().UnixNano()
	}
	index := opts.DefaultIndex
	if index == "" {
		index = event.DefaultIndex
	}

	var lineErr *LineError
	if !truncated && firstNonBlank(line) == '{' {
		v, err := st.p.ParseBytes(line)
		if err == nil {
			st.addJSON(b, v, now, index)
			return nil
		}
		if opts.BadJSON == BadJSONReject {
			return &LineError{Err: err}
		}
		lineErr = &LineError{Err: err, Kept: true}
	}

	e := b.Add()
	e.Time = now
	e.Index = index
	e.Message = b.Str(line)
	e.Level = event.DetectLevel(e.Message)
	e.Fields = e.Fields[:0]
	if truncated {
		e.Fields = st.takeFields(append(st.fields[:0], event.Field{Name: FieldTruncated, Value: "true"}))
	}
	if lineErr != nil {
		return lineErr
	}
	return nil
}

// Bounds of the per-parser name intern table: field names repeat from
// event to event, so keeping them once saves arena bytes and the store's
// copying; the bounds keep a sender inventing names from growing it.
const (
	maxInternedNames = 4096
	maxInternedLen   = 64
)

// fieldSlabLen is how many Fields one slab holds: events of a batch share
// slabs instead of growing a Fields slice each (~100 events a slab).
const fieldSlabLen = 1024

// lineParser is the reusable state of ParseLine.
type lineParser struct {
	p        fastjson.Parser
	name     []byte // the flattened name being built
	val      []byte // JSON text of a non-string value
	repaired []byte
	fields   []event.Field // extra fields of the current event
	slab     []event.Field
	interned map[string]string

	// The event being filled by addJSON.
	b                                *event.Batch
	e                                *event.Event
	haveTime, haveLevel, haveMessage bool
	haveTrace, haveIndex             bool
}

var lineParsers = sync.Pool{New: func() any {
	return &lineParser{interned: make(map[string]string)}
}}

func getLineParser() *lineParser  { return lineParsers.Get().(*lineParser) }
func putLineParser(p *lineParser) { p.b, p.e = nil, nil; lineParsers.Put(p) }

func (st *lineParser) addJSON(b *event.Batch, v *fastjson.Value, now int64, index string) {
	e := b.Add()
	st.b, st.e = b, e
	st.haveTime, st.haveLevel, st.haveMessage, st.haveTrace, st.haveIndex = false, false, false, false, false
	st.fields = st.fields[:0]
	st.name = st.name[:0]
	e.Level, e.Message, e.TraceID = "", "", ""
	st.walk(v.GetObject())
	if !st.haveTime {
		e.Time = now
	}
	if e.Index == "" {
		e.Index = index
	}
	e.Fields = st.takeFields(st.fields)
}

// walk flattens o's members into the event, each name prefixed by st.name.
func (st *lineParser) walk(o *fastjson.Object) {
	prefix := len(st.name)
	o.Visit(func(key []byte, v *fastjson.Value) {
		st.name = st.name[:prefix]
		if prefix > 0 {
			st.name = append(st.name, '.')
		}
		st.name = append(st.name, key...)
		switch v.Type() {
		case fastjson.TypeObject:
			st.walk(v.GetObject())
		case fastjson.TypeNull:
		case fastjson.TypeString:
			s, _ := v.StringBytes()
			st.set(s)
		case fastjson.TypeTrue:
			st.set(trueBytes)
		case fastjson.TypeFalse:
			st.set(falseBytes)
		default: // numbers and arrays: their JSON text
			st.val = v.MarshalTo(st.val[:0])
			st.set(st.val)
		}
	})
	st.name = st.name[:prefix]
}

var (
	trueBytes  = []byte("true")
	falseBytes = []byte("false")
)

// set stores the value of the field named st.name.
func (st *lineParser) set(val []byte) {
	if len(st.name) == 0 {
		return // a member named "": nothing to call it by
	}
	b, e := st.b, st.e
	switch event.CanonicalName(bytesView(st.name)) {
	case event.FieldTime:
		if st.haveTime {
			break
		}
		if t, ok := event.ParseTime(bytesView(val)); ok {
			e.Time, st.haveTime = t, true
			return
		}
		st.fields = append(st.fields, event.Field{Name: FieldTimestampRaw, Value: b.Str(val)})
		return
	case event.FieldLevel:
		if st.haveLevel {
			break
		}
		st.haveLevel = true
		if lv := event.NormalizeLevel(bytesView(val)); lv != "" {
			e.Level = lv
			return
		}
		st.fields = append(st.fields, event.Field{Name: FieldLevelRaw, Value: b.Str(val)})
		return
	case event.FieldMessage:
		if st.haveMessage {
			break
		}
		e.Message, st.haveMessage = b.Str(val), true
		return
	case event.FieldTraceID:
		if st.haveTrace {
			break
		}
		e.TraceID, st.haveTrace = b.Str(val), true
		return
	case event.FieldIndex:
		if st.haveIndex {
			break
		}
		e.Index, st.haveIndex = st.intern(val), true
		return
	}
	st.fields = append(st.fields, event.Field{Name: st.intern(st.name), Value: b.Str(val)})
}

// intern returns p as a string shared by every event with the same name.
func (st *lineParser) intern(p []byte) string {
	if s, ok := st.interned[string(p)]; ok { // no allocation: the compiler reuses p
		return s
	}
	if len(p) > maxInternedLen || len(st.interned) >= maxInternedNames {
		return st.b.Str(p)
	}
	s := string(p)
	st.interned[s] = s
	return s
}

// takeFields copies fs into the current slab and returns the copy, with its
// capacity cut so that an append by a later owner cannot overwrite the next
// event's fields.
func (st *lineParser) takeFields(fs []event.Field) []event.Field {
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

// bytesView returns p as a string without copying; the string must not
// outlive p's next change.
func bytesView(p []byte) string {
	return unsafe.String(unsafe.SliceData(p), len(p))
}

func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

func firstNonBlank(line []byte) byte {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return c
		}
	}
	return 0
}

// runeStart returns the largest cut <= n that does not split a UTF-8
// character of line (len(line) > n).
func runeStart(line []byte, n int) int {
	for i := n; i > 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(line[i]) {
			return i
		}
	}
	return n // not UTF-8 around the cut anyway: repair handles it
}

// appendValidUTF8 appends p to dst with every invalid byte replaced by
// U+FFFD.
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
