package otlp

import (
	"encoding/base64"
	"encoding/hex"
	"errors"

	"github.com/valyala/fastjson"
	"google.golang.org/protobuf/encoding/protojson"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
)

// unmarshalJSON decodes the OTLP JSON encoding. It is protobuf's JSON
// mapping with one exception, which protojson does not know: traceId and
// spanId are hex, not base64. So the ids are rewritten to base64 first (a
// fastjson pass over the request), then protojson decodes the rest
// (camelCase or original field names, int64 as strings or numbers, enums as
// numbers or names).
func unmarshalJSON(body []byte, req *collogs.ExportLogsServiceRequest) error {
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	if err != nil {
		return err
	}
	var a fastjson.Arena
	for _, rl := range arrayOf(v, "resourceLogs", "resource_logs") {
		for _, sl := range arrayOf(rl, "scopeLogs", "scope_logs") {
			for _, lr := range arrayOf(sl, "logRecords", "log_records") {
				for _, key := range [...]string{"traceId", "trace_id", "spanId", "span_id"} {
					if err := hexToBase64(lr, key, &a); err != nil {
						return err
					}
				}
			}
		}
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(v.MarshalTo(nil), req)
}

func arrayOf(v *fastjson.Value, names ...string) []*fastjson.Value {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	for _, n := range names {
		if a := v.Get(n); a != nil && a.Type() == fastjson.TypeArray {
			return a.GetArray()
		}
	}
	return nil
}

func hexToBase64(o *fastjson.Value, key string, a *fastjson.Arena) error {
	if o.Type() != fastjson.TypeObject {
		return nil
	}
	idv := o.Get(key)
	if idv == nil {
		return nil
	}
	s, err := idv.StringBytes()
	if err != nil {
		return errors.New(key + " must be a hex string")
	}
	raw, err := hex.DecodeString(string(s))
	if err != nil {
		return errors.New(key + " must be a hex string")
	}
	o.Set(key, a.NewString(base64.StdEncoding.EncodeToString(raw)))
	return nil
}
