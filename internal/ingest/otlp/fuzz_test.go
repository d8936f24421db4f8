package otlp

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

// FuzzExport posts arbitrary protobuf and JSON bodies: the handler must
// answer 200 or 400, never panic.
func FuzzExport(f *testing.F) {
	f.Add(true, []byte(jsonRequest))
	f.Add(true, []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"","body":{"arrayValue":{"values":[{"doubleValue":1.5}]}}}]}]}]}`))
	f.Add(false, []byte{0x0a, 0x06, 0x12, 0x04, 0x12, 0x02, 0x2a, 0x00})
	f.Add(false, []byte{})
	h := New(ingesttest.NewPipeline(f, ingesttest.Discard{}), DefaultOptions())
	f.Fuzz(func(t *testing.T, isJSON bool, body []byte) {
		r := httptest.NewRequest("POST", "/v1/logs", bytes.NewReader(body))
		if isJSON {
			r.Header.Set("Content-Type", "application/json")
		} else {
			r.Header.Set("Content-Type", "application/x-protobuf")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}
