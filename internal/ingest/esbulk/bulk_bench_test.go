package esbulk

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

// benchBody is a bulk request of n documents as Filebeat sends them.
func benchBody(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"create":{"_index":"checkout-2026.11.22"}}`+"\n")
		fmt.Fprintf(&b, `{"@timestamp":"2026-11-22T10:%02d:%02d.%03dZ","log":{"level":"info","logger":"com.shop.Checkout"},"message":"order %d placed by user %d in 42 ms","service":{"name":"checkout"},"host":{"name":"web-3"},"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e%04d"},"http":{"request":{"method":"POST"},"response":{"status_code":200}}}`+"\n",
			i/60%60, i%60, i%1000, i, i*7, i%10000)
	}
	return b.Bytes()
}

// BenchmarkBulk posts 1000-document requests from 4 concurrent senders
// through the handler into a real pipeline with a discarding writer.
func BenchmarkBulk(b *testing.B) {
	const docs = 1000
	body := benchBody(docs)
	h := New(ingesttest.NewPipeline(b, ingesttest.Discard{}), DefaultOptions())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.SetParallelism((4 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/_bulk", bytes.NewReader(body))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 || bytes.Contains(w.Body.Bytes(), []byte(`"errors":true`)) {
				b.Fatalf("%d %s", w.Code, w.Body.String()[:200])
			}
		}
	})
	b.ReportMetric(float64(b.N*docs)/b.Elapsed().Seconds(), "events/s")
}
