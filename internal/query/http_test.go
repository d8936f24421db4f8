package query

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

func TestHandler(t *testing.T) {
	evs := testEvents(3000)
	sc := newFakeScanner(evs, 100)
	now := time.Unix(0, base+3000e9)
	var observed int
	h := NewHandler(sc, HandlerOptions{DefaultLimit: 50, MaxLimit: 200, Now: func() time.Time { return now }, Observe: func(time.Duration) { observed++ }})
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(params url.Values) (*http.Response, []map[string]string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/api/v1/query?" + params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rows []map[string]string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var m map[string]string
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("bad line %q: %v", sc.Text(), err)
			}
			rows = append(rows, m)
		}
		return resp, rows
	}

	resp, rows := get(url.Values{"q": {"level:ERROR"}})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	want := wantTimes(evs, func(e *event.Event) bool { return e.Level == "ERROR" })
	if len(rows) != 50 {
		t.Fatalf("default limit: %d rows", len(rows))
	}
	if rows[0]["timestamp"] != time.Unix(0, want[0]).UTC().Format(time.RFC3339Nano) || rows[0]["level"] != "ERROR" {
		t.Fatalf("first row %v", rows[0])
	}

	// Relative start: the last 500 s hold 500 rows, more than MaxLimit.
	_, rows = get(url.Values{"q": {"*"}, "start": {"500s"}, "limit": {"1000"}})
	if len(rows) != 200 { // capped by MaxLimit
		t.Fatalf("max limit: %d rows", len(rows))
	}
	_, rows = get(url.Values{"q": {"*"}, "start": {"100s"}, "end": {"2026-11-01T00:49:00Z"}, "limit": {"150"}})
	if len(rows) != 40 { // 2900s .. 2939s
		t.Fatalf("start/end: %d rows, want 40", len(rows))
	}

	// Errors.
	for _, c := range []struct {
		params url.Values
		status int
		msg    string
	}{
		{url.Values{"q": {"level:ERROR AND )"}}, 400, `bad query: unexpected ")" at column 17: expected a filter`},
		{url.Values{"q": {"*"}, "start": {"yesterday"}}, 400, "start: bad time"},
		{url.Values{"q": {"*"}, "limit": {"-1"}}, 400, "limit: want a positive number"},
	} {
		resp, rows := get(c.params)
		if resp.StatusCode != c.status || len(rows) != 1 || !strings.HasPrefix(rows[0]["error"], c.msg) {
			t.Errorf("%v: status %d, body %v", c.params, resp.StatusCode, rows)
		}
	}
	if observed != 6 {
		t.Errorf("observed %d queries, want 6", observed)
	}
}

func TestHandlerTimeout(t *testing.T) {
	sc := newFakeScanner(testEvents(200000), 50)
	h := NewHandler(sc, HandlerOptions{DefaultLimit: 10, MaxLimit: 10, Timeout: time.Nanosecond})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/query?q=*+|+stats+count()+by+(host)", nil))
	if rec.Code != http.StatusGatewayTimeout || !strings.Contains(rec.Body.String(), "query timed out") {
		t.Fatalf("status %d body %s", rec.Code, rec.Body.String())
	}
}
