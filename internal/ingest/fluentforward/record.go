package fluentforward

import (
	"strconv"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"

	"github.com/logcaster/logcaster/internal/event"
)

// record decodes one record map into a new event of time t and returns
// what follows it.
func (d *Decoder) record(p []byte, t int64) ([]byte, error) {
	if msgp.NextType(p) != msgp.MapType {
		return nil, ErrRecord
	}
	e := d.b.Add()
	d.e = e
	e.Time = t
	e.Level, e.Message, e.TraceID, e.Index = "", "", "", ""
	d.haveLevel, d.haveMessage, d.haveTrace, d.haveIndex = false, false, false, false
	d.fields = d.fields[:0]
	d.name = d.name[:0]
	rest, err := d.walkMap(p)
	if err != nil {
		return nil, err
	}
	if !d.haveIndex {
		e.Index = d.index
	}
	d.fields = append(d.fields, event.Field{Name: FieldTag, Value: d.tag})
	e.Fields = d.takeFields(d.fields)
	return rest, nil
}

// walkMap flattens the map at p into the event, each key prefixed by
// d.name, and returns what follows the map.
func (d *Decoder) walkMap(p []byte) ([]byte, error) {
	n, rest, err := msgp.ReadMapHeaderBytes(p)
	if err != nil {
		return nil, ErrRecord
	}
	prefix := len(d.name)
	for i := uint32(0); i < n; i++ {
		var key []byte
		if key, rest, err = readStr(rest); err != nil {
			// A non-string key (msgpack allows any): use its text.
			if rest, err = d.appendValue(d.val[:0], rest); err != nil {
				return nil, err
			}
			key = d.val
		}
		d.name = d.name[:prefix]
		if prefix > 0 {
			d.name = append(d.name, '.')
		}
		d.name = append(d.name, key...)
		if rest, err = d.value(rest); err != nil {
			return nil, err
		}
	}
	d.name = d.name[:prefix]
	return rest, nil
}

// value stores the value at p under d.name and returns what follows it.
func (d *Decoder) value(p []byte) ([]byte, error) {
	var (
		v    []byte
		rest []byte
		err  error
	)
	switch msgp.NextType(p) {
	case msgp.MapType:
		return d.walkMap(p)
	case msgp.StrType:
		v, rest, err = msgp.ReadStringZC(p)
	case msgp.BinType:
		v, rest, err = msgp.ReadBytesZC(p)
	case msgp.NilType:
		return msgp.ReadNilBytes(p)
	default: // numbers, booleans, arrays, extensions: their JSON text
		d.val, rest, err = d.appendJSON(d.val[:0], p)
		v = d.val
	}
	if err != nil {
		return nil, ErrRecord
	}
	d.set(v)
	return rest, nil
}

// set stores val as the field named d.name; the first message, level,
// trace id and index fill the built-in fields.
func (d *Decoder) set(val []byte) {
	if len(d.name) == 0 {
		return
	}
	b, e := d.b, d.e
	if !utf8.Valid(val) {
		d.val = appendValid(d.val[:0:0], val) // a fresh slice: val may be d.val
		val = d.val
	}
	switch event.CanonicalName(bytesView(d.name)) {
	case event.FieldMessage:
		if !d.haveMessage {
			if n := len(val); n > 0 && val[n-1] == '\n' { // Docker's log lines
				val = val[:n-1]
				if n > 1 && val[n-2] == '\r' {
					val = val[:n-2]
				}
			}
			e.Message, d.haveMessage = b.Str(val), true
			return
		}
	case event.FieldLevel:
		if !d.haveLevel {
			d.haveLevel = true
			if lv := event.NormalizeLevel(bytesView(val)); lv != "" {
				e.Level = lv
				return
			}
			d.fields = append(d.fields, event.Field{Name: FieldLevelRaw, Value: b.Str(val)})
			return
		}
	case event.FieldTraceID:
		if !d.haveTrace {
			e.TraceID, d.haveTrace = b.Str(val), true
			return
		}
	case event.FieldIndex:
		if !d.haveIndex && len(val) > 0 {
			e.Index, d.haveIndex = d.internStr(val), true
			return
		}
	}
	d.fields = append(d.fields, event.Field{Name: d.internStr(d.name), Value: b.Str(val)})
}

// appendJSON appends the JSON text of the msgpack value at p (a number,
// boolean, array or map; an extension becomes null) and returns what
// follows it.
func (d *Decoder) appendJSON(dst, p []byte) ([]byte, []byte, error) {
	var err error
	switch msgp.NextType(p) {
	case msgp.IntType:
		var i int64
		if i, p, err = msgp.ReadInt64Bytes(p); err == nil {
			dst = strconv.AppendInt(dst, i, 10)
		}
	case msgp.UintType:
		var u uint64
		if u, p, err = msgp.ReadUint64Bytes(p); err == nil {
			dst = strconv.AppendUint(dst, u, 10)
		}
	case msgp.Float32Type:
		var f float32
		if f, p, err = msgp.ReadFloat32Bytes(p); err == nil {
			dst = strconv.AppendFloat(dst, float64(f), 'g', -1, 32)
		}
	case msgp.Float64Type:
		var f float64
		if f, p, err = msgp.ReadFloat64Bytes(p); err == nil {
			dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
		}
	case msgp.BoolType:
		var v bool
		if v, p, err = msgp.ReadBoolBytes(p); err == nil {
			dst = strconv.AppendBool(dst, v)
		}
	case msgp.NilType:
		p, err = msgp.ReadNilBytes(p)
		dst = append(dst, "null"...)
	case msgp.StrType, msgp.BinType:
		var s []byte
		if s, p, err = readStr(p); err == nil {
			dst = appendQuoted(dst, s)
		}
	case msgp.ArrayType:
		var n uint32
		if n, p, err = msgp.ReadArrayHeaderBytes(p); err != nil {
			break
		}
		dst = append(dst, '[')
		for i := uint32(0); i < n && err == nil; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst, p, err = d.appendJSON(dst, p)
		}
		dst = append(dst, ']')
	case msgp.MapType:
		var n uint32
		if n, p, err = msgp.ReadMapHeaderBytes(p); err != nil {
			break
		}
		dst = append(dst, '{')
		for i := uint32(0); i < n && err == nil; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			var k []byte
			if k, p, err = readStr(p); err != nil {
				break
			}
			dst = appendQuoted(dst, k)
			dst = append(dst, ':')
			dst, p, err = d.appendJSON(dst, p)
		}
		dst = append(dst, '}')
	default: // extensions (EventTime in a record, ...): no JSON form
		p, err = msgp.Skip(p)
		dst = append(dst, "null"...)
	}
	if err != nil {
		return dst, nil, ErrRecord
	}
	return dst, p, nil
}

// appendValue appends the text of a scalar map key.
func (d *Decoder) appendValue(dst, p []byte) ([]byte, error) {
	out, rest, err := d.appendJSON(dst, p)
	d.val = out
	return rest, err
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string.
func appendQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// takeFields copies fs into the current slab and returns the copy, capacity
// cut so that a later append cannot overwrite the next event's fields.
func (d *Decoder) takeFields(fs []event.Field) []event.Field {
	if len(fs) == 0 {
		return nil
	}
	if cap(d.slab)-len(d.slab) < len(fs) {
		d.slab = make([]event.Field, 0, max(fieldSlabLen, len(fs)))
	}
	start := len(d.slab)
	d.slab = append(d.slab, fs...)
	return d.slab[start:len(d.slab):len(d.slab)]
}
