package loki

import (
	"errors"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/logcaster/logcaster/internal/event"
)

// The JSON push, as Loki documents it:
//
//	{"streams": [{"stream": {"label": "value", ...},
//	              "values": [["<unix ns as a string>", "<line>", {"meta": "value"}?], ...]}]}
//
// and the older form Loki still accepts, which clients that JSON-encode
// logproto's Go types send (loki-client-go's EncodeJson):
//
//	{"streams": [{"labels": "{label=\"value\"}",
//	              "entries": [{"ts": "<RFC 3339>", "line": "<line>", "structuredMetadata": [{"name": "n", "value": "v"}]?}]}]}

// decodeJSON decodes a JSON PushRequest into st.
func (st *pushState) decodeJSON(body []byte) error {
	v, err := st.p.ParseBytes(body)
	if err != nil {
		return err
	}
	streams := v.Get("streams")
	if streams == nil {
		return errors.New(`no "streams" array`)
	}
	arr, err := streams.Array()
	if err != nil {
		return errors.New(`"streams" must be an array`)
	}
	for _, s := range arr {
		if err := st.decodeJSONStream(s); err != nil {
			return err
		}
	}
	return nil
}

func (st *pushState) decodeJSONStream(s *fastjson.Value) error {
	st.beginStream()
	if s.Type() != fastjson.TypeObject {
		return errors.New("each stream must be an object")
	}
	if lv := s.Get("labels"); lv != nil {
		return st.decodeLegacyStream(s, lv)
	}
	if lv := s.Get("stream"); lv != nil {
		labels, err := lv.Object()
		if err != nil {
			return errors.New(`"stream" must be an object of labels`)
		}
		var lerr error
		labels.Visit(func(k []byte, v *fastjson.Value) {
			sv, err := v.StringBytes()
			if err != nil {
				lerr = errors.New("label " + strconv.Quote(string(k)) + " must be a string")
				return
			}
			st.streamLabel(k, sv)
		})
		if lerr != nil {
			return lerr
		}
	}
	st.endStreamLabels()
	vv := s.Get("values")
	if vv == nil {
		return errors.New(`a stream needs "values"`)
	}
	values, err := vv.Array()
	if err != nil {
		return errors.New(`"values" must be an array`)
	}
	for _, ev := range values {
		entry, err := ev.Array()
		if err != nil || len(entry) < 2 || len(entry) > 3 {
			return errors.New(`each value must be ["<unix ns>", "<line>"] or ["<unix ns>", "<line>", {metadata}]`)
		}
		tsText, err := entry[0].StringBytes()
		if err != nil {
			return errors.New("the timestamp must be a string of unix nanoseconds")
		}
		ts, err := strconv.ParseInt(bytesView(tsText), 10, 64)
		if err != nil || ts < 0 {
			return errors.New("bad timestamp " + strconv.Quote(string(tsText)) + ": want unix nanoseconds")
		}
		line, err := entry[1].StringBytes()
		if err != nil {
			return errors.New("the line must be a string")
		}
		e := st.addEntry(ts, line)
		if len(entry) == 3 {
			meta, err := entry[2].Object()
			if err != nil {
				return errors.New("structured metadata must be an object")
			}
			var merr error
			meta.Visit(func(k []byte, v *fastjson.Value) {
				sv, err := v.StringBytes()
				if err != nil {
					merr = errors.New("structured metadata " + strconv.Quote(string(k)) + " must be a string")
					return
				}
				st.entryMeta(e, k, sv)
			})
			if merr != nil {
				return merr
			}
		}
		st.endEntry(e)
	}
	return nil
}

func (st *pushState) decodeLegacyStream(s, labels *fastjson.Value) error {
	text, err := labels.StringBytes()
	if err != nil {
		return errors.New(`"labels" must be a string`)
	}
	if st.unq, err = parseLabels(text, st.unq, st.streamLabel); err != nil {
		return err
	}
	st.endStreamLabels()
	ev := s.Get("entries")
	if ev == nil {
		return errors.New(`a stream needs "entries"`)
	}
	entries, err := ev.Array()
	if err != nil {
		return errors.New(`"entries" must be an array`)
	}
	for _, en := range entries {
		if en.Type() != fastjson.TypeObject {
			return errors.New("each entry must be an object")
		}
		var ts int64
		if tv := en.Get("ts"); tv != nil {
			tsText, err := tv.StringBytes()
			if err != nil {
				return errors.New(`"ts" must be an RFC 3339 string`)
			}
			var ok bool
			if ts, ok = event.ParseTime(bytesView(tsText)); !ok {
				return errors.New("bad timestamp " + strconv.Quote(string(tsText)))
			}
		}
		var line []byte
		if lv := en.Get("line"); lv != nil {
			if line, err = lv.StringBytes(); err != nil {
				return errors.New(`"line" must be a string`)
			}
		}
		e := st.addEntry(ts, line)
		// Structured metadata: logproto marshals it as an object of
		// strings; a list of {"name","value"} pairs is taken too.
		if mv := en.Get("structuredMetadata"); mv != nil {
			switch mv.Type() {
			case fastjson.TypeObject:
				mv.GetObject().Visit(func(k []byte, v *fastjson.Value) {
					if sv, err := v.StringBytes(); err == nil {
						st.entryMeta(e, k, sv)
					}
				})
			case fastjson.TypeArray:
				for _, p := range mv.GetArray() {
					st.entryMeta(e, p.GetStringBytes("name"), p.GetStringBytes("value"))
				}
			default:
				return errors.New(`"structuredMetadata" must be an object`)
			}
		}
		st.endEntry(e)
	}
	return nil
}
