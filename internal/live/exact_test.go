package live

import (
	"slices"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/query"
	"github.com/logcaster/logcaster/internal/store"
)

// exactTestEvents vary what an exact filter can trip on: a missing field,
// an empty value, case, spaces, the built-in fields and a field repeated.
func exactTestEvents(now time.Time) []event.Event {
	f := func(kv ...string) []event.Field {
		var fs []event.Field
		for i := 0; i+1 < len(kv); i += 2 {
			fs = append(fs, event.Field{Name: kv[i], Value: kv[i+1]})
		}
		return fs
	}
	t := now.UnixNano()
	return []event.Event{
		{Time: t, Index: "web", Level: "ERROR", Message: "hello", Fields: f("service", "s0")},
		{Time: t + 1, Index: "web", Level: "error", Message: "Hello", Fields: f("service", "S0")},
		{Time: t + 2, Index: "db", Message: "hello world", Fields: f("service", "")},
		{Time: t + 3, Index: "db", Level: "INFO", TraceID: "abc"},
		{Time: t + 4, Message: "", Fields: f("service", "s0 ", "host", "h1")},
		{Time: t + 5, Index: "web", Message: "hello", Fields: f("service", "s1", "service", "s0")},
		{Time: t + 6, Index: "Web", Message: "héllo", Fields: f("host", "h1", "service", "s0")},
		{Time: t + 7, Level: "ERROR", Message: "x", Fields: f("trace_id", "zzz", "svc", "s0")},
	}
}

// exactTestQueries are exact filters (indexed) and, for comparison, a few
// that are not (matched by MatchBlock).
var exactTestQueries = []string{
	`service:=s0`, `service:=S0`, `service:=""`, `service:="s0 "`, `service:=s1`, `service:=nothing`,
	`_msg:=hello`, `message:=Hello`, `_msg:=""`, `message:="héllo"`,
	`level:=ERROR`, `level:=error`, `level:=""`, `index:=web`, `index:=Web`, `trace_id:=abc`, `trace_id:=zzz`,
	`host:=h1`, `host:=""`, `svc:=s0`,
	`service:=s0 OR service:=s1`, `service:s0`, `NOT service:=s0`, `*`,
}

// TestExactIndexAgreesWithMatchBlock checks that the exact index finds,
// for every exact filter, the rows MatchBlock finds, on events varying
// what an exact match can trip on.
func TestExactIndexAgreesWithMatchBlock(t *testing.T) {
	now := time.Now()
	evs := exactTestEvents(now)
	ents := make([]*entry, len(evs))
	for i := range evs {
		ents[i] = &entry{seq: uint64(i + 1), ev: evs[i]}
	}
	var x exactIndex
	groups := map[string]*group{}
	for _, src := range exactTestQueries {
		q, err := query.Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		field, value, ok := q.ExactMatch()
		if !ok {
			continue
		}
		g := &group{q: q, exact: true, field: field, value: value}
		x.add(field, value, g)
		groups[src] = g
	}
	if len(groups) != 20 {
		t.Fatalf("%d exact filters, want 20", len(groups))
	}
	touched := x.match(ents, nil)
	// A few worked out by hand: a missing field is the empty value, and
	// of a repeated field the first counts.
	for src, want := range map[string][]int{`service:=""`: {2, 3, 7}, `service:=s0`: {0, 6}, `service:=s1`: {5}, `_msg:=""`: {3, 4}, `level:=error`: {1}} {
		if got := groups[src].rows; !slices.Equal(got, want) {
			t.Errorf("%s: rows %v, want %v", src, got, want)
		}
	}
	n := 0
	for src, g := range groups {
		want, err := g.q.MatchBlock(store.NewMemBlock(evs), now)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(g.rows, want) {
			t.Errorf("%s: index rows %v, MatchBlock %v", src, g.rows, want)
		}
		if len(want) > 0 {
			n++
			if !slices.Contains(touched, g) {
				t.Errorf("%s: matched rows but not in touched", src)
			}
		}
	}
	if len(touched) != n {
		t.Errorf("touched %d groups, want %d", len(touched), n)
	}
	// Unindexing every filter leaves the index empty.
	for _, g := range groups {
		x.remove(g.field, g.value)
	}
	if len(x.fields) != 0 {
		t.Errorf("index still has %d fields", len(x.fields))
	}
}

// TestOfferExactAndScanned checks deliveries through the hub for exact
// and other filters side by side: each subscription gets the cursors of
// the events MatchBlock matches, in order, and closing the last one of a
// filter removes it from the index.
func TestOfferExactAndScanned(t *testing.T) {
	h, err := NewHub(DefaultOptions(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	now := time.Now()
	evs := exactTestEvents(now)
	subs := map[string][]*Subscription{}
	for _, src := range exactTestQueries {
		q, err := query.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			s, _, err := h.Subscribe(q, nil)
			if err != nil {
				t.Fatal(err)
			}
			subs[src] = append(subs[src], s)
		}
	}
	b := &event.Batch{}
	for i := range evs {
		e := b.Add()
		*e = evs[i]
	}
	// Twice: the second group's cursors follow the first's.
	h.Publish([]*event.Batch{b})
	h.Publish([]*event.Batch{b})
	h.settle()
	for src, ss := range subs {
		q, _ := query.Parse(src)
		rows, err := q.MatchBlock(store.NewMemBlock(evs), now)
		if err != nil {
			t.Fatal(err)
		}
		var want []uint64
		for _, base := range []uint64{0, uint64(len(evs))} {
			for _, r := range rows {
				want = append(want, base+uint64(r)+1)
			}
		}
		for _, s := range ss {
			ents, d := s.take()
			var got []uint64
			for _, e := range ents {
				got = append(got, e.seq)
				if e.frame == nil {
					t.Errorf("%s: entry %d not rendered", src, e.seq)
				}
			}
			if !slices.Equal(got, want) || d.any() {
				t.Errorf("%s: got %v (drop %+v), want %v", src, got, d, want)
			}
		}
	}
	for _, ss := range subs {
		for _, s := range ss {
			s.Close()
		}
	}
	h.subMu.Lock()
	defer h.subMu.Unlock()
	if len(h.groups) != 0 || len(h.scanned) != 0 || len(h.exact.fields) != 0 {
		t.Errorf("after closing: %d groups, %d scanned, %d indexed fields", len(h.groups), len(h.scanned), len(h.exact.fields))
	}
}

// TestExactRowsNotKept checks that a group's row list outgrown by a large
// published group is let go after the offer, and a small one kept empty.
func TestExactRowsNotKept(t *testing.T) {
	opts := DefaultOptions()
	opts.BufferEvents = 2 * maxKeptRows
	h, err := NewHub(opts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	subscribe := func(src string) *Subscription {
		q, err := query.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := h.Subscribe(q, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	big, small := subscribe(`service:=s0`), subscribe(`service:=s1`)
	b := &event.Batch{}
	for i := 0; i < maxKeptRows+10; i++ {
		e := b.Add()
		e.Time, e.Message = int64(i), "m"
		e.Fields = append(e.Fields, event.Field{Name: "service", Value: "s0"})
	}
	e := b.Add()
	e.Time, e.Message = 1, "m"
	e.Fields = append(e.Fields, event.Field{Name: "service", Value: "s1"})
	h.Publish([]*event.Batch{b})
	h.settle()
	if ents, _ := big.take(); len(ents) != maxKeptRows+10 {
		t.Fatalf("big filter got %d events, want %d", len(ents), maxKeptRows+10)
	}
	if ents, _ := small.take(); len(ents) != 1 {
		t.Fatalf("small filter got %d events, want 1", len(ents))
	}
	h.subMu.Lock()
	defer h.subMu.Unlock()
	if g := h.groups[big.key]; g.rows != nil {
		t.Errorf("big group kept %d rows of capacity", cap(g.rows))
	}
	if g := h.groups[small.key]; g.rows == nil || len(g.rows) != 0 {
		t.Errorf("small group rows %v (cap %d), want kept empty", g.rows, cap(g.rows))
	}
}
