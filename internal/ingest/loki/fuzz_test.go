package loki

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

// FuzzPushJSON and FuzzPushProto post arbitrary bodies: the handler must
// answer 204, 400 or 413, never panic.
func FuzzPushJSON(f *testing.F) {
	for _, s := range []string{
		`{"streams":[{"stream":{"app":"a","level":"info"},"values":[["1","x",{"trace_id":"t"}]]}]}`,
		`{"streams":[{"labels":"{app=\"a\"}","entries":[{"ts":"2026-01-01T00:00:00Z","line":"x"}]}]}`,
		`{"streams":[{"stream":{}}]}`, `{"streams":[1,null]}`, `[]`,
	} {
		f.Add(s)
	}
	h := New(ingesttest.NewPipeline(f, ingesttest.Discard{}), DefaultOptions())
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/loki/api/v1/push", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 204 && w.Code != 400 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

func FuzzPushProto(f *testing.F) {
	f.Add(pbPush(`{app="a", level="warn"}`, pbEntry(1795341600, 5, "x", "trace_id", "t"), pbEntry(0, 0, "")))
	f.Add(pbPush(`{a="\u00e9"}`))
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00})
	opts := DefaultOptions()
	opts.MaxBodyBytes = 1 << 20
	h := New(ingesttest.NewPipeline(f, ingesttest.Discard{}), opts)
	f.Fuzz(func(t *testing.T, msg []byte) {
		r := httptest.NewRequest("POST", "/loki/api/v1/push", strings.NewReader(string(snappy.Encode(nil, msg))))
		r.Header.Set("Content-Type", "application/x-protobuf")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 204 && w.Code != 400 && w.Code != 413 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}
