package loki

import (
	"errors"
	"fmt"
	"math"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// The protobuf push is Loki's logproto.PushRequest, snappy-compressed
// (block format). Field numbers, from Loki's push.proto:
//
//	PushRequest      { repeated StreamAdapter streams = 1; }
//	StreamAdapter    { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
//	EntryAdapter     { google.protobuf.Timestamp timestamp = 1; string line = 2;
//	                   repeated LabelPairAdapter structuredMetadata = 3; }
//	LabelPairAdapter { string name = 1; string value = 2; }
//	Timestamp        { int64 seconds = 1; int32 nanos = 2; }
//
// Unknown fields are skipped, as protobuf wants.

var errTruncated = errors.New("truncated or invalid protobuf")

// decodeProto decodes a snappy-compressed PushRequest into st.
func (st *pushState) decodeProto(body []byte, maxBytes int64) error {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return fmt.Errorf("snappy: %w", err)
	}
	if int64(n) > maxBytes {
		return errTooLarge
	}
	if cap(st.snappy) < n {
		st.snappy = make([]byte, n)
	}
	msg, err := snappy.Decode(st.snappy[:n], body)
	if err != nil {
		return fmt.Errorf("snappy: %w", err)
	}
	return st.decodePushRequest(msg)
}

func (st *pushState) decodePushRequest(msg []byte) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return errTruncated
		}
		msg = msg[n:]
		if num == 1 && typ == protowire.BytesType {
			stream, n := protowire.ConsumeBytes(msg)
			if n < 0 {
				return errTruncated
			}
			msg = msg[n:]
			if err := st.decodeStream(stream); err != nil {
				return err
			}
			continue
		}
		if n = protowire.ConsumeFieldValue(num, typ, msg); n < 0 {
			return errTruncated
		}
		msg = msg[n:]
	}
	return nil
}

// decodeStream reads the labels first (they may follow the entries on the
// wire), then the entries.
func (st *pushState) decodeStream(msg []byte) error {
	st.beginStream()
	haveLabels := false
	if err := eachField(msg, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num == 1 && typ == protowire.BytesType && !haveLabels {
			haveLabels = true
			var err error
			st.unq, err = parseLabels(v, st.unq, st.streamLabel)
			return err
		}
		return nil
	}); err != nil {
		return err
	}
	st.endStreamLabels()
	return eachField(msg, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num == 2 && typ == protowire.BytesType {
			return st.decodeEntry(v)
		}
		return nil
	})
}

func (st *pushState) decodeEntry(msg []byte) error {
	var ts int64
	var line, meta []byte
	haveLine := false
	err := eachField(msg, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			t, err := decodeTimestamp(v)
			if err != nil {
				return err
			}
			ts = t
		case num == 2 && typ == protowire.BytesType:
			line, haveLine = v, true
		case num == 3 && typ == protowire.BytesType && meta == nil:
			meta = msg // decoded below, once the event exists
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !haveLine {
		line = nil
	}
	e := st.addEntry(ts, line)
	if meta != nil {
		err = eachField(msg, func(num protowire.Number, typ protowire.Type, v []byte) error {
			if num != 3 || typ != protowire.BytesType {
				return nil
			}
			var name, value []byte
			err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				if typ == protowire.BytesType {
					switch num {
					case 1:
						name = v
					case 2:
						value = v
					}
				}
				return nil
			})
			if err == nil {
				st.entryMeta(e, name, value)
			}
			return err
		})
	}
	st.endEntry(e)
	return err
}

// Bounds of unix seconds whose nanoseconds fit an int64.
const (
	minUnixSeconds = math.MinInt64/1_000_000_000 + 1
	maxUnixSeconds = math.MaxInt64/1_000_000_000 - 1
)

// decodeTimestamp returns a google.protobuf.Timestamp in unix nanoseconds;
// 0 (arrival time) for the zero time.
func decodeTimestamp(msg []byte) (int64, error) {
	var secs, nanos int64
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return 0, errTruncated
		}
		msg = msg[n:]
		if typ == protowire.VarintType && (num == 1 || num == 2) {
			v, n := protowire.ConsumeVarint(msg)
			if n < 0 {
				return 0, errTruncated
			}
			msg = msg[n:]
			if num == 1 {
				secs = int64(v)
			} else {
				nanos = int64(int32(v))
			}
			continue
		}
		if n = protowire.ConsumeFieldValue(num, typ, msg); n < 0 {
			return 0, errTruncated
		}
		msg = msg[n:]
	}
	// Past the Timestamp type's own bounds, the time must fit int64
	// nanoseconds (years 1678 to 2262), the Event's clock.
	if secs < minUnixSeconds || secs > maxUnixSeconds || nanos < 0 || nanos > 999_999_999 {
		return 0, errors.New("timestamp out of range")
	}
	return secs*1e9 + nanos, nil
}

// eachField calls fn for every field of msg; v is the field's payload for
// length-delimited fields and nil for the others (which fn then ignores).
func eachField(msg []byte, fn func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return errTruncated
		}
		msg = msg[n:]
		var v []byte
		if typ == protowire.BytesType {
			v, n = protowire.ConsumeBytes(msg)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return errTruncated
		}
		msg = msg[n:]
		if err := fn(num, typ, v); err != nil {
			return err
		}
	}
	return nil
}
