package query

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

func getText(t *testing.T, h http.Handler, params url.Values) (int, http.Header, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/query?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// csvEvents are three events whose fields differ (the header is their
// union) and whose values need every kind of quoting.
func csvEvents() []event.Event {
	at := func(s int) int64 { return base + int64(s)*int64(time.Second) }
	return []event.Event{
		{Time: at(1), Index: "app", Level: "INFO", Message: "plain one", Fields: []event.Field{{Name: "service", Value: "api"}}},
		{Time: at(2), Index: "app", Level: "ERROR", Message: `said "no", then left`, TraceID: "abc123",
			Fields: []event.Field{{Name: "service", Value: "db"}, {Name: "host", Value: "db-1"}}},
		{Time: at(3), Index: "web", Level: "WARN", Message: "line one\nline two", Fields: []event.Field{{Name: "user", Value: " padded "}, {Name: "note", Value: "주문,완료"}}},
	}
}

func TestQueryCSV(t *testing.T) {
	sc := newFakeScanner(csvEvents(), 2)
	now := time.Unix(0, base+10e9)
	h := NewHandler(sc, HandlerOptions{DefaultLimit: 10, MaxLimit: 2, Now: func() time.Time { return now }})

	// Newest first; timestamp, the built-ins (index, level, message,
	// trace_id), then the rest as they first appear, newest row first.
	want := "timestamp,index,level,message,trace_id,user,note,service,host\r\n" +
		"2026-11-01T00:00:03Z,web,WARN,\"line one\nline two\",,\" padded \",\"주문,완료\",,\r\n" +
		"2026-11-01T00:00:02Z,app,ERROR,\"said \"\"no\"\", then left\",abc123,,,db,db-1\r\n" +
		"2026-11-01T00:00:01Z,app,INFO,plain one,,,,api,\r\n"
	// MaxLimit is 2: a bigger limit is capped, as for NDJSON.
	for _, tc := range []struct {
		limit string
		want  string
	}{
		{"", want},
		{"5", "timestamp,index,level,message,trace_id,user,note,service,host\r\n" +
			"2026-11-01T00:00:03Z,web,WARN,\"line one\nline two\",,\" padded \",\"주문,완료\",,\r\n" +
			"2026-11-01T00:00:02Z,app,ERROR,\"said \"\"no\"\", then left\",abc123,,,db,db-1\r\n"},
	} {
		if tc.limit == "" {
			h = NewHandler(sc, HandlerOptions{DefaultLimit: 10, MaxLimit: 10, Now: func() time.Time { return now }})
		} else {
			h = NewHandler(sc, HandlerOptions{DefaultLimit: 1, MaxLimit: 2, Now: func() time.Time { return now }})
		}
		status, hdr, body := getText(t, h, url.Values{"q": {"*"}, "format": {"csv"}, "limit": {tc.limit}})
		if status != 200 {
			t.Fatalf("limit %q: status %d: %s", tc.limit, status, body)
		}
		if ct := hdr.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Fatalf("content type %q", ct)
		}
		if body != tc.want {
			t.Fatalf("limit %q: got\n%q\nwant\n%q", tc.limit, body, tc.want)
		}
	}

	// A stats query: rows without a time, columns in the pipe's order.
	h = NewHandler(sc, HandlerOptions{Now: func() time.Time { return now }})
	_, _, body := getText(t, h, url.Values{"q": {"* | stats count() as n by (index) | sort by (index)"}, "format": {"csv"}})
	if want := "index,n\r\napp,2\r\nweb,1\r\n"; body != want {
		t.Fatalf("stats: got %q, want %q", body, want)
	}

	// Nothing matches: an empty file, not an error.
	_, _, body = getText(t, h, url.Values{"q": {"nosuchword"}, "format": {"csv"}})
	if body != "" {
		t.Fatalf("no rows: got %q", body)
	}

	// Errors stay JSON with their status.
	status, _, body := getText(t, h, url.Values{"q": {"level:("}, "format": {"csv"}})
	if status != 400 || body[:9] != `{"error":` {
		t.Fatalf("bad query: %d %s", status, body)
	}
	h = NewHandler(sc, HandlerOptions{MaxMemoryBytes: 100, Now: func() time.Time { return now }})
	status, _, body = getText(t, h, url.Values{"q": {"*"}, "format": {"csv"}})
	if status != 422 {
		t.Fatalf("memory limit: %d %s", status, body)
	}
}

func TestAppendCSVField(t *testing.T) {
	for in, want := range map[string]string{
		"":        "",
		"a":       "a",
		"a,b":     `"a,b"`,
		`q"q`:     `"q""q"`,
		"cr\rx":   "\"cr\rx\"",
		" lead":   `" lead"`,
		"trail ":  `"trail "`,
		"in side": "in side",
		`""`:      `""""""`,
		"한국어":     "한국어",
	} {
		if got := string(appendCSVField(nil, in)); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
