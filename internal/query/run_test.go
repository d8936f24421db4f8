package query

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/logcaster/logcaster/internal/event"
)

// base is the corpus's first timestamp: 2026-11-01T00:00:00Z.
var base = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano()

var (
	services = []string{"api", "payment", "hdfs", "web"}
	levels   = []string{"INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"}
	msgs     = []string{
		"Connection refused to db-1:5432",
		"connection: REFUSED by peer",
		"request served in 12 ms",
		"Timeout waiting for lock",
		"timeouts are frequent",
		"user login ok from 10.0.0.1",
		"BlockManager stored block_123",
		"ошибка Время истекло",
		"payment declined, card expired",
		"GET /api/v1/orders 200",
	}
)

// testEvents builds a reproducible corpus with distinct timestamps, one
// second apart in a shuffled order, across four services.
func testEvents(n int) []event.Event {
	rng := rand.New(rand.NewSource(7))
	perm := rng.Perm(n)
	evs := make([]event.Event, n)
	for i := range evs {
		e := &evs[i]
		e.Time = base + int64(perm[i])*int64(time.Second)
		e.Index = "app"
		e.Level = levels[rng.Intn(len(levels))]
		e.Message = msgs[rng.Intn(len(msgs))]
		if rng.Intn(3) > 0 {
			e.TraceID = fmt.Sprintf("%032x", rng.Int63())
		}
		e.Fields = append(e.Fields, event.Field{Name: "service", Value: services[rng.Intn(len(services))]})
		e.Fields = append(e.Fields, event.Field{Name: "host", Value: fmt.Sprintf("web-%d", rng.Intn(12))})
		if rng.Intn(4) > 0 {
			e.Fields = append(e.Fields, event.Field{Name: "status", Value: strconv.Itoa(100 * (2 + rng.Intn(4)))})
		}
		e.Fields = append(e.Fields, event.Field{Name: "latency_ms", Value: strconv.Itoa(rng.Intn(1000))})
	}
	return evs
}

// refTokens splits like package tokenize, written independently: runs of
// letters, digits and '_', lower-cased.
func refTokens(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') })
	for i := range f {
		f[i] = strings.ToLower(f[i])
	}
	return f
}

func refHasPhrase(s, phrase string) bool {
	hay, needle := refTokens(s), refTokens(phrase)
	for i := 0; i+len(needle) <= len(hay); i++ {
		if slices.Equal(hay[i:i+len(needle)], needle) {
			return true
		}
	}
	return false
}

func get(e *event.Event, f string) string { v, _ := e.Get(f); return v }

func num(e *event.Event, f string) (float64, bool) {
	v, err := strconv.ParseFloat(get(e, f), 64)
	return v, err == nil
}

// runAll runs q and returns the emitted rows.
func runAll(t *testing.T, sc *fakeScanner, q string, opts RunOptions) []*Row {
	t.Helper()
	pq, err := Parse(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var rows []*Row
	err = pq.Run(context.Background(), sc, opts, func(r *Row) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: run: %v", q, err)
	}
	return rows
}

// wantTimes returns the times of the events pred accepts, newest first.
func wantTimes(evs []event.Event, pred func(e *event.Event) bool) []int64 {
	var ts []int64
	for i := range evs {
		if pred(&evs[i]) {
			ts = append(ts, evs[i].Time)
		}
	}
	slices.Sort(ts)
	slices.Reverse(ts)
	return ts
}

func TestRunFilters(t *testing.T) {
	evs := testEvents(3000)
	for name, sc := range scanners(t, evs, 128) {
		t.Run(name, func(t *testing.T) {
			msg := func(e *event.Event) string { return e.Message }
			word := func(w string) func(e *event.Event) bool {
				return func(e *event.Event) bool { return slices.Contains(refTokens(msg(e)), w) }
			}
			cases := []struct {
				q    string
				pred func(e *event.Event) bool
			}{
				{"timeout", word("timeout")},
				{"TIMEOUT", word("timeout")},
				{"timeouts", word("timeouts")},
				{"time", word("time")}, // matches no event: no whole token "time"
				{`"connection refused"`, func(e *event.Event) bool { return refHasPhrase(msg(e), "connection refused") }},
				{`"refused to db"`, func(e *event.Event) bool { return refHasPhrase(msg(e), "refused to db") }},
				{"время", word("время")},
				{"connection refused", func(e *event.Event) bool { return word("connection")(e) && word("refused")(e) }},
				{"timeout OR refused", func(e *event.Event) bool { return word("timeout")(e) || word("refused")(e) }},
				{"refused -peer", func(e *event.Event) bool { return word("refused")(e) && !word("peer")(e) }},
				{"NOT refused", func(e *event.Event) bool { return !word("refused")(e) }},
				{"level:error service:payment", func(e *event.Event) bool { return e.Level == "ERROR" && get(e, "service") == "payment" }},
				{"level:(ERROR OR warn) AND NOT host:web-1", func(e *event.Event) bool {
					return (e.Level == "ERROR" || e.Level == "WARN") && get(e, "host") != "web-1"
				}},
				{"service:=Payment", func(e *event.Event) bool { return get(e, "service") == "Payment" }},
				{"service:=payment", func(e *event.Event) bool { return get(e, "service") == "payment" }},
				{"host:web-1*", func(e *event.Event) bool { return strings.HasPrefix(get(e, "host"), "web-1") }},
				{"time*", func(e *event.Event) bool {
					return slices.ContainsFunc(refTokens(msg(e)), func(t string) bool { return strings.HasPrefix(t, "time") })
				}},
				{"trace_id:*", func(e *event.Event) bool { return e.TraceID != "" }},
				{"-status:*", func(e *event.Event) bool { return get(e, "status") == "" }},
				{"status:>=400", func(e *event.Event) bool { n, ok := num(e, "status"); return ok && n >= 400 }},
				{"latency_ms:>250 status:<300", func(e *event.Event) bool {
					l, _ := num(e, "latency_ms")
					s, ok := num(e, "status")
					return l > 250 && ok && s < 300
				}},
				{"latency_ms:[100, 250)", func(e *event.Event) bool { l, _ := num(e, "latency_ms"); return l >= 100 && l < 250 }},
				{"latency_ms:[100, 250]", func(e *event.Event) bool { l, _ := num(e, "latency_ms"); return l >= 100 && l <= 250 }},
				{`~"ockMana"`, func(e *event.Event) bool { return strings.Contains(msg(e), "ockMana") }},
				{`message:~"time(out)?s? "`, func(e *event.Event) bool { return regexp.MustCompile(`time(out)?s? `).MatchString(msg(e)) }},
				{`host:~"^web-1[01]$"`, func(e *event.Event) bool { h := get(e, "host"); return h == "web-10" || h == "web-11" }},
				{"_time:[2026-11-01T00:10:00Z, 2026-11-01T00:20:00Z)", func(e *event.Event) bool {
					return e.Time >= base+600e9 && e.Time < base+1200e9
				}},
				{"_time:[2026-11-01T00:10:00Z, 2026-11-01T00:20:00Z] refused", func(e *event.Event) bool {
					return e.Time >= base+600e9 && e.Time <= base+1200e9 && word("refused")(e)
				}},
			}
			for _, c := range cases {
				want := wantTimes(evs, c.pred)
				rows := runAll(t, sc, c.q, RunOptions{})
				got := make([]int64, len(rows))
				for i, r := range rows {
					got[i] = r.Time
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: got %d rows, want %d", c.q, len(got), len(want))
				}
				if len(want) == 0 && c.q != "time" && c.q != "service:=Payment" {
					t.Errorf("%s: the corpus has no match; the case tests nothing", c.q)
				}
			}
		})
	}
}

func TestRunTimeBoundsAndLimit(t *testing.T) {
	evs := testEvents(3000)
	sc := newFakeScanner(evs, 100)
	start, end := base+100e9, base+2000e9
	want := wantTimes(evs, func(e *event.Event) bool { return e.Time >= start && e.Time < end && e.Level == "ERROR" })
	rows := runAll(t, sc, "level:ERROR", RunOptions{Start: start, End: end, Limit: 37})
	if len(rows) != 37 {
		t.Fatalf("got %d rows, want 37", len(rows))
	}
	for i, r := range rows {
		if r.Time != want[i] {
			t.Fatalf("row %d: time %d, want %d", i, r.Time, want[i])
		}
	}
	// The start is inclusive and the end exclusive.
	rows = runAll(t, sc, "*", RunOptions{Start: base + 5e9, End: base + 8e9})
	if len(rows) != 3 || rows[0].Time != base+7e9 || rows[2].Time != base+5e9 {
		t.Fatalf("bounds: got %d rows", len(rows))
	}
	// Relative time: the last 10 seconds before Now.
	now := time.Unix(0, base+2999e9)
	rows = runAll(t, sc, "_time:10s", RunOptions{Now: now})
	if len(rows) != 11 { // 2989s .. 2999s inclusive
		t.Fatalf("_time:10s: got %d rows, want 11", len(rows))
	}
}

func TestRunLimitStopsEarly(t *testing.T) {
	evs := testEvents(20000)
	sc := newFakeScanner(evs, 100)
	rows := runAll(t, sc, "*", RunOptions{Limit: 100})
	if len(rows) != 100 || rows[0].Time != base+19999e9 || rows[99].Time != base+19900e9 {
		t.Fatalf("got %d rows, first %d", len(rows), rows[0].Time)
	}
	if sc.visited > 40 {
		t.Errorf("visited %d of %d blocks for the newest 100", sc.visited, len(sc.blocks))
	}
}

func TestRunRowContents(t *testing.T) {
	e := event.Event{Time: base, Index: "app", Level: "ERROR", Message: "boom \"x\"", TraceID: "abc",
		Fields: []event.Field{{Name: "service", Value: "api"}, {Name: "empty", Value: ""}}}
	sc := newFakeScanner([]event.Event{e}, 10)
	rows := runAll(t, sc, "boom", RunOptions{})
	if len(rows) != 1 {
		t.Fatalf("got %d rows", len(rows))
	}
	got := string(AppendNDJSON(nil, rows[0]))
	want := `{"timestamp":"2026-11-01T00:00:00Z","index":"app","level":"ERROR","message":"boom \"x\"","trace_id":"abc","service":"api"}` + "\n"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestRunCancel(t *testing.T) {
	sc := newFakeScanner(testEvents(5000), 50)
	q, _ := Parse("*")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := q.Run(ctx, sc, RunOptions{}, func(*Row) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
