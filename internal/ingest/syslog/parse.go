package syslog

import (
	"bytes"
	"errors"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/logcaster/logcaster/internal/event"
)

// Errors Parse returns. Each means the message departed from the RFCs and
// was still stored, as leniently as it could be; callers count them.
var (
	// ErrBadTimestamp: a timestamp that could not be read; it is kept in
	// the field timestamp_raw and the event has the arrival time.
	ErrBadTimestamp = errors.New("syslog: bad timestamp")
	// ErrBadStructuredData: RFC 5424 structured data that does not parse;
	// the message is everything from the structured data on.
	ErrBadStructuredData = errors.New("syslog: bad structured data")
)

// ParseOptions control Parse.
type ParseOptions struct {
	// DefaultIndex is the index of every event; "" means the APP-NAME (or
	// RFC 3164 TAG) of the message, and event.DefaultIndex when it has none.
	DefaultIndex string
	// Location is the time zone of RFC 3164 timestamps, which carry none;
	// nil means UTC.
	Location *time.Location
	// Now is the arrival time (unix ns): the time of messages without a
	// timestamp and the reference for RFC 3164's missing year. 0 means
	// time.Now() per message; listeners set it once per burst.
	Now int64
	// KeepEscapes keeps sender escapes (#012, a literal \n) as sent instead
	// of turning them into newlines.
	KeepEscapes bool
}

// DefaultParseOptions returns the options the listener uses by default.
func DefaultParseOptions() ParseOptions { return ParseOptions{} }

// Parse parses one syslog message into a new event of b; see
// Parser.Parse. It takes a Parser from a pool.
func Parse(b *event.Batch, msg []byte, opts ParseOptions) error {
	p := parserPool.Get().(*Parser)
	err := p.Parse(b, msg, opts)
	parserPool.Put(p)
	return err
}

var parserPool = sync.Pool{New: func() any { return NewParser() }}

// Bounds of the field-name intern table: structured-data names repeat from
// message to message, so each is kept once; the bounds keep a sender that
// invents names from growing the table without end.
const (
	maxInternedNames = 4096
	maxInternedLen   = 96
)

// fieldSlabLen is how many Fields one slab holds: events share slabs
// instead of allocating a Fields slice each (~150 events of 7 fields).
const fieldSlabLen = 1024

// Parser holds the reusable state of parsing; one Parser must not be used
// by two goroutines at once. The zero value is not ready: use NewParser.
type Parser struct {
	scratch  []byte // unescaped values and messages
	repaired []byte // the message with invalid UTF-8 replaced
	name     []byte // a structured-data field name being built
	fields   []event.Field
	sd       []event.Field // structured-data fields of the current message
	trace    string        // the trace id found in structured data
	slab     []event.Field
	interned map[string]string
}

// NewParser returns a Parser.
func NewParser() *Parser { return &Parser{interned: make(map[string]string)} }

// header is what a message's header said, as slices of the message.
type header struct {
	pri                          int // -1: none
	time                         int64
	hasTime                      bool
	rawTime                      []byte // a timestamp that did not parse
	host, app, procID, msgID, sd []byte
	text                         []byte
}

// Parse parses one syslog message into a new event of b. Trailing LF, CR
// and NUL (framing leftovers) are removed, and a message that is then empty
// adds nothing. It reads:
//
//   - RFC 5424: <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
//     STRUCTURED-DATA MSG, any field "-" (absent), a BOM before MSG dropped.
//     Structured data becomes fields sd.<id>.<param> (escapes \" \\ \]
//     undone); a param named trace_id, traceId, trace-id (and the other
//     spellings of event.CanonicalName) in any element is the trace id.
//   - RFC 3164: <PRI>TIMESTAMP HOSTNAME TAG[PID]: MSG, where TIMESTAMP is
//     "Mmm dd hh:mm:ss" with optional fractional seconds and an optional
//     year before or after the time, or RFC 3339; HOSTNAME may be missing
//     and so may the timestamp (Python's SysLogHandler sends "<PRI>TAG: MSG").
//     A timestamp without a year gets the year that puts it at most a day
//     after opts.Now.
//   - Anything else (no PRI) is a plain message whose level is guessed
//     from its words.
//
// PRI gives the field facility and the level; APP-NAME or TAG the field
// service (and the index when opts.DefaultIndex is ""); HOSTNAME host;
// PROCID pid; MSGID msgid. Unless opts.KeepEscapes, "#012" (rsyslog's
// escape of LF), "#011" (tab) and a literal "\n" in the message become
// real newlines and tabs. Invalid UTF-8 is repaired (each bad byte becomes
// U+FFFD).
//
// A message that breaks the RFCs is still stored and Parse returns
// ErrBadTimestamp or ErrBadStructuredData. Strings are copied into b's
// arena, so msg may be reused once Parse returns.
func (p *Parser) Parse(b *event.Batch, msg []byte, opts ParseOptions) error {
	msg = trimTrailer(msg)
	if len(msg) == 0 {
		return nil
	}
	if !utf8.Valid(msg) {
		p.repaired = appendValidUTF8(p.repaired[:0], msg)
		msg = p.repaired
	}
	now := opts.Now
	if now == 0 {
		now = time.Now().UnixNano()
	}
	p.sd, p.trace = p.sd[:0], ""
	h := header{pri: -1}
	var err error
	pri, rest, ok := parsePRI(msg)
	switch {
	case !ok:
		h.text = msg
	case is5424(rest):
		h.pri = pri
		err = p.parse5424(b, &h, rest)
	default:
		h.pri = pri
		err = parse3164(&h, rest, now, opts.Location)
	}
	return p.fill(b, &h, now, opts, err)
}

// fill adds the event h describes.
func (p *Parser) fill(b *event.Batch, h *header, now int64, opts ParseOptions, err error) error {
	e := b.Add()
	e.Time = now
	if h.hasTime {
		e.Time = h.time
	}
	text := h.text
	if len(text) >= 3 && text[0] == 0xEF && text[1] == 0xBB && text[2] == 0xBF {
		text = text[3:] // RFC 5424's BOM says "UTF-8", which we assume anyway
	}
	if !opts.KeepEscapes && hasEscape(text) {
		p.scratch = unescapeMessage(p.scratch[:0], text)
		text = p.scratch
	}
	e.Message = b.Str(text)
	fields := p.fields[:0]
	if h.pri >= 0 {
		e.Level = severityLevels[h.pri&7]
		fields = append(fields, event.Field{Name: FieldFacility, Value: facilityNames[h.pri>>3]})
	} else {
		e.Level = event.DetectLevel(e.Message)
	}
	service := ""
	if len(h.app) > 0 {
		service = b.Str(h.app)
		fields = append(fields, event.Field{Name: FieldService, Value: service})
	}
	switch {
	case opts.DefaultIndex != "":
		e.Index = opts.DefaultIndex
	case service != "":
		e.Index = service
	default:
		e.Index = event.DefaultIndex
	}
	if len(h.host) > 0 {
		fields = append(fields, event.Field{Name: FieldHost, Value: b.Str(h.host)})
	}
	if len(h.procID) > 0 {
		fields = append(fields, event.Field{Name: FieldPID, Value: b.Str(h.procID)})
	}
	if len(h.msgID) > 0 {
		fields = append(fields, event.Field{Name: FieldMsgID, Value: b.Str(h.msgID)})
	}
	if h.rawTime != nil {
		fields = append(fields, event.Field{Name: FieldTimestampRaw, Value: b.Str(h.rawTime)})
	}
	fields = append(fields, p.sd...)
	e.TraceID = p.trace
	p.fields = fields
	e.Fields = p.takeFields(fields)
	return err
}

// parsePRI reads "<PRI>" at the start of msg and returns the rest.
func parsePRI(msg []byte) (pri int, rest []byte, ok bool) {
	if len(msg) < 3 || msg[0] != '<' {
		return 0, msg, false
	}
	i := 1
	for ; i < len(msg) && i <= 4 && isDigit(msg[i]); i++ {
		pri = pri*10 + int(msg[i]-'0')
	}
	// 1 to 3 digits, no leading zero but "<0>" itself (RFC 5424 6.2.1).
	if i == 1 || i > 4 || i >= len(msg) || msg[i] != '>' || pri > maxPRI || (msg[1] == '0' && i > 2) {
		return 0, msg, false
	}
	return pri, msg[i+1:], true
}

// is5424 reports whether rest (after PRI) opens like RFC 5424: a version
// number, a space, and a NILVALUE or a date-like timestamp. "<14>1 apple"
// is then a 3164-style message, not a 5424 one with a bad timestamp.
func is5424(rest []byte) bool {
	i := 0
	for ; i < len(rest) && i < 3 && isDigit(rest[i]); i++ {
	}
	if i == 0 || rest[0] == '0' || i >= len(rest) || rest[i] != ' ' {
		return false
	}
	ts := rest[i+1:]
	if len(ts) >= 1 && ts[0] == '-' && (len(ts) == 1 || ts[1] == ' ') {
		return true
	}
	return len(ts) >= 5 && isDigit(ts[0]) && isDigit(ts[1]) && isDigit(ts[2]) && isDigit(ts[3]) && ts[4] == '-'
}

// parse5424 reads the RFC 5424 header after PRI. A message cut short in
// the header keeps the fields it has.
func (p *Parser) parse5424(b *event.Batch, h *header, rest []byte) error {
	_, rest = token(rest) // VERSION
	var ts []byte
	ts, rest = token(rest)
	var err error
	if !isNil(ts) {
		if t, ok := event.ParseTime(bytesView(ts)); ok {
			h.time, h.hasTime = t, true
		} else {
			h.rawTime = ts
			err = ErrBadTimestamp
		}
	}
	h.host, rest = nilToken(rest)
	h.app, rest = nilToken(rest)
	h.procID, rest = nilToken(rest)
	h.msgID, rest = nilToken(rest)
	switch {
	case len(rest) == 0:
	case rest[0] == '-' && (len(rest) == 1 || rest[1] == ' '):
		if len(rest) > 1 {
			h.text = rest[2:]
		}
	case rest[0] == '[':
		after, ok := p.parseSD(b, rest)
		if !ok {
			p.sd, p.trace = p.sd[:0], ""
			h.text = rest
			err = ErrBadStructuredData
			break
		}
		if len(after) > 0 && after[0] == ' ' {
			after = after[1:]
		}
		h.text = after
	default:
		// No structured data at all (some senders leave it out): the rest
		// is the message.
		h.text = rest
	}
	return err
}

// token returns the text up to the next space and the text after it.
func token(s []byte) (tok, rest []byte) {
	if i := bytes.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, nil
}

// nilToken is token with the NILVALUE "-" read as absent.
func nilToken(s []byte) (tok, rest []byte) {
	tok, rest = token(s)
	if isNil(tok) {
		tok = nil
	}
	return tok, rest
}

func isNil(tok []byte) bool { return len(tok) == 0 || len(tok) == 1 && tok[0] == '-' }

// parseSD reads one or more SD-ELEMENTs ("[id name="value" ...]") from s,
// appending their params to p.sd, and returns what follows them.
func (p *Parser) parseSD(b *event.Batch, s []byte) (rest []byte, ok bool) {
	for len(s) > 0 && s[0] == '[' {
		i := 1
		for i < len(s) && s[i] != ' ' && s[i] != ']' && s[i] != '=' && s[i] != '"' {
			i++
		}
		id := s[1:i]
		if len(id) == 0 || i >= len(s) || s[i] == '=' || s[i] == '"' {
			return nil, false
		}
		s = s[i:]
		for {
			if len(s) == 0 {
				return nil, false
			}
			if s[0] == ']' {
				s = s[1:]
				break
			}
			if s[0] != ' ' {
				return nil, false
			}
			s = s[1:]
			j := 0
			for j < len(s) && s[j] != '=' && s[j] != ' ' && s[j] != ']' && s[j] != '"' {
				j++
			}
			if j == 0 || j+1 >= len(s) || s[j] != '=' || s[j+1] != '"' {
				return nil, false
			}
			param := s[:j]
			s = s[j+2:]
			// The value runs to the first '"' not escaped by a backslash.
			k, escaped := 0, false
			for ; k < len(s) && s[k] != '"'; k++ {
				if s[k] == '\\' && k+1 < len(s) {
					escaped = true
					k++
				}
			}
			if k >= len(s) {
				return nil, false
			}
			value := s[:k]
			if escaped {
				p.scratch = unescapeSDValue(p.scratch[:0], value)
				value = p.scratch
			}
			if p.trace == "" && isTraceParam(param) {
				// Kept once, as the trace id, not also as an sd field.
				p.trace = b.Str(value)
			} else {
				p.name = append(append(append(append(p.name[:0], sdPrefix...), id...), '.'), param...)
				p.sd = append(p.sd, event.Field{Name: p.intern(b, p.name), Value: b.Str(value)})
			}
			s = s[k+1:]
		}
	}
	return s, true
}

// isTraceParam reports whether an SD param names a trace id.
func isTraceParam(param []byte) bool {
	name := bytesView(param)
	return name == "trace-id" || event.CanonicalName(name) == event.FieldTraceID
}

// intern returns name as a string shared by every event with that name.
func (p *Parser) intern(b *event.Batch, name []byte) string {
	if s, ok := p.interned[string(name)]; ok { // no allocation: the compiler reuses name
		return s
	}
	if len(name) > maxInternedLen || len(p.interned) >= maxInternedNames {
		return b.Str(name)
	}
	s := string(name)
	p.interned[s] = s
	return s
}

// takeFields copies fs into the current slab and returns the copy, its
// capacity cut so that an append by a later owner cannot overwrite the
// next event's fields.
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
