package sentry

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/issues"
	"github.com/logcaster/logcaster/internal/pipeline"
)

func TestParseEnvelope(t *testing.T) {
	body := "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"dsn\":\"http://k@h/1\"}\n" +
		"{\"type\":\"event\",\"length\":12}\n{\"a\":\"x\\ny\"}\n" + // length covers a payload holding an escaped newline
		"{\"type\":\"client_report\"}\n{\"discarded_events\":[]}\n" +
		"{\"type\":\"attachment\",\"length\":3}\nabc"
	env, err := ParseEnvelope([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if env.EventID != "9ec79c33ec9942ab8353589fcb2e04dc" || env.DSN != "http://k@h/1" || len(env.Items) != 3 {
		t.Fatalf("%+v", env)
	}
	want := []string{"event:{\"a\":\"x\\ny\"}", "client_report:{\"discarded_events\":[]}", "attachment:abc"}
	for i, it := range env.Items {
		if got := it.Type + ":" + string(it.Payload); got != want[i] {
			t.Errorf("item %d = %q, want %q", i, got, want[i])
		}
	}
	for _, bad := range []string{"", "not json\n", "{}\n{\"type\":\"event\",\"length\":99}\n{}", "{}\n{\"type\":\"event\",\"length\":-1}\n"} {
		if _, err := ParseEnvelope([]byte(bad)); err == nil {
			t.Errorf("ParseEnvelope(%q) accepted", bad)
		}
	}
}

func TestParseEventShapes(t *testing.T) {
	now := time.Unix(1700000000, 0)
	a, err := ParseEvent([]byte(`{"event_id":"aa","timestamp":1763800000.5,"level":"fatal","exception":[{"type":"E","value":"v","stacktrace":{"frames":[{"function":"f","module":"m","in_app":true,"lineno":3}]}}],"user":{"id":42},"tags":[["k","v"]],"contexts":{"trace":{"trace_id":"tt"}}}`), "p", now)
	if err != nil {
		t.Fatal(err)
	}
	if a.Time != 1763800000500000000 || a.Level != "fatal" || a.UserID != "42" || a.Tags["k"] != "v" || a.TraceID != "tt" ||
		len(a.Exceptions) != 1 || a.Exceptions[0].Frames[0] != (issues.Frame{Module: "m", Function: "f", Line: 3, InApp: true}) {
		t.Fatalf("%+v", a)
	}
	b, err := ParseEvent([]byte(`{"timestamp":"2025-11-22T10:00:00.250Z","exception":{"values":[{"type":"E","value":"v"}]},"message":{"formatted":"hello"},"tags":{"k":"v"}}`), "p", now)
	if err != nil {
		t.Fatal(err)
	}
	if b.Time != time.Date(2025, 11, 22, 10, 0, 0, 250e6, time.UTC).UnixNano() || b.Level != "error" || b.Message != "hello" ||
		len(b.Exceptions) != 1 || b.Tags["k"] != "v" || len(b.EventID) != 32 {
		t.Fatalf("%+v", b)
	}
	if c, _ := ParseEvent([]byte(`{"logentry":{"message":"m %s","formatted":"m x"}}`), "p", now); c.Message != "m x" || c.Time != now.UnixNano() {
		t.Fatalf("%+v", c)
	}
}

// TestParseEventExtra: extra keeps strings as themselves and other values
// as compact JSON text, the first 100 keys in the payload's order, keys cut
// to 256 bytes and values to 16 KiB with a mark, never inside a rune.
func TestParseEventExtra(t *testing.T) {
	longKey := "k" + strings.Repeat("é", 200) // 401 bytes; byte 256 is inside an é
	var b strings.Builder
	b.WriteString(`{"message":"m","extra":{` +
		`"note":"plain \"quoted\" \u00e9",` +
		`"attempt":3,"ratio":2.50,"ok":true,"gone":null,"empty":"",` +
		`"order":{ "id" : 7, "items" : [ "a", "b\"c" ], "at":{"x":null} },` +
		`"list":[1, "x", null],` +
		`"long":"` + strings.Repeat("x", 20000) + `",` +
		`"long_runes":"` + strings.Repeat("é", 10000) + `",` +
		`"long_obj":{"blob":"` + strings.Repeat("y", 20000) + `"},` +
		`"` + longKey + `":"v"`)
	for i := 0; i < 120; i++ {
		fmt.Fprintf(&b, `,"k%03d":%d`, i, i)
	}
	b.WriteString(`}}`)
	payload := []byte(b.String())
	e, err := ParseEvent(payload, "p", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"note": `plain "quoted" é`, "attempt": "3", "ratio": "2.50", "ok": "true", "gone": "null", "empty": "",
		"order":      `{"id":7,"items":["a","b\"c"],"at":{"x":null}}`,
		"list":       `[1,"x",null]`,
		"long":       strings.Repeat("x", 16384-3) + "…",
		"long_runes": strings.Repeat("é", 8190) + "…", // 16381 would split an é
		"long_obj":   (`{"blob":"` + strings.Repeat("y", 20000))[:16384-3] + "…",
	}
	want["k"+strings.Repeat("é", 127)] = "v"   // longKey cut to 255 bytes
	for i, n := 0, 100-len(want); i < n; i++ { // the first 100 keys: k000 to k087
		want[fmt.Sprintf("k%03d", i)] = strconv.Itoa(i)
	}
	if len(e.Extra) != 100 || !reflect.DeepEqual(e.Extra, want) {
		for k, v := range e.Extra {
			if want[k] != v {
				t.Errorf("extra[%q] = %.80q, want %.80q", k, v, want[k])
			}
		}
		t.Fatalf("%d extra keys, want 100 (k087 %q, k088 %q)", len(e.Extra), e.Extra["k087"], e.Extra["k088"])
	}
	for _, v := range e.Extra {
		if len(v) > 16384 || !utf8.ValidString(v) {
			t.Fatalf("extra value of %d bytes, valid UTF-8 %v", len(v), utf8.ValidString(v))
		}
	}
	ref, err := refParseEvent(payload, "p", time.Now())
	if err != nil || !reflect.DeepEqual(ref.Extra, e.Extra) {
		t.Fatalf("reference parse differs: %v", err)
	}
	for _, p := range []string{`{"message":"m"}`, `{"extra":null}`, `{"extra":{}}`, `{"extra":"s"}`, `{"extra":[["k","v"]]}`} {
		if e, err := ParseEvent([]byte(p), "p", time.Now()); err != nil || e.Extra != nil {
			t.Errorf("ParseEvent(%s).Extra = %#v, %v; want nil", p, e.Extra, err)
		}
	}
}

// memSink is a pipeline that stores nothing and is always durable.
type memSink struct {
	mu     sync.Mutex
	events []event.Event
	full   bool
}

func (s *memSink) Write(bs []*event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range bs {
		s.events = append(s.events, b.Events...)
	}
	return nil
}

func newTestHandler(t testing.TB) (*Handler, *issues.Tracker, *memSink, string) {
	o := issues.DefaultOptions()
	o.Dir = t.TempDir()
	tr, err := issues.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	p, _ := tr.CreateProject("web")
	sink := &memSink{}
	pipe, _ := pipeline.New(pipeline.DefaultOptions(), sink)
	t.Cleanup(pipe.Close)
	return New(pipe, tr, DefaultOptions()), tr, sink, p.Key
}

func envelopeOf(id, eventJSON string) string {
	return fmt.Sprintf("{\"event_id\":%q}\n{\"type\":\"event\",\"length\":%d}\n%s\n", id, len(eventJSON), eventJSON)
}

func TestHandler(t *testing.T) {
	h, tr, sink, key := newTestHandler(t)
	ev := `{"event_id":"0123456789abcdef0123456789abcdef","level":"error","release":"1.2","exception":{"values":[{"type":"ValueError","value":"bad 1","stacktrace":{"frames":[{"module":"app.views","function":"create","in_app":true}]}}]},"contexts":{"trace":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}}}`
	post := func(path, auth, body string, gz bool) *httptest.ResponseRecorder {
		var b bytes.Buffer
		if gz {
			zw := gzip.NewWriter(&b)
			zw.Write([]byte(body))
			zw.Close()
		} else {
			b.WriteString(body)
		}
		r := httptest.NewRequest("POST", path, &b)
		if gz {
			r.Header.Set("Content-Encoding", "gzip")
		}
		if auth != "" {
			r.Header.Set("X-Sentry-Auth", "Sentry sentry_version=7, sentry_client=test/1, sentry_key="+auth)
		}
		mux := http.NewServeMux()
		mux.Handle(RouteEnvelope, h)
		mux.Handle(RouteStore, h)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	if w := post("/api/web/envelope/", "wrong", envelopeOf("x", ev), false); w.Code != 401 {
		t.Fatalf("wrong key: %d", w.Code)
	}
	if w := post("/api/other/envelope/", key, envelopeOf("x", ev), false); w.Code != 401 {
		t.Fatalf("wrong project: %d", w.Code)
	}
	w := post("/api/web/envelope/", key, envelopeOf("0123456789abcdef0123456789abcdef", ev), true)
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"id":"0123456789abcdef0123456789abcdef"}` {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w = post("/api/web/store/?sentry_key="+key, "", strings.Replace(ev, "bad 1", "bad 2", 1), false)
	if w.Code != 200 {
		t.Fatalf("store: %d %s", w.Code, w.Body)
	}
	logItem := `{"items":[{"timestamp":1763800000.25,"level":"info","body":"GET /orders","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","attributes":{"route":{"value":"/orders","type":"string"}}}]}`
	w = post("/api/web/envelope/", key, "{}\n{\"type\":\"log\",\"item_count\":1}\n"+logItem+"\n{\"type\":\"session\"}\n{}\n", false)
	if w.Code != 200 {
		t.Fatalf("log: %d %s", w.Code, w.Body)
	}
	list, total, _ := tr.List(issues.ListOptions{})
	if total != 1 || list[0].Count != 2 || list[0].ShortID != "WEB-1" || list[0].Culprit != "app.views in create" {
		t.Fatalf("issues %d %+v", total, list)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.events) != 3 {
		t.Fatalf("log events %d", len(sink.events))
	}
	e0, e2 := sink.events[0], sink.events[2]
	if e0.Index != "web" || e0.Level != event.LevelError || e0.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || e0.Message != "ValueError: bad 1" {
		t.Fatalf("event %+v", e0)
	}
	if v, _ := e0.Get("release"); v != "1.2" {
		t.Fatalf("release %q", v)
	}
	if r, _ := e2.Get("route"); e2.Message != "GET /orders" || e2.Level != event.LevelInfo || r != "/orders" || e2.Time != 1763800000250000000 {
		t.Fatalf("log item %+v", e2)
	}
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(envelopeOf("ab", `{"message":"x"}`)))
	f.Add([]byte("{}\n{\"type\":\"log\"}\n{\"items\":[]}\n"))
	f.Add([]byte("{}\n{\"type\":\"event\",\"length\":0}\n"))
	f.Add([]byte("{\"event_id\":1}\n"))
	f.Add([]byte("{}\n{\"type\":\"log\"}\n{\"items\":[{\"timestamp\":1763800000.25,\"level\":\"warn\",\"body\":\"b\",\"attributes\":{\"k\":{\"value\":3}}}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data)
		if err != nil {
			return
		}
		for _, it := range env.Items {
			switch it.Type {
			case "event":
				ParseEvent(it.Payload, "p", time.Now())
			case "log":
				appendLogItems(&event.Batch{}, it.Payload, "p", time.Now())
			}
		}
	})
}

// BenchmarkHandler posts error events of 1,000 kinds from concurrent
// senders, grouping included; the pipeline writes to memory.
func BenchmarkHandler(b *testing.B) {
	h, tr, _, key := newTestHandler(b)
	bodies := make([]string, 1000)
	for i := range bodies {
		bodies[i] = envelopeOf("", fmt.Sprintf(`{"level":"error","exception":{"values":[{"type":"E%d","value":"boom %d","stacktrace":{"frames":[{"module":"app","function":"f%d","in_app":true}]}}]}}`, i, i, i))
	}
	var n sync.Mutex
	i := 0
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Lock()
			body := bodies[i%1000]
			i++
			n.Unlock()
			r := httptest.NewRequest("POST", "/api/web/envelope/", strings.NewReader(body)).WithContext(context.Background())
			r.SetPathValue("project", "web")
			r.Header.Set("X-Sentry-Auth", "Sentry sentry_key="+key)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatal(w.Code, w.Body)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if _, total, _ := tr.List(issues.ListOptions{Limit: 1}); b.N >= 1000 && total != 1000 {
		b.Fatalf("issues %d", total)
	}
}
