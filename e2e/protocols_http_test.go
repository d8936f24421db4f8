package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	lokiclient "github.com/grafana/loki-client-go/loki"
	"github.com/grafana/loki/pkg/push"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

// The HTTP shipper protocols (issue 4 items 3-5), each sent with a real
// client to the real binary and read back with the query API.

const (
	korean  = "결제 실패: 카드 한도 초과"
	traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
)

// checkRow checks the fields every protocol test expects of one event.
func checkRow(t *testing.T, row map[string]any, when time.Time, index, level, service string) {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(row["timestamp"]))
	if err != nil || !ts.Equal(when) {
		t.Errorf("timestamp %v (%v), want %s", row["timestamp"], err, when.Format(time.RFC3339Nano))
	}
	for k, want := range map[string]string{"index": index, "level": level, "message": korean, "trace_id": traceID, "service": service} {
		if got := fmt.Sprint(row[k]); got != want {
			t.Errorf("%s = %q, want %q (row %v)", k, got, want, row)
		}
	}
}

func TestESBulkGoClient(t *testing.T) {
	s := startServer(t, "")
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{"http://" + s.http}})
	if err != nil {
		t.Fatal(err)
	}
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: "payment-2026.11.22"})
	if err != nil {
		t.Fatal(err)
	}
	when := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	doc := fmt.Sprintf(`{"@timestamp":%q,"log":{"level":"error"},"message":%q,"service":{"name":"checkout"},"trace":{"id":%q}}`,
		when.Format(time.RFC3339Nano), korean, traceID)
	if err := bi.Add(context.Background(), esutil.BulkIndexerItem{Action: "create", Body: strings.NewReader(doc)}); err != nil {
		t.Fatal(err)
	}
	if err := bi.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := bi.Stats(); st.NumFlushed != 1 || st.NumFailed != 0 {
		t.Fatalf("bulk stats %+v", st)
	}
	rows := s.query("trace_id:"+traceID, 10) // acknowledged: durable, so no waiting
	if len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	checkRow(t, rows[0], when, "payment", "ERROR", "checkout")
}

func TestLokiPushClient(t *testing.T) {
	s := startServer(t, "")
	cfg, err := lokiclient.NewDefaultConfig("http://" + s.http + "/loki/api/v1/push")
	if err != nil {
		t.Fatal(err)
	}
	cfg.BatchWait = 50 * time.Millisecond
	c, err := lokiclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	when := time.Now().UTC().Add(-time.Minute).Truncate(time.Microsecond)
	c.HandleWithMetadata(model.LabelSet{"service_name": "payment", "level": "error"}, when, korean,
		push.LabelsAdapter{{Name: "trace_id", Value: traceID}})
	c.Stop() // flushes; the client logs and drops on failure, so check the rows
	rows := s.waitRows("service:payment", 1)
	checkRow(t, rows[0], when, "payment", "ERROR", "payment")

	// The JSON form, with curl.
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is not installed (Debian package curl; scripts/test.sh installs it)")
	}
	body := fmt.Sprintf(`{"streams":[{"stream":{"service_name":"billing","detected_level":"error"},"values":[["%d",%q,{"trace_id":%q}]]}]}`,
		when.UnixNano(), korean, traceID)
	out, err := exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json",
		"--data-binary", body, "http://"+s.http+"/loki/api/v1/push").CombinedOutput()
	if err != nil || string(out) != "204" {
		t.Fatalf("curl: %s %v", out, err)
	}
	rows = s.query("service:billing", 10)
	if len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	checkRow(t, rows[0], when, "billing", "ERROR", "billing")
}

func TestOTLPExporter(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL("http://"+s.http+"/v1/logs"), otlploghttp.WithCompression(otlploghttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "payment"))),
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	tid, _ := trace.TraceIDFromHex(traceID)
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	tctx := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	when := time.Now().UTC().Add(-time.Minute).Truncate(time.Microsecond)
	var r otellog.Record
	r.SetTimestamp(when)
	r.SetSeverity(otellog.SeverityError)
	r.SetBody(attribute.StringValue(korean))
	lp.Logger("com.shop.pay").Emit(tctx, r) // the simple processor exports before Emit returns
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	rows := s.query("trace_id:"+traceID, 10)
	if len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	checkRow(t, rows[0], when, "payment", "ERROR", "payment")
	if rows[0]["span_id"] != "00f067aa0ba902b7" {
		t.Errorf("span_id %v", rows[0]["span_id"])
	}
}
