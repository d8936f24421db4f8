package query

import (
	"strings"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/valyala/fastjson"
)

// pipeUnpackJSON is `| unpack_json [from field]`: a field (the message by
// default) holding a JSON object becomes fields, nested objects flattened
// with dots as at ingest ({"req":{"ms":12}} gives req.ms=12). Strings are
// unquoted, numbers keep their text, true/false are words, arrays stay JSON
// text, null sets nothing. Unpacked fields replace fields of the same name.
// A value that is not a JSON object leaves the row as it was.
type pipeUnpackJSON struct{ from string }

func (*pipeUnpackJSON) rowLocal() {}

func (p *pipeUnpackJSON) String() string {
	if p.from == event.FieldMessage {
		return "unpack_json"
	}
	return "unpack_json from " + quoteValue(p.from)
}

// maxUnpackDepth bounds the nesting flattened; deeper objects stay JSON
// text, so a hostile value cannot make the names grow without bound.
const maxUnpackDepth = 16

func (p *pipeUnpackJSON) run(_ *runCtx, rows []*Row) ([]*Row, error) {
	var jp fastjson.Parser
	var name []byte
	for _, r := range rows {
		v, ok := r.Get(p.from)
		if !ok {
			continue
		}
		s := strings.TrimSpace(v)
		if len(s) < 2 || s[0] != '{' {
			continue
		}
		doc, err := jp.Parse(s)
		if err != nil {
			continue
		}
		obj, err := doc.Object()
		if err != nil {
			continue
		}
		// The parser's values die with the next Parse: string() copies.
		name = unpackObject(r, obj, name[:0], 0)
	}
	return rows, nil
}

// unpackObject sets the row's fields from obj, names prefixed by prefix.
func unpackObject(r *Row, obj *fastjson.Object, prefix []byte, depth int) []byte {
	obj.Visit(func(k []byte, v *fastjson.Value) {
		n := len(prefix)
		if n > 0 {
			prefix = append(prefix, '.')
		}
		prefix = append(prefix, k...)
		switch v.Type() {
		case fastjson.TypeObject:
			if depth < maxUnpackDepth {
				o, _ := v.Object()
				prefix = unpackObject(r, o, prefix, depth+1)
			} else {
				r.set(string(prefix), string(v.MarshalTo(nil)))
			}
		case fastjson.TypeString:
			r.set(string(prefix), string(v.GetStringBytes()))
		case fastjson.TypeNull:
		default: // numbers as written, true, false, arrays as JSON
			r.set(string(prefix), string(v.MarshalTo(nil)))
		}
		prefix = prefix[:n]
	})
	return prefix
}
