package issues

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Journal payloads come in two encodings, told apart by their first byte:
//
//	'{'   a JSON journalRecord (projects and status changes, which are rare,
//	      and every record written before the binary encoding existed)
//	0x01  recEvent: one error event, encoded by appendEventRecord
//
// # recEvent
//
// After the tag byte, with uvarint lengths and counts and strings as a
// uvarint length then the bytes:
//
//	time        varint, unix ns (the event's timestamp text is derived from it)
//	strings     event_id, project, level, message, trace_id, release,
//	            environment, server_name, platform, user_id, user_ip, logger
//	fingerprint uvarint count, then each string
//	tags        uvarint count, then key and value strings
//	exceptions  uvarint count, then each: type, value, module strings,
//	            uvarint frame count, then per frame: module, function,
//	            file strings, varint line, one byte in_app (0 or 1)
//	extra       optional, only when the event has extra: uvarint count,
//	            then key and value strings
//
// extra came after the other sections, so a record ends after the
// exceptions when the event has no extra and in every record written
// before it existed; the decoder reads it only when bytes remain. (A
// record cut exactly there decodes as the event without its extra; the
// journal's CRC is what catches a cut record.)
//
// The event record is written for every error event, at thousands a
// second; encoding/json spent ~5 µs and 2 KiB of garbage on each, appending
// spends a fraction of that and no allocation.
const recEvent = 0x01

// maxRecordCount bounds a count field when decoding: more than this is
// damage (a record is at most maxRecordBytes long anyway).
const maxRecordCount = 1 << 20

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendEventRecord appends the recEvent encoding of e to dst.
func appendEventRecord(dst []byte, e *ErrorEvent) []byte {
	dst = append(dst, recEvent)
	dst = binary.AppendVarint(dst, e.Time)
	for _, s := range [...]string{e.EventID, e.Project, e.Level, e.Message, e.TraceID, e.Release,
		e.Environment, e.ServerName, e.Platform, e.UserID, e.UserIP, e.Logger} {
		dst = appendStr(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Fingerprint)))
	for _, s := range e.Fingerprint {
		dst = appendStr(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Tags)))
	for k, v := range e.Tags {
		dst = appendStr(dst, k)
		dst = appendStr(dst, v)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Exceptions)))
	for i := range e.Exceptions {
		ex := &e.Exceptions[i]
		dst = appendStr(dst, ex.Type)
		dst = appendStr(dst, ex.Value)
		dst = appendStr(dst, ex.Module)
		dst = binary.AppendUvarint(dst, uint64(len(ex.Frames)))
		for k := range ex.Frames {
			f := &ex.Frames[k]
			dst = appendStr(dst, f.Module)
			dst = appendStr(dst, f.Function)
			dst = appendStr(dst, f.File)
			dst = binary.AppendVarint(dst, int64(f.Line))
			in := byte(0)
			if f.InApp {
				in = 1
			}
			dst = append(dst, in)
		}
	}
	if len(e.Extra) > 0 {
		dst = binary.AppendUvarint(dst, uint64(len(e.Extra)))
		for k, v := range e.Extra {
			dst = appendStr(dst, k)
			dst = appendStr(dst, v)
		}
	}
	return dst
}

var errShortRecord = errors.New("event record ends early")

// recordReader decodes a recEvent payload; the first error sticks.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) count() int {
	n := r.uvarint()
	if n > maxRecordCount || n > uint64(len(r.b)) {
		if r.err == nil {
			r.err = fmt.Errorf("event record: count %d past its end", n)
		}
		return 0
	}
	return int(n)
}

func (r *recordReader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = errShortRecord
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// decodeEventRecord reads a payload written by appendEventRecord.
func decodeEventRecord(p []byte) (*ErrorEvent, error) {
	if len(p) == 0 || p[0] != recEvent {
		return nil, errors.New("not an event record")
	}
	r := recordReader{b: p[1:]}
	e := &ErrorEvent{}
	e.Time = r.varint()
	for _, dst := range [...]*string{&e.EventID, &e.Project, &e.Level, &e.Message, &e.TraceID, &e.Release,
		&e.Environment, &e.ServerName, &e.Platform, &e.UserID, &e.UserIP, &e.Logger} {
		*dst = r.str()
	}
	if n := r.count(); n > 0 {
		e.Fingerprint = make([]string, n)
		for i := range e.Fingerprint {
			e.Fingerprint[i] = r.str()
		}
	}
	if n := r.count(); n > 0 {
		e.Tags = make(map[string]string, n)
		for i := 0; i < n; i++ {
			k := r.str()
			e.Tags[k] = r.str()
		}
	}
	if n := r.count(); n > 0 {
		e.Exceptions = make([]Exception, n)
		for i := range e.Exceptions {
			ex := &e.Exceptions[i]
			ex.Type, ex.Value, ex.Module = r.str(), r.str(), r.str()
			if nf := r.count(); nf > 0 {
				ex.Frames = make([]Frame, nf)
				for k := range ex.Frames {
					f := &ex.Frames[k]
					f.Module, f.Function, f.File = r.str(), r.str(), r.str()
					f.Line = int(r.varint())
					if r.err == nil {
						if len(r.b) == 0 {
							r.err = errShortRecord
						} else {
							f.InApp, r.b = r.b[0] == 1, r.b[1:]
						}
					}
				}
			}
		}
	}
	if r.err == nil && len(r.b) > 0 {
		n := r.count()
		if n == 0 && r.err == nil {
			// The encoder writes the section only for extra; an empty
			// one is damage.
			r.err = errors.New("event record: empty extra section")
		}
		if n > 0 {
			e.Extra = make(map[string]string, n)
			for i := 0; i < n; i++ {
				k := r.str()
				e.Extra[k] = r.str()
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("event record: %d bytes past its end", len(r.b))
	}
	e.Timestamp = formatNs(e.Time)
	return e, nil
}
