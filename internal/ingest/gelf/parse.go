package gelf

import (
	"errors"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/logcaster/logcaster/internal/event"
)

// Errors of Parse; a message that has one adds no event.
var (
	ErrNotObject      = errors.New("gelf: message is not a JSON object")
	ErrNoShortMessage = errors.New("gelf: short_message missing or not a string")
)

// ParseOptions control Parse.
type ParseOptions struct {
	// DefaultIndex is the index of messages without an "_index" field;
	// "" means event.DefaultIndex.
	DefaultIndex string
	// Now is the arrival time (unix ns) of messages without a timestamp; 0
	// means time.Now() is not consulted and such events get 0, so callers
	// set it once per burst.
	Now int64
}

// Bounds of the per-parser name intern table: extra-field names repeat from
// message to message, so they are kept once; the bounds keep a sender that
// invents names from growing the table.
const (
	maxInternedNames = 4096
	maxInternedLen   = 64
)

// fieldSlabLen is how many Fields one slab holds: events of a batch share
// slabs instead of allocating a Fields slice each.
const fieldSlabLen = 1024

// Parser parses GELF messages; it keeps scratch space between calls, so
// one Parser serves one goroutine.
type Parser struct {
	p        fastjson.Parser
	name     []byte
	val      []byte
	repaired []byte
	fields   []event.Field
	slab     []event.Field
	interned map[string]string

	b                                *event.Batch
	e                                *event.Event
	haveTime, haveLevel, haveMessage bool
	haveTrace, haveIndex             bool
}

// NewParser returns a Parser.
func NewParser() *Parser { return &Parser{interned: make(map[string]string)} }

// Parse adds the GELF message msg (uncompressed JSON) to b as one event,
// or returns an error and adds nothing. Invalid UTF-8 is repaired (each
// bad byte becomes U+FFFD). Strings are copied into b's arena, so msg may
// be reused when Parse returns.
func (p *Parser) Parse(b *event.Batch, msg []byte, opts ParseOptions) error {
	if !utf8.Valid(msg) {
		p.repaired = appendValidUTF8(p.repaired[:0], msg)
		msg = p.repaired
	}
	v, err := p.p.ParseBytes(msg)
	if err != nil {
		return errors.Join(ErrNotObject, err)
	}
	o, err := v.Object()
	if err != nil {
		return ErrNotObject
	}
	if sm := o.Get("short_message"); sm == nil || sm.Type() != fastjson.TypeString {
		return ErrNoShortMessage
	}
	e := b.Add()
	p.b, p.e = b, e
	p.haveTime, p.haveLevel, p.haveMessage, p.haveTrace, p.haveIndex = false, false, false, false, false
	p.fields = p.fields[:0]
	e.Level, e.Message, e.TraceID = "", "", ""
	o.Visit(p.top)
	if !p.haveTime {
		e.Time = opts.Now
	}
	if !p.haveIndex {
		e.Index = opts.DefaultIndex
		if e.Index == "" {
			e.Index = event.DefaultIndex
		}
	}
	e.Fields = p.takeFields(p.fields)
	p.b, p.e = nil, nil
	return nil
}

// top handles one member of the message object.
func (p *Parser) top(key []byte, v *fastjson.Value) {
	e := p.e
	switch string(key) { // no allocation: the compiler compares in place
	case "version":
		return // always "1.1"; not worth a column
	case "short_message":
		if !p.haveMessage {
			s, _ := v.StringBytes()
			e.Message, p.haveMessage = p.b.Str(s), true
			return
		}
	case "timestamp":
		if !p.haveTime {
			p.setTime(v)
			return
		}
	case "level":
		if !p.haveLevel {
			p.setLevel(v)
			return
		}
	case "host":
		p.name = append(p.name[:0], FieldHost...)
		p.value(v)
		return
	}
	p.name = p.name[:0]
	if len(key) > 1 && key[0] == '_' {
		key = key[1:] // an additional field: its name without the underscore
	}
	p.name = append(p.name, key...)
	p.value(v)
}

// setTime reads GELF's timestamp: unix seconds, usually with a fraction.
func (p *Parser) setTime(v *fastjson.Value) {
	var raw []byte
	switch v.Type() {
	case fastjson.TypeNumber:
		p.val = v.MarshalTo(p.val[:0])
		raw = p.val
	case fastjson.TypeString:
		raw, _ = v.StringBytes()
	case fastjson.TypeNull:
		return
	default:
		p.val = v.MarshalTo(p.val[:0])
		raw = p.val
	}
	if t, ok := event.ParseTime(bytesView(raw)); ok {
		p.e.Time, p.haveTime = t, true
		return
	}
	// Exponent forms ("1.7e9") that some JSON encoders write for floats:
	// a float64 keeps them to the microsecond.
	if f, err := strconv.ParseFloat(bytesView(raw), 64); err == nil && f > 0 && f < maxEpochSeconds {
		p.e.Time, p.haveTime = int64(f*1e6)*1e3, true
		return
	}
	p.fields = append(p.fields, event.Field{Name: FieldTimestampRaw, Value: p.b.Str(raw)})
}

// maxEpochSeconds is the last second whose nanoseconds fit an int64 (2262).
const maxEpochSeconds = 9.2e9

// setLevel reads GELF's level: a syslog severity 0-7, or (from lenient
// senders) a level name.
func (p *Parser) setLevel(v *fastjson.Value) {
	var raw []byte
	switch v.Type() {
	case fastjson.TypeNull:
		return
	case fastjson.TypeString:
		raw, _ = v.StringBytes()
	default:
		p.val = v.MarshalTo(p.val[:0])
		raw = p.val
	}
	p.haveLevel = true
	if len(raw) == 1 && raw[0] >= '0' && raw[0] <= '7' {
		p.e.Level = severityLevels[raw[0]-'0']
		return
	}
	if lv := event.NormalizeLevel(bytesView(raw)); lv != "" {
		p.e.Level = lv
		return
	}
	p.fields = append(p.fields, event.Field{Name: FieldLevelRaw, Value: p.b.Str(raw)})
}

// value stores v under p.name, flattening objects with dots.
func (p *Parser) value(v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		prefix := len(p.name)
		o.Visit(func(key []byte, v *fastjson.Value) {
			p.name = append(p.name[:prefix], '.')
			p.name = append(p.name, key...)
			p.value(v)
		})
		p.name = p.name[:prefix]
	case fastjson.TypeNull:
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		p.set(s)
	case fastjson.TypeTrue:
		p.set(trueBytes)
	case fastjson.TypeFalse:
		p.set(falseBytes)
	default: // numbers and arrays: their JSON text
		p.val = v.MarshalTo(p.val[:0])
		p.set(p.val)
	}
}

var (
	trueBytes  = []byte("true")
	falseBytes = []byte("false")
)

// set stores val as the field named p.name; the first trace id and index
// fill the built-in fields.
func (p *Parser) set(val []byte) {
	if len(p.name) == 0 {
		return
	}
	switch event.CanonicalName(bytesView(p.name)) {
	case event.FieldTraceID:
		if !p.haveTrace {
			p.e.TraceID, p.haveTrace = p.b.Str(val), true
			return
		}
	case event.FieldIndex:
		if !p.haveIndex && len(val) > 0 {
			p.e.Index, p.haveIndex = p.intern(val), true
			return
		}
	}
	p.fields = append(p.fields, event.Field{Name: p.intern(p.name), Value: p.b.Str(val)})
}

// intern returns s as a string shared by every event that uses it.
func (p *Parser) intern(s []byte) string {
	if v, ok := p.interned[string(s)]; ok {
		return v
	}
	if len(s) > maxInternedLen || len(p.interned) >= maxInternedNames {
		return p.b.Str(s)
	}
	v := string(s)
	p.interned[v] = v
	return v
}

// takeFields copies fs into the current slab and returns the copy, capacity
// cut so that a later append cannot overwrite the next event's fields.
func (p *Parser) takeFields(fs []event.Field) []event.Field {
	if len(fs) == 0 {
		return nil
	}
	if cap(p.slab)-len(p.slab) < len(fs) {
		p.slab = make([]event.Field, 0, max(fieldSlabLen, len(fs)))
	}
	start := len(p.slab)
	p.slab = append(p.slab, fs...)
	return p.slab[start:len(p.slab):len(p.slab)]
}

// bytesView returns s as a string without copying; it must not outlive
// s's next change.
func bytesView(s []byte) string { return unsafe.String(unsafe.SliceData(s), len(s)) }

// appendValidUTF8 appends s to dst with every invalid byte replaced by
// U+FFFD.
func appendValidUTF8(dst, s []byte) []byte {
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, s[:n]...)
		}
		s = s[n:]
	}
	return dst
}
