package esbulk

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

func post(t *testing.T, h http.Handler, path, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

type bulkAnswer struct {
	Took   *int64 `json:"took"`
	Errors bool   `json:"errors"`
	Items  []map[string]struct {
		Index  string `json:"_index"`
		ID     string `json:"_id"`
		Status int    `json:"status"`
		Result string `json:"result"`
		Error  *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	} `json:"items"`
}

func decodeAnswer(t *testing.T, w *httptest.ResponseRecorder) bulkAnswer {
	t.Helper()
	var a bulkAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer %q: %v", w.Body.String(), err)
	}
	if a.Took == nil {
		t.Fatalf("answer has no took: %s", w.Body.String())
	}
	return a
}

func TestBulkStoresDocuments(t *testing.T) {
	rec := &ingesttest.Recorder{}
	h := New(ingesttest.NewPipeline(t, rec), DefaultOptions())
	body := `{"index":{"_index":"myapp-2026.11.22","_id":"a1"}}
{"@timestamp":"2026-11-22T10:00:00.123Z","message":"결제 실패: 카드 한도 초과","log":{"level":"error"},"service":{"name":"payment"},"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"}}
{"create":{}}
{"@timestamp":"2026-11-22T10:00:01Z","message":"second","level":"warning","http":{"status":503}}
{"delete":{"_index":"x","_id":"1"}}
{"update":{"_index":"x","_id":"2"}}
{"doc":{"a":1}}
{"index":{"_index":"logs-other-2026.11.22"}}
not json
{"index":{"_index":"logs-other-2026.11.22"}}
{"message":"third"}
`
	w := post(t, h, "/pathidx/_bulk", body)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if got := w.Header().Get("X-Elastic-Product"); got != "Elasticsearch" {
		t.Errorf("X-Elastic-Product = %q", got)
	}
	a := decodeAnswer(t, w)
	if !a.Errors || len(a.Items) != 6 {
		t.Fatalf("errors=%v items=%d: %s", a.Errors, len(a.Items), w.Body)
	}
	want := []struct {
		action, index, id string
		status            int
	}{
		{"index", "myapp-2026.11.22", "a1", 201},
		{"create", "pathidx", "", 201},
		{"delete", "x", "1", 400},
		{"update", "x", "2", 400},
		{"index", "logs-other-2026.11.22", "", 400},
		{"index", "logs-other-2026.11.22", "", 201},
	}
	ids := map[string]bool{}
	for i, wi := range want {
		it, ok := a.Items[i][wi.action]
		if !ok || len(a.Items[i]) != 1 {
			t.Fatalf("item %d: %v, want action %s", i, a.Items[i], wi.action)
		}
		if it.Index != wi.index || it.Status != wi.status || (wi.id != "" && it.ID != wi.id) {
			t.Errorf("item %d = %+v, want %+v", i, it, wi)
		}
		if wi.status == 201 && it.Result != "created" {
			t.Errorf("item %d result %q", i, it.Result)
		}
		if wi.status == 400 && (it.Error == nil || it.Error.Reason == "") {
			t.Errorf("item %d: no error object", i)
		}
		if len(it.ID) == 0 || ids[it.ID] {
			t.Errorf("item %d: id %q empty or repeated", i, it.ID)
		}
		ids[it.ID] = true
	}
	if id := a.Items[1]["create"].ID; len(id) != 20 {
		t.Errorf("auto id %q is not 20 characters", id)
	}

	evs := rec.Events()
	if len(evs) != 3 {
		t.Fatalf("stored %d events, want 3", len(evs))
	}
	e := evs[0]
	if e.Time != ingesttest.MustTime(t, "2026-11-22T10:00:00.123Z") || e.Index != "myapp" || e.Level != event.LevelError ||
		e.Message != "결제 실패: 카드 한도 초과" || e.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		ingesttest.Field(e, "service") != "payment" || ingesttest.Field(e, "log.level") != "<none>" {
		t.Errorf("event 0 = %+v", e)
	}
	e = evs[1]
	if e.Index != "pathidx" || e.Level != event.LevelWarn || e.Message != "second" || ingesttest.Field(e, "http.status") != "503" {
		t.Errorf("event 1 = %+v", e)
	}
	if e := evs[2]; e.Index != "other" || e.Message != "third" {
		t.Errorf("event 2 = %+v", e)
	}
}

func TestBulkRefusals(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxBodyBytes = 1 << 10
	rec := &ingesttest.Recorder{}
	h := New(ingesttest.NewPipeline(t, rec), opts)

	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(bytes.Repeat([]byte(`{"index":{}}`+"\n"+`{"message":"x"}`+"\n"), 10000))
	zw.Close()

	cases := []struct {
		name, body string
		hdr        []string
		code       int
		errType    string
	}{
		{"action not json", "{oops\n{}\n", nil, 400, "illegal_argument_exception"},
		{"unknown action", `{"upsert":{}}` + "\n{}\n", nil, 400, "illegal_argument_exception"},
		{"two actions", `{"index":{},"create":{}}` + "\n{}\n", nil, 400, "illegal_argument_exception"},
		{"missing document", `{"index":{}}` + "\n", nil, 400, "illegal_argument_exception"},
		{"metadata not object", `{"index":1}` + "\n{}\n", nil, 400, "illegal_argument_exception"},
		{"gzip bomb", bomb.String(), []string{"Content-Encoding", "gzip"}, 413, "content_too_long_exception"},
		{"bad gzip", "not gzip at all", []string{"Content-Encoding", "gzip"}, 400, "parse_exception"},
		{"unknown encoding", "x", []string{"Content-Encoding", "br"}, 415, "illegal_argument_exception"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := post(t, h, "/_bulk", c.body, c.hdr...)
			if w.Code != c.code {
				t.Fatalf("status %d, want %d: %s", w.Code, c.code, w.Body)
			}
			var e struct {
				Error struct {
					Type   string `json:"type"`
					Reason string `json:"reason"`
				} `json:"error"`
				Status int `json:"status"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Type != c.errType || e.Status != c.code || e.Error.Reason == "" {
				t.Errorf("answer %s (err %v), want type %s", w.Body, err, c.errType)
			}
		})
	}
	if n := len(rec.Events()); n != 0 {
		t.Errorf("stored %d events from refused requests", n)
	}
}

func TestBulkGzip(t *testing.T) {
	rec := &ingesttest.Recorder{}
	h := New(ingesttest.NewPipeline(t, rec), DefaultOptions())
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, `{"index":{"_index":"gz"}}`+"\n"+`{"message":"zipped"}`+"\n")
	zw.Close()
	w := post(t, h, "/_bulk", buf.String(), "Content-Encoding", "gzip")
	if a := decodeAnswer(t, w); w.Code != 200 || a.Errors {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if evs := rec.Events(); len(evs) != 1 || evs[0].Message != "zipped" || evs[0].Index != "gz" {
		t.Errorf("stored %+v", evs)
	}
}

func TestSetupEndpoints(t *testing.T) {
	h := New(ingesttest.NewPipeline(t, &ingesttest.Recorder{}), DefaultOptions())
	cases := []struct {
		method, path string
		code         int
		want         string // a substring of the answer
	}{
		{"GET", "/", 200, `"number":"8.15.0"`},
		{"HEAD", "/", 200, ``},
		{"GET", "/_license", 200, `"type":"basic"`},
		{"GET", "/_xpack", 200, `"ilm"`},
		{"GET", "/_nodes/http", 200, `"publish_address":"example.com"`},
		{"GET", "/_cluster/health", 200, `"status":"green"`},
		{"GET", "/_cat/indices?format=json", 200, `[]`},
		{"HEAD", "/_index_template/logstash", 200, ``},
		{"PUT", "/_index_template/filebeat-8.15.0", 200, `"acknowledged":true`},
		{"GET", "/_ilm/policy/filebeat", 200, `{}`},
		{"PUT", "/_template/x", 200, `"acknowledged":true`},
		{"GET", "/_search", 404, `"type":"illegal_argument_exception"`},
		{"GET", "/_bulk", 405, ``},
		{"GET", "/idx/_bulk", 405, ``},
		{"GET", "/api/v1/nothing", 404, `not implement`},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.path, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, w.Code, c.code)
		}
		if !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s %s: %s, want it to contain %s", c.method, c.path, w.Body, c.want)
		}
		if w.Header().Get("X-Elastic-Product") != "Elasticsearch" {
			t.Errorf("%s %s: no X-Elastic-Product", c.method, c.path)
		}
	}
}

func TestWantsUI(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if WantsUI(r) {
		t.Error("no Accept: not a browser")
	}
	r.Header.Set("Accept", "Text/HTML,application/xhtml+xml")
	if !WantsUI(r) {
		t.Error("a browser's Accept")
	}
}

func TestMapIndex(t *testing.T) {
	for in, want := range map[string]string{
		"myapp-2026.11.22":           "myapp",
		"logs-myapp-2026.11.22":      "myapp",
		"myapp-2026-11-22":           "myapp",
		"myapp_20261122":             "myapp",
		"myapp-2026.11":              "myapp",
		"myapp-2026.11.22.10":        "myapp",
		"logstash-2026.11.22-000001": "logstash",
		"my-app-2026.11.22":          "my-app",
		"myapp":                      "myapp",
		"logs-":                      "logs-",
		"logs":                       "logs",
		"filebeat-8.15.0":            "filebeat-8.15.0",
		"app-1999":                   "app-1999",
		"app-2026.1":                 "app-2026.1",
		"-2026.11.22":                "-2026.11.22",
		"2026.11.22":                 "2026.11.22",
	} {
		if got := MapIndex(in); got != want {
			t.Errorf("MapIndex(%q) = %q, want %q", in, got, want)
		}
	}
}
