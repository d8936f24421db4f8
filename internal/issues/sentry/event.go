package sentry

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/logcaster/logcaster/internal/issues"
)

// ParseEvent decodes the part of a Sentry event payload LogCaster uses into
// an error event of project; now is the time used when the event carries
// none.
//
// It reads the payload with fastjson and picks the few fields it needs
// instead of decoding into structs with encoding/json: with an SDK's
// contexts, modules and frames, the reflection decoder was a third of the
// endpoint's CPU. Fields the SDKs send in more than one shape are read in
// each: message as a string or {formatted, message}, exception as an array
// or {"values": [...]}, timestamps as RFC 3339 or float seconds, tags as an
// object or [key, value] pairs, user.id as a string or a number. A field of
// an unexpected type is ignored rather than failing the event. The extra
// object (Sentry's "Additional Data") is kept within the bounds below:
// strings as themselves, other values as their compact JSON text.
//
// Every string of the result lives in one allocation sized to them (not to
// the payload), because the tracker keeps recent events for a long time.
func ParseEvent(payload []byte, project string, now time.Time) (*issues.ErrorEvent, error) {
	p := parserPool.Get()
	defer parserPool.Put(p)
	v, err := p.ParseBytes(payload)
	if err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, errors.New("decode event: not a JSON object")
	}
	var c strCollector
	e := &issues.ErrorEvent{Project: project}
	c.add(&e.EventID, v.Get("event_id"))
	c.add(&e.Release, v.Get("release"))
	c.add(&e.Environment, v.Get("environment"))
	c.add(&e.ServerName, v.Get("server_name"))
	c.add(&e.Platform, v.Get("platform"))
	c.add(&e.Logger, v.Get("logger"))
	c.add(&e.TraceID, v.Get("contexts", "trace", "trace_id"))
	var level []byte
	if lv := v.Get("level"); lv != nil && lv.Type() == fastjson.TypeString {
		level = lv.GetStringBytes()
	}
	if m := v.Get("message"); m != nil {
		switch m.Type() {
		case fastjson.TypeString:
			c.add(&e.Message, m)
		case fastjson.TypeObject:
			c.addLogEntry(&e.Message, m)
		}
	}
	if e.Message == "" && c.pendingFor(&e.Message) == 0 {
		if le := v.Get("logentry"); le != nil && le.Type() == fastjson.TypeObject {
			c.addLogEntry(&e.Message, le)
		}
	}
	if u := v.Get("user"); u != nil && u.Type() == fastjson.TypeObject {
		c.addRaw(&e.UserID, u.Get("id"))
		c.add(&e.UserIP, u.Get("ip_address"))
	}
	if fp := v.Get("fingerprint"); fp != nil && fp.Type() == fastjson.TypeArray {
		parts, _ := fp.Array()
		e.Fingerprint = make([]string, len(parts))
		for i, part := range parts {
			c.addRaw(&e.Fingerprint[i], part)
		}
	}
	tagKeys, tagVals := c.addTags(v.Get("tags"))
	extraKeys, extraVals := c.addExtra(v.Get("extra"))
	if ex := v.Get("exception"); ex != nil {
		if ex.Type() == fastjson.TypeObject {
			ex = ex.Get("values")
		}
		if ex != nil && ex.Type() == fastjson.TypeArray {
			e.Exceptions = c.addExceptions(ex)
		}
	}
	e.Time = timestampOf(v.Get("timestamp"), now)
	c.finish()
	e.Level = normLevel(level)
	if strings.IndexByte(e.EventID, '-') >= 0 {
		e.EventID = strings.ReplaceAll(e.EventID, "-", "")
	}
	if e.EventID == "" {
		e.EventID = newID()
	}
	e.Timestamp = time.Unix(0, e.Time).UTC().Format(time.RFC3339Nano)
	if len(tagKeys) > 0 {
		e.Tags = make(map[string]string, len(tagKeys))
		for i := range tagKeys {
			e.Tags[tagKeys[i]] = tagVals[i]
		}
	}
	if len(extraKeys) > 0 {
		e.Extra = make(map[string]string, len(extraKeys))
		for i := range extraKeys {
			e.Extra[extraKeys[i]] = extraVals[i]
		}
	}
	return e, nil
}

// Bounds of an event's extra. It is free-form (an SDK sends whatever the
// application attached to its scope), and the tracker keeps an issue's last
// events in memory and writes each to its journal, so one event's extra is
// held to about maxExtraKeys*(maxExtraKeyLen+maxExtraValueLen), 1.6 MiB,
// well under the journal's 16 MiB record. Nothing past a bound fails the
// event: the rest is dropped or cut.
const (
	// maxExtraKeys: entries past the first 100 (in the payload's order)
	// are dropped; more than that is a dump, not something read on a page.
	maxExtraKeys = 100
	// maxExtraKeyLen: a key is a name; a longer one is cut (unmarked) to
	// 256 bytes, at a UTF-8 boundary.
	maxExtraKeyLen = 256
	// maxExtraValueLen: a longer value (a string, or the JSON text of an
	// object) is cut at a UTF-8 boundary and ends in extraCutMark, the
	// whole at most 16 KiB, enough for a request body or a state object.
	maxExtraValueLen = 16 << 10
)

// extraCutMark ends an extra value that was cut to maxExtraValueLen.
const extraCutMark = "…"

var parserPool fastjson.ParserPool

// strCollector gathers the strings of one event as views into the parser's
// buffer (which is reused for the next payload), then copies them all into
// one slab: an event costs one string allocation instead of one a field.
type strCollector struct {
	dst  []*string
	src  [][]byte
	size int
	// Tags are collected into slices and made a map after finish, since a
	// map value has no address to fill in later. Extra likewise.
	tagK, tagV     []string
	extraK, extraV []string
	// raw holds the text made for extra (non-string values' JSON, cut
	// values): one buffer grown for all of them rather than one allocation
	// a value. A grown buffer leaves the views into the old one intact.
	raw []byte
}

// add queues v's text when v is a string; other types leave dst empty.
func (c *strCollector) add(dst *string, v *fastjson.Value) {
	if v == nil || v.Type() != fastjson.TypeString {
		return
	}
	c.addBytes(dst, v.GetStringBytes())
}

// addRaw queues a string's text, or a number's, bool's or object's JSON
// text; null is empty.
func (c *strCollector) addRaw(dst *string, v *fastjson.Value) {
	if v == nil {
		return
	}
	switch v.Type() {
	case fastjson.TypeString:
		c.addBytes(dst, v.GetStringBytes())
	case fastjson.TypeNull:
	default:
		c.addBytes(dst, v.MarshalTo(nil))
	}
}

func (c *strCollector) addBytes(dst *string, b []byte) {
	if len(b) == 0 {
		return
	}
	c.dst = append(c.dst, dst)
	c.src = append(c.src, b)
	c.size += len(b)
}

// pendingFor reports the queued length for dst (0: none queued).
func (c *strCollector) pendingFor(dst *string) int {
	for i := len(c.dst) - 1; i >= 0; i-- {
		if c.dst[i] == dst {
			return len(c.src[i])
		}
	}
	return 0
}

// addLogEntry queues {"formatted", "message"}: formatted if set, else message.
func (c *strCollector) addLogEntry(dst *string, v *fastjson.Value) {
	if f := v.Get("formatted"); f != nil && f.Type() == fastjson.TypeString && len(f.GetStringBytes()) > 0 {
		c.add(dst, f)
		return
	}
	c.add(dst, v.Get("message"))
}

// addTags queues tags given as an object or as [key, value] pairs; the
// returned slices are filled by finish.
func (c *strCollector) addTags(v *fastjson.Value) (keys, vals []string) {
	if v == nil {
		return nil, nil
	}
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		n := o.Len()
		if n == 0 {
			return nil, nil
		}
		c.tagK, c.tagV = make([]string, n), make([]string, n)
		i := 0
		o.Visit(func(k []byte, tv *fastjson.Value) {
			c.addBytes(&c.tagK[i], k)
			c.addRaw(&c.tagV[i], tv)
			i++
		})
	case fastjson.TypeArray:
		pairs, _ := v.Array()
		for _, p := range pairs {
			if kv, err := p.Array(); err == nil && len(kv) == 2 {
				c.tagK = append(c.tagK, "")
				c.tagV = append(c.tagV, "")
			}
		}
		i := 0
		for _, p := range pairs {
			if kv, err := p.Array(); err == nil && len(kv) == 2 {
				c.addRaw(&c.tagK[i], kv[0])
				c.addRaw(&c.tagV[i], kv[1])
				i++
			}
		}
	}
	return c.tagK, c.tagV
}

// addExtra queues the extra object's first maxExtraKeys entries: a string
// as its text, any other value (null too) as its compact JSON text, keys
// and values cut to their bounds; the returned slices are filled by
// finish. Extra of another type than an object is ignored.
func (c *strCollector) addExtra(v *fastjson.Value) (keys, vals []string) {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil, nil
	}
	o, _ := v.Object()
	n := min(o.Len(), maxExtraKeys)
	if n == 0 {
		return nil, nil
	}
	c.extraK, c.extraV = make([]string, n), make([]string, n)
	i := 0
	o.Visit(func(k []byte, ev *fastjson.Value) {
		if i == n {
			return
		}
		c.addBytes(&c.extraK[i], k[:cutAt(k, maxExtraKeyLen)])
		start := len(c.raw)
		if ev.Type() == fastjson.TypeString {
			s := ev.GetStringBytes()
			if len(s) <= maxExtraValueLen {
				c.addBytes(&c.extraV[i], s)
				i++
				return
			}
			c.raw = append(c.raw, s[:cutAt(s, maxExtraValueLen-len(extraCutMark))]...)
			c.raw = append(c.raw, extraCutMark...)
		} else {
			c.raw = ev.MarshalTo(c.raw)
			if len(c.raw)-start > maxExtraValueLen {
				b := c.raw[start:]
				c.raw = append(c.raw[:start+cutAt(b, maxExtraValueLen-len(extraCutMark))], extraCutMark...)
			}
		}
		c.addBytes(&c.extraV[i], c.raw[start:])
		i++
	})
	return c.extraK, c.extraV
}

// cutAt is the length of b's longest prefix of at most n bytes that does
// not end inside a UTF-8 sequence.
func cutAt(b []byte, n int) int {
	if len(b) <= n {
		return len(b)
	}
	for i := 0; i < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(b[n]); i++ {
		n--
	}
	return n
}

// addExceptions queues a list of Sentry exceptions with their frames.
func (c *strCollector) addExceptions(v *fastjson.Value) []issues.Exception {
	list, _ := v.Array()
	n := 0
	for _, x := range list {
		if x.Type() == fastjson.TypeObject {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]issues.Exception, 0, n)
	for _, x := range list {
		if x.Type() != fastjson.TypeObject {
			continue
		}
		out = append(out, issues.Exception{})
		ex := &out[len(out)-1]
		c.add(&ex.Type, x.Get("type"))
		c.add(&ex.Value, x.Get("value"))
		c.add(&ex.Module, x.Get("module"))
		fv := x.Get("stacktrace", "frames")
		if fv == nil || fv.Type() != fastjson.TypeArray {
			continue
		}
		frames, _ := fv.Array()
		ex.Frames = make([]issues.Frame, 0, len(frames))
		for _, f := range frames {
			if f.Type() != fastjson.TypeObject {
				continue
			}
			ex.Frames = append(ex.Frames, issues.Frame{})
			fr := &ex.Frames[len(ex.Frames)-1]
			c.add(&fr.Function, f.Get("function"))
			if !c.addNonEmpty(&fr.Module, f.Get("module")) {
				c.add(&fr.Module, f.Get("package"))
			}
			if !c.addNonEmpty(&fr.File, f.Get("filename")) {
				c.add(&fr.File, f.Get("abs_path"))
			}
			if ln := f.Get("lineno"); ln != nil && ln.Type() == fastjson.TypeNumber {
				fr.Line, _ = ln.Int()
			}
			fr.InApp = f.GetBool("in_app")
		}
	}
	return out
}

// addNonEmpty queues v if it is a non-empty string and says whether it did.
func (c *strCollector) addNonEmpty(dst *string, v *fastjson.Value) bool {
	if v == nil || v.Type() != fastjson.TypeString || len(v.GetStringBytes()) == 0 {
		return false
	}
	c.addBytes(dst, v.GetStringBytes())
	return true
}

// finish copies every queued string into one slab and points the
// destinations at it.
func (c *strCollector) finish() {
	if c.size == 0 {
		return
	}
	slab := make([]byte, 0, c.size)
	for i, b := range c.src {
		start := len(slab)
		slab = append(slab, b...)
		*c.dst[i] = unsafe.String(&slab[start], len(b))
	}
}

// timestampOf reads RFC 3339 strings (with or without a zone; none is
// UTC) and float seconds, as a number or a string.
func timestampOf(v *fastjson.Value, now time.Time) int64 {
	if v == nil {
		return now.UnixNano()
	}
	var s []byte
	switch v.Type() {
	case fastjson.TypeString:
		s = v.GetStringBytes()
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
			if t, err := time.Parse(layout, unsafe.String(unsafe.SliceData(s), len(s))); err == nil {
				return t.UnixNano()
			}
		}
	case fastjson.TypeNumber:
		s = v.MarshalTo(nil)
	default:
		return now.UnixNano()
	}
	if ns, ok := secondsToNs(string(s)); ok {
		return ns
	}
	return now.UnixNano()
}

// rawText is a JSON value as a string: a string's text, other values'
// JSON text, null empty. The result does not share the parser's memory.
func rawText(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeNull:
		return ""
	}
	return string(v.MarshalTo(nil))
}

// secondsToNs reads "1763800000.25" exactly: a float64 would round the
// nanoseconds (1763800000.25 * 1e9 is ...249999872).
func secondsToNs(s string) (int64, bool) {
	intPart, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || sec <= 0 || sec >= 1e11 {
		return 0, false
	}
	var ns int64
	for i, scale := 0, int64(1e8); i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if scale > 0 {
			ns += int64(c-'0') * scale
			scale /= 10
		}
	}
	return sec*1e9 + ns, true
}

// normLevel maps Sentry's levels (debug, info, warning, error, fatal) to
// the lower-case form issues show; "" is error, as in Sentry. The usual
// levels return constants, so a level costs no allocation.
func normLevel(b []byte) string {
	for _, l := range [...]string{"error", "fatal", "warning", "info", "debug"} {
		if string(b) == l {
			return l
		}
	}
	s := strings.ToLower(string(b))
	switch s {
	case "":
		return "error"
	case "warn":
		return "warning"
	}
	return s
}
