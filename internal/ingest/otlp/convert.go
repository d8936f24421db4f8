package otlp

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	logs "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/logcaster/logcaster/internal/event"
)

// Lengths of OTLP ids in bytes, as the specification fixes them.
const (
	traceIDLen = 16
	spanIDLen  = 8
)

// maxFlattenDepth bounds how deep nested key-value lists are flattened;
// deeper values are kept as their JSON text.
const maxFlattenDepth = 8

// converter turns an export request into batches.
type converter struct {
	opts     Options
	now      int64
	batches  []*event.Batch
	batch    *event.Batch
	fields   []event.Field // resource fields, then the record's
	accepted int
	rejected int

	firstError string
}

func (c *converter) convert(req *collogs.ExportLogsServiceRequest) {
	c.batch = &event.Batch{}
	for _, rl := range req.GetResourceLogs() {
		c.fields = c.fields[:0]
		index, service := "", ""
		for _, kv := range rl.GetResource().GetAttributes() {
			switch kv.GetKey() {
			case "service.name":
				service = kv.GetValue().GetStringValue()
				c.fields = append(c.fields, event.Field{Name: "service", Value: service})
			case "index":
				index = kv.GetValue().GetStringValue()
			default:
				c.appendAttr(kv.GetKey(), kv.GetValue(), 0)
			}
		}
		if index == "" {
			index = service
		}
		if index == "" {
			index = c.opts.DefaultIndex
		}
		nres := len(c.fields)
		for _, sl := range rl.GetScopeLogs() {
			scope := sl.GetScope().GetName()
			for _, lr := range sl.GetLogRecords() {
				c.fields = c.fields[:nres]
				if scope != "" {
					c.fields = append(c.fields, event.Field{Name: "scope.name", Value: scope})
				}
				c.record(lr, index)
			}
		}
	}
	if c.batch.Len() > 0 {
		c.batches = append(c.batches, c.batch)
	}
}

func (c *converter) record(lr *logs.LogRecord, index string) {
	tid, sid := lr.GetTraceId(), lr.GetSpanId()
	if (len(tid) != 0 && len(tid) != traceIDLen) || (len(sid) != 0 && len(sid) != spanIDLen) {
		c.reject("trace_id must be 16 bytes and span_id 8 bytes")
		return
	}
	if c.batch.Len() >= c.opts.BatchEvents {
		c.batches = append(c.batches, c.batch)
		c.batch = &event.Batch{}
	}
	b := c.batch
	e := b.Add()
	e.Time = c.now
	if t := lr.GetTimeUnixNano(); t != 0 && t <= math.MaxInt64 {
		e.Time = int64(t)
	} else if t := lr.GetObservedTimeUnixNano(); t != 0 && t <= math.MaxInt64 {
		e.Time = int64(t)
	}
	e.Index = index
	if len(tid) == traceIDLen && !allZero(tid) {
		e.TraceID = hex.EncodeToString(tid)
	}
	if len(sid) == spanIDLen && !allZero(sid) {
		c.fields = append(c.fields, event.Field{Name: "span_id", Value: hex.EncodeToString(sid)})
	}
	e.Level = event.NormalizeLevel(lr.GetSeverityText())
	if e.Level == "" {
		e.Level = levelOfNumber(lr.GetSeverityNumber())
		if st := lr.GetSeverityText(); st != "" {
			c.fields = append(c.fields, event.Field{Name: "level_raw", Value: st})
		}
	}
	if body := lr.GetBody(); body != nil {
		if s, ok := body.GetValue().(*common.AnyValue_StringValue); ok {
			e.Message = s.StringValue
		} else {
			e.Message = anyText(body)
		}
	}
	if name := lr.GetEventName(); name != "" {
		c.fields = append(c.fields, event.Field{Name: "event.name", Value: name})
	}
	for _, kv := range lr.GetAttributes() {
		if kv.GetKey() == "index" {
			if s := kv.GetValue().GetStringValue(); s != "" && len(s) <= maxIndexLen {
				e.Index = s
				continue
			}
		}
		c.appendAttr(kv.GetKey(), kv.GetValue(), 0)
	}
	e.Fields = append([]event.Field(nil), c.fields...)
	b.Bytes += len(e.Message)
	c.accepted++
}

// maxIndexLen bounds an index name taken from an attribute.
const maxIndexLen = 255

func (c *converter) reject(why string) {
	if c.rejected == 0 {
		c.firstError = why
	}
	c.rejected++
}

// appendAttr adds an attribute as a field; a key-value list is flattened
// into one field per member (key.member).
func (c *converter) appendAttr(key string, v *common.AnyValue, depth int) {
	if key == "" || v == nil || v.GetValue() == nil {
		return
	}
	if kvl, ok := v.GetValue().(*common.AnyValue_KvlistValue); ok && depth < maxFlattenDepth {
		for _, kv := range kvl.KvlistValue.GetValues() {
			c.appendAttr(key+"."+kv.GetKey(), kv.GetValue(), depth+1)
		}
		return
	}
	c.fields = append(c.fields, event.Field{Name: key, Value: anyText(v)})
}

// levelOfNumber maps OpenTelemetry's severity number ranges (1-4 TRACE,
// 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL).
func levelOfNumber(n logs.SeverityNumber) string {
	switch {
	case n <= 0 || n > 24:
		return ""
	case n <= 4:
		return event.LevelTrace
	case n <= 8:
		return event.LevelDebug
	case n <= 12:
		return event.LevelInfo
	case n <= 16:
		return event.LevelWarn
	case n <= 20:
		return event.LevelError
	}
	return event.LevelFatal
}

// anyText renders a value as a field holds it: strings as they are,
// scalars as their JSON text, bytes as base64, arrays and lists as JSON.
func anyText(v *common.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *common.AnyValue_StringValue:
		return x.StringValue
	case *common.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *common.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *common.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	case *common.AnyValue_BytesValue:
		return base64.StdEncoding.EncodeToString(x.BytesValue)
	}
	out, err := json.Marshal(anyJSON(v, 0))
	if err != nil {
		return ""
	}
	return string(out)
}

// anyJSON turns a value into what encoding/json renders as its JSON form.
func anyJSON(v *common.AnyValue, depth int) any {
	if depth > maxFlattenDepth {
		return nil
	}
	switch x := v.GetValue().(type) {
	case *common.AnyValue_StringValue:
		return x.StringValue
	case *common.AnyValue_BoolValue:
		return x.BoolValue
	case *common.AnyValue_IntValue:
		return x.IntValue
	case *common.AnyValue_DoubleValue:
		if math.IsNaN(x.DoubleValue) || math.IsInf(x.DoubleValue, 0) {
			return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
		}
		return x.DoubleValue
	case *common.AnyValue_BytesValue:
		return x.BytesValue
	case *common.AnyValue_ArrayValue:
		out := make([]any, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, anyJSON(e, depth+1))
		}
		return out
	case *common.AnyValue_KvlistValue:
		out := make(map[string]any, len(x.KvlistValue.GetValues()))
		for _, kv := range x.KvlistValue.GetValues() {
			out[kv.GetKey()] = anyJSON(kv.GetValue(), depth+1)
		}
		return out
	}
	return nil
}

func allZero(p []byte) bool {
	for _, c := range p {
		if c != 0 {
			return false
		}
	}
	return true
}

func jsonString(s string) string {
	out, _ := json.Marshal(s)
	return string(out)
}
