package query

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

func getJSONBody(t *testing.T, h http.Handler, path string, params url.Values, into any) *http.Response {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return resp
}

func TestFieldValues(t *testing.T) {
	evs := testEvents(3000)
	sc := newFakeScanner(evs, 100)
	now := time.Unix(0, base+3000e9)
	h := NewFieldValuesHandler(sc, HandlerOptions{Now: func() time.Time { return now }})

	// Expected: count services of ERROR events in the last 1000 s, by hand.
	counts := map[string]int{}
	from := now.Add(-1000 * time.Second).UnixNano()
	for _, e := range evs {
		if e.Level == "ERROR" && e.Time >= from {
			for _, f := range e.Fields {
				if f.Name == "service" {
					counts[f.Value]++
				}
			}
		}
	}
	want := wantTop(counts, 3)
	var got []valueHits
	resp := getJSONBody(t, h, "/api/v1/field_values", url.Values{"field": {"service"}, "q": {"level:ERROR"}, "start": {"1000s"}, "limit": {"3"}}, &got)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}

	// status is missing on a quarter of the events: that empty group is
	// not a value.
	got = nil
	getJSONBody(t, h, "/api/v1/field_values", url.Values{"field": {"status"}, "limit": {"10"}}, &got)
	if len(got) != 4 {
		t.Fatalf("status values: %v", got)
	}
	total := 0
	for _, v := range got {
		if v.Value == "" {
			t.Fatalf("empty value listed: %v", got)
		}
		total += v.Hits
	}
	withStatus := 0
	for _, e := range evs {
		if v, _ := e.Get("status"); v != "" {
			withStatus++
		}
	}
	if total != withStatus {
		t.Fatalf("status hits %d, want %d", total, withStatus)
	}

	for _, tc := range []struct {
		params url.Values
		status int
	}{
		{url.Values{}, 400},
		{url.Values{"field": {"service"}, "q": {"level:("}}, 400},
		{url.Values{"field": {"service"}, "q": {"* | limit 3"}}, 400},
		{url.Values{"field": {"service"}, "limit": {"-1"}}, 400},
		{url.Values{"field": {"_time"}}, 400},
		{url.Values{"field": {"service"}, "start": {"yesterday"}}, 400},
	} {
		var e map[string]string
		resp := getJSONBody(t, h, "/api/v1/field_values", tc.params, &e)
		if resp.StatusCode != tc.status || e["error"] == "" {
			t.Errorf("%v: status %d, body %v", tc.params, resp.StatusCode, e)
		}
	}
}

func TestFieldNames(t *testing.T) {
	evs := testEvents(3000)
	sc := newFakeScanner(evs, 100)
	now := time.Unix(0, base+3000e9)
	h := NewFieldNamesHandler(sc, HandlerOptions{Now: func() time.Time { return now }})

	// The newest 100 WARN events, by hand.
	var warn []event.Event
	for _, e := range evs {
		if e.Level == "WARN" {
			warn = append(warn, e)
		}
	}
	sort.Slice(warn, func(i, j int) bool { return warn[i].Time > warn[j].Time })
	warn = warn[:100]
	counts := map[string]int{}
	for _, e := range warn {
		counts["index"]++
		counts["level"]++
		counts["message"]++
		if e.TraceID != "" {
			counts["trace_id"]++
		}
		for _, f := range e.Fields {
			counts[f.Name]++
		}
	}
	type nh struct {
		Name string `json:"name"`
		Hits int    `json:"hits"`
	}
	var got []nh
	resp := getJSONBody(t, h, "/api/v1/field_names", url.Values{"q": {"level:WARN"}, "sample": {"100"}}, &got)
	if resp.StatusCode != 200 || resp.Header.Get("X-Sample-Events") != "100" {
		t.Fatalf("status %d, sample %q", resp.StatusCode, resp.Header.Get("X-Sample-Events"))
	}
	if len(got) != len(counts) {
		t.Fatalf("got %v, want %v", got, counts)
	}
	for i, g := range got {
		if counts[g.Name] != g.Hits {
			t.Errorf("%s: %d hits, want %d", g.Name, g.Hits, counts[g.Name])
		}
		if i > 0 && (got[i-1].Hits < g.Hits || got[i-1].Hits == g.Hits && got[i-1].Name > g.Name) {
			t.Errorf("not ordered at %d: %v", i, got)
		}
	}
	if got[0].Hits != 100 {
		t.Fatalf("first %v", got[0])
	}

	var e map[string]string
	if resp := getJSONBody(t, h, "/api/v1/field_names", url.Values{"q": {"a OR"}}, &e); resp.StatusCode != 400 || e["error"] == "" {
		t.Fatalf("bad query: %d %v", resp.StatusCode, e)
	}
}

// valueHits is one entry of a field_values answer.
type valueHits struct {
	Value string `json:"value"`
	Hits  int    `json:"hits"`
}

// wantTop lists counts the way field_values must answer them, computed
// here apart from the handler: most hits first, ties by value, the first n.
func wantTop(counts map[string]int, n int) []valueHits {
	var list []valueHits
	for v, c := range counts {
		list = append(list, valueHits{v, c})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Hits != list[j].Hits {
			return list[i].Hits > list[j].Hits
		}
		return list[i].Value < list[j].Value
	})
	return list[:min(n, len(list))]
}
