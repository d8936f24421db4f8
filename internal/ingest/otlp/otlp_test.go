package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

func post(h http.Handler, body []byte, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/v1/logs", bytes.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// jsonRequest is an OTLP JSON request as the specification's example
// writes it (hex ids, camelCase, int64 as strings).
const jsonRequest = `{"resourceLogs":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"payment"}},
  {"key":"host","value":{"kvlistValue":{"values":[{"key":"name","value":{"stringValue":"web-3"}}]}}}]},
 "scopeLogs":[{"scope":{"name":"com.shop.pay"},"logRecords":[
  {"timeUnixNano":"1795341600123456789","severityNumber":17,"severityText":"Error",
   "traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7",
   "body":{"stringValue":"결제 실패: 카드 한도 초과"},
   "attributes":[{"key":"http.status","value":{"intValue":"503"}},{"key":"retry","value":{"boolValue":true}}]},
  {"observedTimeUnixNano":"1795341601000000000","severityNumber":"SEVERITY_NUMBER_WARN2",
   "body":{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"1"}}]}}},
  {"traceId":"4bf9","body":{"stringValue":"bad id"}}]}]}]}`

func TestJSON(t *testing.T) {
	rec := &ingesttest.Recorder{}
	h := New(ingesttest.NewPipeline(t, rec), DefaultOptions())
	w := post(h, []byte(jsonRequest), "Content-Type", "application/json")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var resp struct {
		PartialSuccess struct {
			RejectedLogRecords string `json:"rejectedLogRecords"`
			ErrorMessage       string `json:"errorMessage"`
		} `json:"partialSuccess"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.PartialSuccess.RejectedLogRecords != "1" ||
		!strings.Contains(resp.PartialSuccess.ErrorMessage, "trace_id") {
		t.Errorf("response %s (%v)", w.Body, err)
	}
	evs := rec.Events()
	if len(evs) != 2 {
		t.Fatalf("stored %d", len(evs))
	}
	e := evs[0]
	if e.Time != 1795341600123456789 || e.Index != "payment" || e.Level != event.LevelError || e.Message != "결제 실패: 카드 한도 초과" ||
		e.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || ingesttest.Field(e, "span_id") != "00f067aa0ba902b7" || ingesttest.Field(e, "service") != "payment" ||
		ingesttest.Field(e, "host.name") != "web-3" || ingesttest.Field(e, "scope.name") != "com.shop.pay" || ingesttest.Field(e, "http.status") != "503" || ingesttest.Field(e, "retry") != "true" {
		t.Errorf("event 0 = %+v", e)
	}
	if e := evs[1]; e.Time != 1795341601000000000 || e.Level != event.LevelWarn || e.Message != `{"a":1}` || e.TraceID != "" {
		t.Errorf("event 1 = %+v", e)
	}
}

func TestRefusals(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxBodyBytes = 4 << 10
	rec := &ingesttest.Recorder{}
	h := New(ingesttest.NewPipeline(t, rec), opts)
	good, _ := proto.Marshal(&collogs.ExportLogsServiceRequest{})
	_ = good
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte{0}, 1<<20))
	zw.Close()
	pb := []string{"Content-Type", "application/x-protobuf"}
	cases := []struct {
		name string
		body []byte
		hdr  []string
		code int
	}{
		{"truncated protobuf", []byte{0x0a, 0x10, 0x0a}, pb, 400},
		{"gzip bomb", gz.Bytes(), append([]string{"Content-Encoding", "gzip"}, pb...), 413},
		{"bad gzip", []byte("nope"), append([]string{"Content-Encoding", "gzip"}, pb...), 400},
		{"wrong content type", []byte("x"), []string{"Content-Type", "text/plain"}, 415},
		{"bad json", []byte(`{"resourceLogs":`), []string{"Content-Type", "application/json"}, 400},
		{"bad hex id", []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz"}]}]}]}`), []string{"Content-Type", "application/json"}, 400},
	}
	for _, c := range cases {
		w := post(h, c.body, c.hdr...)
		if w.Code != c.code {
			t.Errorf("%s: %d %q, want %d", c.name, w.Code, w.Body, c.code)
		}
	}
	if n := len(rec.Events()); n != 0 {
		t.Errorf("stored %d", n)
	}
}

// TestSDKExporter sends with the OpenTelemetry Go SDK's OTLP/HTTP log
// exporter (protobuf, gzip).
func TestSDKExporter(t *testing.T) {
	rec := &ingesttest.Recorder{}
	srv := httptest.NewServer(New(ingesttest.NewPipeline(t, rec), DefaultOptions()))
	defer srv.Close()
	ctx := context.Background()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"), otlploghttp.WithCompression(otlploghttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "payment"), attribute.String("host.name", "web-3"))
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	logger := lp.Logger("com.shop.pay")

	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	tctx := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	when := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	var r otellog.Record
	r.SetTimestamp(when)
	r.SetSeverity(otellog.SeverityError)
	r.SetSeverityText("ERROR")
	r.SetBody(attribute.StringValue("결제 실패: 카드 한도 초과"))
	r.AddAttributes(attribute.Int("http.status", 503))
	logger.Emit(tctx, r)
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	evs := rec.Events()
	if len(evs) != 1 {
		t.Fatalf("stored %d", len(evs))
	}
	e := evs[0]
	if e.Time != when.UnixNano() || e.Index != "payment" || e.Level != event.LevelError || e.Message != "결제 실패: 카드 한도 초과" ||
		e.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || ingesttest.Field(e, "span_id") != "00f067aa0ba902b7" ||
		ingesttest.Field(e, "host.name") != "web-3" || ingesttest.Field(e, "http.status") != "503" || ingesttest.Field(e, "scope.name") != "com.shop.pay" {
		t.Errorf("event = %+v", e)
	}
}
