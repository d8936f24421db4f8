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
	want := wantTop(counts, 3)
	var got []valueHits
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

// TestFieldNamesValues checks ?values= against counts, by hand, over the
// newest 200 events: service and status get their 3 top values, other
// fields none.
func TestFieldNamesValues(t *testing.T) {
	evs := testEvents(3000)
	sc := newFakeScanner(evs, 100)
	now := time.Unix(0, base+3000e9)
	h := NewFieldNamesHandler(sc, HandlerOptions{Now: func() time.Time { return now }})

	newest := slices.Clone(evs)
	sort.Slice(newest, func(i, j int) bool { return newest[i].Time > newest[j].Time })
	newest = newest[:200]
	top := func(field string) []valueHits {
		counts := map[string]int{}
		for _, e := range newest {
			for _, f := range e.Fields {
				if f.Name == field && f.Value != "" {
					counts[f.Value]++
				}
			}
		}
		return wantTop(counts, 3)
	}
	var got []struct {
		Name   string      `json:"name"`
		Hits   int         `json:"hits"`
		Values []valueHits `json:"values"`
	}
	resp := getJSONBody(t, h, "/api/v1/field_names", url.Values{"sample": {"200"}, "values": {"service, status"}, "values_limit": {"3"}}, &got)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	seen := 0
	for _, f := range got {
		switch f.Name {
		case "service", "status":
			seen++
			if want := top(f.Name); !slices.Equal(f.Values, want) {
				t.Errorf("%s: got %v, want %v", f.Name, f.Values, want)
			}
		default:
			if f.Values != nil {
				t.Errorf("%s: values %v, asked for none", f.Name, f.Values)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("fields %+v: want service and status among them", got)
	}
}
