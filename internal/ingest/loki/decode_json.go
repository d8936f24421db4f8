package loki

import (
	"errors"
	"strconv"

	"github.com/valyala/fastjson"
)

// The JSON push, as Loki documents it:
//
//	{"streams": [{"stream": {"label": "value", ...},
//	              "values": [["<unix ns as a string>", "<line>", {"meta": "value"}?], ...]}]}

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
	values, err := s.Get("values").Array()
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
