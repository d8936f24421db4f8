package loki

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/klauspost/compress/snappy"

	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

// BenchmarkPushProto posts 1000-entry snappy protobuf pushes (10 streams of
// 100 entries, as Promtail batches them) from 4 concurrent senders through
// the handler into a real pipeline with a discarding writer.
func BenchmarkPushProto(b *testing.B) {
	const streams, perStream = 10, 100
	var msg []byte
	for s := range streams {
		var entries [][]byte
		for i := range perStream {
			entries = append(entries, pbEntry(1795341600+int64(i), int64(s), fmt.Sprintf(
				`level=info ts=2026-11-22T10:00:%02dZ caller=checkout.go:42 msg="order %d placed" user=%d duration=42ms`, i%60, i, i*7),
				"trace_id", fmt.Sprintf("4bf92f3577b34da6a3ce929d0e0e%04d", i)))
		}
		msg = append(msg, pbPush(fmt.Sprintf(`{service_name="checkout-%d", env="prod", host="web-3", level="info"}`, s), entries...)...)
	}
	body := snappy.Encode(nil, msg)
	h := New(ingesttest.NewPipeline(b, ingesttest.Discard{}), DefaultOptions())
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.SetParallelism((4 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/loki/api/v1/push", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/x-protobuf")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 204 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N*streams*perStream)/b.Elapsed().Seconds(), "events/s")
}
