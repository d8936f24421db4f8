package query

import (
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/store"
)

func TestMatchBlock(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	evs := []event.Event{
		{Time: now.Add(-time.Hour).UnixNano(), Index: "web", Level: "ERROR", Message: "disk full on sda"},
		{Time: now.Add(-time.Minute).UnixNano(), Index: "web", Level: "INFO", Message: "request done"},
		{Time: now.Add(-time.Second).UnixNano(), Index: "db", Level: "ERROR", Message: "Disk slow", Fields: []event.Field{{Name: "host", Value: "h1"}}},
	}
	b := store.NewMemBlock(evs)
	for _, tc := range []struct {
		q    string
		want []int
	}{
		{"disk", []int{0, 2}},
		{"level:=ERROR index:=web", []int{0}},
		{"host:=h1", []int{2}},
		{"_time:5m", []int{1, 2}},
		{"NOT disk", []int{1}},
		{"nothing", nil},
		{"*", []int{0, 1, 2}},
	} {
		q, err := Parse(tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		got, err := q.MatchBlock(b, now)
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: got %v, want %v", tc.q, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("%s: got %v, want %v", tc.q, got, tc.want)
			}
		}
	}
}

func TestFilterOnly(t *testing.T) {
	for q, ok := range map[string]bool{"error": true, "error | stats count()": false, "* | sort by (_time)": false, "a | limit 5": false} {
		p, err := Parse(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got := p.FilterOnly() == nil; got != ok {
			t.Errorf("%s: FilterOnly ok=%v, want %v", q, got, ok)
		}
	}
}
