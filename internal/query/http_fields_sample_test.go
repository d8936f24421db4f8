package query

import (
	"net/url"
	"slices"
	"sort"
	"testing"
	"time"
)

// TestFieldValuesSample checks ?sample=N against a count, by hand, of the
// status values of the newest N ERROR events, and that X-Sample-Events
// says N.
func TestFieldValuesSample(t *testing.T) {
	evs := testEvents(3000)
	sc := newFakeScanner(evs, 100)
	now := time.Unix(0, base+3000e9)
	h := NewFieldValuesHandler(sc, HandlerOptions{Now: func() time.Time { return now }})

	var errs []int64
	status := map[int64]string{}
	for _, e := range evs {
		if e.Level != "ERROR" {
			continue
		}
		errs = append(errs, e.Time)
		for _, f := range e.Fields {
			if f.Name == "status" {
				status[e.Time] = f.Value
			}
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i] > errs[j] })
	const sample = 150
	counts := map[string]int{}
	for _, ts := range errs[:sample] {
		if v := status[ts]; v != "" {
			counts[v]++
		}
	}
	type vh struct {
		Value string `json:"value"`
		Hits  int    `json:"hits"`
	}
	var want []vh
	for v, c := range counts {
		want = append(want, vh{v, c})
	}
	sort.Slice(want, func(i, j int) bool {
		if want[i].Hits != want[j].Hits {
			return want[i].Hits > want[j].Hits
		}
		return want[i].Value < want[j].Value
	})
	want = want[:3]
	var got []vh
	resp := getJSONBody(t, h, "/api/v1/field_values", url.Values{"field": {"status"}, "q": {"level:ERROR"}, "limit": {"3"}, "sample": {"150"}}, &got)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if n := resp.Header.Get("X-Sample-Events"); n != "150" {
		t.Fatalf("X-Sample-Events %q, want 150", n)
	}

	var bad map[string]string
	resp = getJSONBody(t, h, "/api/v1/field_values", url.Values{"field": {"status"}, "sample": {"0"}}, &bad)
	if resp.StatusCode != 400 || bad["error"] == "" {
		t.Fatalf("sample=0: %d %v", resp.StatusCode, bad)
	}
}
