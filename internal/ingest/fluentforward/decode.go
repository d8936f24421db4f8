package fluentforward

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf8"
	"unsafe"

	"github.com/klauspost/compress/gzip"
	"github.com/tinylib/msgp/msgp"

	"github.com/logcaster/logcaster/internal/event"
)

// Errors of Decode: the frame is valid msgpack but not a Forward message.
var (
	ErrMode   = errors.New("fluent forward: frame is not [tag, time, record] or [tag, entries, option]")
	ErrTime   = errors.New("fluent forward: event time is not an integer, float or EventTime")
	ErrRecord = errors.New("fluent forward: record is not a map")
	// ErrTooLarge is returned when compressed entries inflate past the
	// limit.
	ErrTooLarge = errors.New("fluent forward: compressed entries larger than the limit")
)

// Bounds of the per-decoder name intern table (record keys repeat from
// event to event; the bounds stop a sender inventing keys from growing it).
const (
	maxInternedNames = 4096
	maxInternedLen   = 64
	fieldSlabLen     = 1024
)

// eventTimeExt is the msgpack extension type of Fluentd's EventTime.
const eventTimeExt = 0

// Options of the frame that the decoder reports.
type frameOptions struct {
	chunk      []byte // the ack id; a view of the frame
	compressed bool
}

// Decoder turns Forward frames into events; it keeps scratch space
// between calls, so one Decoder serves one goroutine.
type Decoder struct {
	// DefaultIndex is the index when neither the record nor the tag names
	// one (an empty tag); "" means event.DefaultIndex.
	DefaultIndex string
	// MaxInflated bounds what compressed entries inflate to.
	MaxInflated int

	name     []byte
	val      []byte
	fields   []event.Field
	slab     []event.Field
	interned map[string]string
	gz       *gzip.Reader
	inflated []byte
	src      bytes.Reader

	b                                 *event.Batch
	e                                 *event.Event
	haveLevel, haveMessage, haveTrace bool
	haveIndex                         bool
	tag, index                        string
}

// NewDecoder returns a Decoder whose compressed entries inflate to at most
// maxInflated bytes.
func NewDecoder(maxInflated int) *Decoder {
	return &Decoder{MaxInflated: maxInflated, interned: make(map[string]string)}
}

// Decode adds the events of one complete frame to b and returns the frame's
// chunk option (nil when the sender wants no ack; a view of frame). On an
// error b is left as it was. now is the time of events whose time is 0.
func (d *Decoder) Decode(b *event.Batch, frame []byte, now int64) (chunk []byte, err error) {
	n0 := len(b.Events)
	d.b = b
	chunk, err = d.decode(frame, now)
	d.b, d.e = nil, nil
	if err != nil {
		b.Events = b.Events[:n0]
		return nil, err
	}
	return chunk, nil
}

func (d *Decoder) decode(frame []byte, now int64) ([]byte, error) {
	n, rest, err := msgp.ReadArrayHeaderBytes(frame)
	if err != nil || n < 2 || n > 4 {
		return nil, ErrMode
	}
	tag, rest, err := readStr(rest)
	if err != nil {
		return nil, ErrMode
	}
	d.setTag(tag)
	var opts frameOptions
	switch msgp.NextType(rest) {
	case msgp.ArrayType: // Forward: [[time, record], ...]
		var k uint32
		k, rest, err = msgp.ReadArrayHeaderBytes(rest)
		if err != nil {
			return nil, ErrMode
		}
		for i := uint32(0); i < k; i++ {
			if rest, err = d.entry(rest, now); err != nil {
				return nil, err
			}
		}
		if n == 3 {
			if opts, err = readOptions(rest); err != nil {
				return nil, err
			}
		} else if n != 2 {
			return nil, ErrMode
		}
	case msgp.StrType, msgp.BinType: // PackedForward, maybe compressed
		var entries []byte
		if msgp.NextType(rest) == msgp.StrType {
			entries, rest, err = msgp.ReadStringZC(rest)
		} else {
			entries, rest, err = msgp.ReadBytesZC(rest)
		}
		if err != nil {
			return nil, ErrMode
		}
		if n == 3 {
			if opts, err = readOptions(rest); err != nil {
				return nil, err
			}
		} else if n != 2 {
			return nil, ErrMode
		}
		if opts.compressed {
			if entries, err = d.inflate(entries); err != nil {
				return nil, err
			}
		}
		for len(entries) > 0 {
			if entries, err = d.entry(entries, now); err != nil {
				return nil, err
			}
		}
	default: // Message: time, record
		if n < 3 {
			return nil, ErrMode
		}
		t, rest2, err := readTime(rest, now)
		if err != nil {
			return nil, err
		}
		if rest, err = d.record(rest2, t); err != nil {
			return nil, err
		}
		if n == 4 {
			if opts, err = readOptions(rest); err != nil {
				return nil, err
			}
		}
	}
	return opts.chunk, nil
}

// setTag keeps the tag for the frame's events: as the field fluent_tag and
// its first part as their default index.
func (d *Decoder) setTag(tag []byte) {
	d.tag = d.internStr(tag)
	first := tag
	if i := bytes.IndexByte(tag, '.'); i >= 0 {
		first = tag[:i]
	}
	switch {
	case len(first) > 0:
		d.index = d.internStr(first)
	case d.DefaultIndex != "":
		d.index = d.DefaultIndex
	default:
		d.index = event.DefaultIndex
	}
}

// entry decodes one [time, record] and returns what follows it.
func (d *Decoder) entry(p []byte, now int64) ([]byte, error) {
	n, rest, err := msgp.ReadArrayHeaderBytes(p)
	if err != nil || n != 2 {
		return nil, ErrMode
	}
	t, rest, err := readTime(rest, now)
	if err != nil {
		return nil, err
	}
	return d.record(rest, t)
}

// readOptions reads the option map; unknown keys are skipped.
func readOptions(p []byte) (frameOptions, error) {
	var o frameOptions
	if msgp.NextType(p) == msgp.NilType {
		return o, nil
	}
	n, rest, err := msgp.ReadMapHeaderBytes(p)
	if err != nil {
		return o, fmt.Errorf("fluent forward: option is not a map: %w", ErrMode)
	}
	for i := uint32(0); i < n; i++ {
		var key, val []byte
		if key, rest, err = readStr(rest); err != nil {
			return o, ErrMode
		}
		switch string(key) {
		case "chunk":
			if val, rest, err = readStr(rest); err != nil {
				return o, fmt.Errorf("fluent forward: chunk option is not a string: %w", ErrMode)
			}
			o.chunk = val
		case "compressed":
			if val, rest, err = readStr(rest); err != nil {
				return o, ErrMode
			}
			if string(val) != "gzip" && string(val) != "text" {
				return o, fmt.Errorf("fluent forward: unknown compression %q: %w", val, ErrMode)
			}
			o.compressed = string(val) == "gzip"
		default: // size (a count the frame itself tells), fluent_signal, ...
			if rest, err = msgp.Skip(rest); err != nil {
				return o, ErrMode
			}
		}
	}
	return o, nil
}

// readTime reads an event time: EventTime (ext 0, as fixext8 or ext8:
// big-endian seconds and nanoseconds), integer seconds or float seconds.
// A time of 0 means the sender had none: now.
func readTime(p []byte, now int64) (int64, []byte, error) {
	switch {
	case len(p) >= 10 && p[0] == 0xd7 && p[1] == eventTimeExt:
		sec, nsec := binary.BigEndian.Uint32(p[2:]), binary.BigEndian.Uint32(p[6:])
		return orNow(int64(sec)*1e9+int64(nsec), now), p[10:], nil
	case len(p) >= 11 && p[0] == 0xc7 && p[1] == 8 && p[2] == eventTimeExt:
		sec, nsec := binary.BigEndian.Uint32(p[3:]), binary.BigEndian.Uint32(p[7:])
		return orNow(int64(sec)*1e9+int64(nsec), now), p[11:], nil
	}
	switch msgp.NextType(p) {
	case msgp.IntType, msgp.UintType:
		sec, rest, err := msgp.ReadInt64Bytes(p)
		if err != nil || sec < 0 || sec > math.MaxInt64/int64(1e9) {
			return 0, nil, ErrTime
		}
		return orNow(sec*1e9, now), rest, nil
	case msgp.Float64Type, msgp.Float32Type:
		f, rest, err := msgp.ReadFloat64Bytes(p)
		if err != nil || !(f >= 0 && f < math.MaxInt64/1e9) {
			return 0, nil, ErrTime
		}
		// Rounded to the microsecond: a float64 holds no more of a
		// present-day time, and this keeps 0.1 s from reading 0.0999999.
		return orNow(int64(math.Round(f*1e6))*1e3, now), rest, nil
	}
	return 0, nil, ErrTime
}

func orNow(t, now int64) int64 {
	if t == 0 {
		return now
	}
	return t
}

// readStr reads a str or bin (older Fluentd versions send raw strings as
// bin) without copying.
func readStr(p []byte) ([]byte, []byte, error) {
	if msgp.NextType(p) == msgp.BinType {
		return msgp.ReadBytesZC(p)
	}
	return msgp.ReadStringZC(p)
}

// inflate gunzips compressed entries (one or more concatenated gzip
// members, as Fluent Bit appends them) into d's buffer, at most
// MaxInflated bytes.
func (d *Decoder) inflate(p []byte) ([]byte, error) {
	d.src.Reset(p)
	if d.gz == nil {
		gz, err := gzip.NewReader(&d.src)
		if err != nil {
			return nil, fmt.Errorf("fluent forward gzip: %w", err)
		}
		d.gz = gz
	} else if err := d.gz.Reset(&d.src); err != nil {
		return nil, fmt.Errorf("fluent forward gzip: %w", err)
	}
	out := d.inflated[:0]
	limit := d.MaxInflated
	for {
		if len(out) == cap(out) {
			grown := make([]byte, len(out), min(max(2*cap(out), 4<<10), limit+1))
			out = grown[:copy(grown, out)]
		}
		n, err := d.gz.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if len(out) > limit {
			d.inflated = out[:0]
			return nil, ErrTooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			d.inflated = out[:0]
			return nil, fmt.Errorf("fluent forward gzip: %w", err)
		}
	}
	d.inflated = out
	return out, nil
}

// internStr returns s as a string shared by every use of it.
func (d *Decoder) internStr(s []byte) string {
	if v, ok := d.interned[string(s)]; ok {
		return v
	}
	if len(s) > maxInternedLen || len(d.interned) >= maxInternedNames {
		return string(s) // rare: a tag or key this long is not worth keeping
	}
	v := string(s)
	d.interned[v] = v
	return v
}

// bytesView returns s as a string without copying; it must not outlive
// s's next change.
func bytesView(s []byte) string { return unsafe.String(unsafe.SliceData(s), len(s)) }

// appendValid appends s to dst with invalid UTF-8 bytes replaced by U+FFFD.
func appendValid(dst, s []byte) []byte {
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
