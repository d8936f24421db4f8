package loki

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

func post(h http.Handler, body []byte, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/loki/api/v1/push", bytes.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Protobuf builders, written from push.proto's field numbers (see
// decode_proto.go), independent of the decoder.
func pbBytes(dst []byte, num protowire.Number, v []byte) []byte {
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendBytes(dst, v)
}

func pbEntry(secs, nanos int64, line string, meta ...string) []byte {
	var ts []byte
	ts = protowire.AppendTag(ts, 1, protowire.VarintType)
	ts = protowire.AppendVarint(ts, uint64(secs))
	ts = protowire.AppendTag(ts, 2, protowire.VarintType)
	ts = protowire.AppendVarint(ts, uint64(nanos))
	e := pbBytes(nil, 1, ts)
	e = pbBytes(e, 2, []byte(line))
	for i := 0; i+1 < len(meta); i += 2 {
		var p []byte
		p = pbBytes(p, 1, []byte(meta[i]))
		p = pbBytes(p, 2, []byte(meta[i+1]))
		e = pbBytes(e, 3, p)
	}
	return e
}

func pbPush(labels string, entries ...[]byte) []byte {
	var s []byte
	for _, e := range entries {
		s = pbBytes(s, 2, e) // entries before labels: the decoder must not care
	}
	s = pbBytes(s, 1, []byte(labels))
	return pbBytes(nil, 1, s)
}

func TestPushJSON(t *testing.T) {
	rec := &ingesttest.Recorder{}
	h := New(ingesttest.NewPipeline(t, rec), DefaultOptions())
	body := `{"streams":[
	 {"stream":{"service_name":"payment","detected_level":"error","env":"prod"},
	  "values":[["1795341600123456789","결제 실패: 카드 한도 초과",{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","user":"u1"}],
	            ["1795341601000000000","WARN disk almost full"]]},
	 {"stream":{"job":"varlogs","index":"infra"},"values":[["0","plain line"]]}]}`
	w := post(h, []byte(body), "Content-Type", "application/json")
	if w.Code != 204 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	evs := rec.Events()
	if len(evs) != 3 {
		t.Fatalf("stored %d", len(evs))
	}
	e := evs[0]
	if e.Time != 1795341600123456789 || e.Index != "payment" || e.Level != event.LevelError || e.Message != "결제 실패: 카드 한도 초과" ||
		e.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || ingesttest.Field(e, "service") != "payment" || ingesttest.Field(e, "env") != "prod" ||
		ingesttest.Field(e, "user") != "u1" || ingesttest.Field(e, "service_name") != "<none>" || len(e.Fields) != 3 {
		t.Errorf("event 0 = %+v", e)
	}
	if e := evs[1]; e.Time != 1795341601000000000 || e.Level != event.LevelError || e.TraceID != "" || len(e.Fields) != 2 {
		t.Errorf("event 1 = %+v (stream level wins over the line's WARN)", e)
	}
	if e := evs[2]; e.Index != "infra" || ingesttest.Field(e, "service") != "varlogs" || ingesttest.Field(e, "job") != "varlogs" || e.Time == 0 || e.Level != "" {
		t.Errorf("event 2 = %+v", e)
	}
}

func TestPushProtobuf(t *testing.T) {
	rec := &ingesttest.Recorder{}
	h := New(ingesttest.NewPipeline(t, rec), DefaultOptions())
	msg := pbPush(`{app="shop", level="warn", path="C:\\logs\\\"x\""}`,
		pbEntry(1795341600, 5, "결제 실패: 카드 한도 초과", "trace_id", "abc", "span_id", "def"),
		pbEntry(1795341601, 0, "second"))
	w := post(h, snappy.Encode(nil, msg), "Content-Type", "application/x-protobuf")
	if w.Code != 204 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	evs := rec.Events()
	if len(evs) != 2 {
		t.Fatalf("stored %d", len(evs))
	}
	e := evs[0]
	if e.Time != 1795341600_000000005 || e.Index != "shop" || e.Level != event.LevelWarn || e.Message != "결제 실패: 카드 한도 초과" ||
		e.TraceID != "abc" || ingesttest.Field(e, "span_id") != "def" || ingesttest.Field(e, "app") != "shop" || ingesttest.Field(e, "service") != "shop" ||
		ingesttest.Field(e, "path") != `C:\logs\"x"` {
		t.Errorf("event 0 = %+v", e)
	}
}

func TestPushRefusals(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxBodyBytes = 4 << 10
	rec := &ingesttest.Recorder{}
	h := New(ingesttest.NewPipeline(t, rec), opts)
	good := pbPush(`{app="a"}`, pbEntry(1, 0, "x"))
	huge := pbPush(`{app="a"}`, pbEntry(1, 0, strings.Repeat("A", 100<<10)))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"streams":[{"stream":{},"values":[["1","` + strings.Repeat("a", 1<<20) + `"]]}]}`))
	zw.Close()
	proto := []string{"Content-Type", "application/x-protobuf"}
	cases := []struct {
		name string
		body []byte
		hdr  []string
		code int
		want string
	}{
		{"truncated protobuf", snappy.Encode(nil, good[:len(good)-3]), proto, 400, "truncated"},
		{"bad snappy", []byte("\x0a\xff\xff\xff\xff"), proto, 400, "snappy"},
		{"snappy bomb", snappy.Encode(nil, huge), proto, 413, "larger than"},
		{"gzip bomb", gz.Bytes(), []string{"Content-Encoding", "gzip"}, 413, "larger than"},
		{"wrong content type", []byte("x"), []string{"Content-Type", "text/plain"}, 415, "Content-Type"},
		{"bad labels", snappy.Encode(nil, pbPush(`{app=shop}`, pbEntry(1, 0, "x"))), proto, 400, "quoted"},
		{"bad json", []byte(`{"streams":[`), nil, 400, "malformed"},
		{"no streams", []byte(`{}`), nil, 400, "streams"},
		{"bad timestamp", []byte(`{"streams":[{"stream":{},"values":[["yesterday","x"]]}]}`), nil, 400, "timestamp"},
		{"number label", []byte(`{"streams":[{"stream":{"a":1},"values":[]}]}`), nil, 400, "string"},
		{"short value", []byte(`{"streams":[{"stream":{},"values":[["1"]]}]}`), nil, 400, "each value"},
		{"good then bad", []byte(`{"streams":[{"stream":{},"values":[["1","ok"]]},{"stream":{},"values":[["x","bad"]]}]}`), nil, 400, "timestamp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := post(h, c.body, c.hdr...)
			if w.Code != c.code || !strings.Contains(w.Body.String(), c.want) {
				t.Errorf("%d %q, want %d containing %q", w.Code, w.Body, c.code, c.want)
			}
		})
	}
	if n := len(rec.Events()); n != 0 {
		t.Errorf("stored %d events from refused pushes", n)
	}
	r := httptest.NewRequest("GET", "/loki/api/v1/push", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 405 {
		t.Errorf("GET: %d", w.Code)
	}
}

func TestParseLabels(t *testing.T) {
	type kv struct{ k, v string }
	cases := []struct {
		in   string
		want []kv
		bad  bool
	}{
		{`{}`, nil, false},
		{` { a="1" , b_2="x y",c.d="" } `, []kv{{"a", "1"}, {"b_2", "x y"}, {"c.d", ""}}, false},
		{`{a="\u00e9\n\t\\"}`, []kv{{"a", "é\n\t\\"}}, false},
		{`{a="1",}`, []kv{{"a", "1"}}, false},
		{`a="1"`, nil, true},
		{`{a="1}`, nil, true},
		{`{1a="1"}`, nil, true},
		{`{a="\q"}`, nil, true},
		{`{a "1"}`, nil, true},
		{`{a="1" b="2"}`, nil, true},
	}
	for _, c := range cases {
		var got []kv
		_, err := parseLabels([]byte(c.in), nil, func(k, v []byte) { got = append(got, kv{string(k), string(v)}) })
		if (err != nil) != c.bad {
			t.Errorf("%s: err %v", c.in, err)
			continue
		}
		if !c.bad && len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.in, got, c.want)
			continue
		}
		for i := range c.want {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.in, got, c.want)
			}
		}
	}
}

func TestPushLegacyJSON(t *testing.T) {
	rec := &ingesttest.Recorder{}
	h := New(ingesttest.NewPipeline(t, rec), DefaultOptions())
	body := `{"streams":[{"labels":"{app=\"shop\", level=\"info\"}","entries":[{"ts":"2026-11-22T10:00:00.5+09:00","line":"hello","structuredMetadata":{"trace_id":"t1"}}]}]}`
	w := post(h, []byte(body))
	if w.Code != 204 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	evs := rec.Events()
	if len(evs) != 1 {
		t.Fatalf("stored %d", len(evs))
	}
	if e := evs[0]; e.Time != 1795309200_500000000 || e.Index != "shop" || e.Level != event.LevelInfo || e.Message != "hello" || e.TraceID != "t1" {
		t.Errorf("event = %+v", e)
	}
	for _, bad := range []string{`{"streams":[1]}`, `{"streams":[{"labels":1}]}`, `{"streams":[{"labels":"{}"}]}`, `{"streams":[{"labels":"{}","entries":[{"ts":"x"}]}]}`, `{"streams":[{"stream":{}}]}`} {
		if w := post(h, []byte(bad)); w.Code != 400 {
			t.Errorf("%s: %d", bad, w.Code)
		}
	}
}
