package esbulk

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

// TestGoClientBulkIndexer sends with the official Go client's BulkIndexer,
// which first checks GET / (product header, version) and then posts _bulk,
// reading every item's status.
func TestGoClientBulkIndexer(t *testing.T) {
	rec := &ingesttest.Recorder{}
	srv := httptest.NewServer(New(ingesttest.NewPipeline(t, rec), DefaultOptions()))
	defer srv.Close()

	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := es.Info()
	if err != nil || info.IsError() {
		t.Fatalf("info: %v %v", err, info)
	}
	info.Body.Close()

	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: "payment-2026.11.22", FlushBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var ok, failed atomic.Int64
	for i := range n {
		doc := fmt.Sprintf(`{"@timestamp":"2026-11-22T10:00:%02d.5Z","log.level":"ERROR","message":"결제 실패: 카드 한도 초과 #%d","service":{"name":"payment"},"trace.id":"4bf92f3577b34da6a3ce929d0e0e%04d"}`, i%60, i, i)
		err := bi.Add(context.Background(), esutil.BulkIndexerItem{
			Action: "create",
			Body:   strings.NewReader(doc),
			OnSuccess: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem) {
				if res.Status == 201 && res.Result == "created" && res.DocumentID != "" {
					ok.Add(1)
				}
			},
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
				failed.Add(1)
				t.Errorf("item failed: %v %+v", err, res)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// One bad document, answered as a per-item failure.
	bi.Add(context.Background(), esutil.BulkIndexerItem{
		Action: "index", Body: strings.NewReader(`[1,2]`),
		OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, _ error) {
			if res.Status == 400 && res.Error.Type == "document_parsing_exception" {
				failed.Add(1000)
			}
		},
	})
	if err := bi.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := bi.Stats()
	if ok.Load() != n || failed.Load() != 1000 || st.NumFlushed != n || st.NumFailed != 1 {
		t.Fatalf("ok %d failed %d stats %+v", ok.Load(), failed.Load(), st)
	}
	evs := rec.Events()
	if len(evs) != n {
		t.Fatalf("stored %d, want %d", len(evs), n)
	}
	for _, e := range evs {
		var i int
		if _, err := fmt.Sscanf(e.Message, "결제 실패: 카드 한도 초과 #%d", &i); err != nil {
			t.Fatalf("message %q", e.Message)
		}
		wantTime := ingesttest.MustTime(t, fmt.Sprintf("2026-11-22T10:00:%02d.5Z", i%60))
		if e.Time != wantTime || e.Index != "payment" || e.Level != event.LevelError ||
			e.TraceID != fmt.Sprintf("4bf92f3577b34da6a3ce929d0e0e%04d", i) || ingesttest.Field(e, "service") != "payment" {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
}
