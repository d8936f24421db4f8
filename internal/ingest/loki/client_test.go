package loki

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	lokiclient "github.com/grafana/loki-client-go/loki"
	"github.com/grafana/loki/pkg/push"
	"github.com/prometheus/common/model"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

// TestLokiClient sends with grafana/loki-client-go (protobuf + snappy, as
// Promtail does) and with its JSON encoding.
func TestLokiClient(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", asJSON), func(t *testing.T) {
			rec := &ingesttest.Recorder{}
			srv := httptest.NewServer(New(ingesttest.NewPipeline(t, rec), DefaultOptions()))
			defer srv.Close()
			cfg, err := lokiclient.NewDefaultConfig(srv.URL + "/loki/api/v1/push")
			if err != nil {
				t.Fatal(err)
			}
			cfg.BatchWait = 50 * time.Millisecond
			cfg.EncodeJson = asJSON
			c, err := lokiclient.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			base := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
			const n = 50
			for i := range n {
				ls := model.LabelSet{"service_name": "payment", "level": "error", "env": "prod"}
				meta := push.LabelsAdapter{{Name: "trace_id", Value: fmt.Sprintf("4bf92f3577b34da6a3ce929d0e0e%04d", i)}}
				if err := c.HandleWithMetadata(ls, base.Add(time.Duration(i)*time.Second), fmt.Sprintf("결제 실패: 카드 한도 초과 #%d", i), meta); err != nil {
					t.Fatal(err)
				}
			}
			c.Stop() // flushes
			evs := rec.Events()
			if len(evs) != n {
				t.Fatalf("stored %d, want %d", len(evs), n)
			}
			for _, e := range evs {
				var i int
				if _, err := fmt.Sscanf(e.Message, "결제 실패: 카드 한도 초과 #%d", &i); err != nil {
					t.Fatalf("message %q", e.Message)
				}
				if e.Time != base.Add(time.Duration(i)*time.Second).UnixNano() || e.Index != "payment" || e.Level != event.LevelError ||
					ingesttest.Field(e, "service") != "payment" || ingesttest.Field(e, "env") != "prod" {
					t.Fatalf("event %d = %+v", i, e)
				}
				// The JSON encoding of this client drops structured
				// metadata (logproto's Entry.MarshalJSON does).
				if !asJSON && e.TraceID != fmt.Sprintf("4bf92f3577b34da6a3ce929d0e0e%04d", i) {
					t.Fatalf("event %d trace id %q", i, e.TraceID)
				}
			}
		})
	}
}
