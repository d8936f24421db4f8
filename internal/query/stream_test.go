package query

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
)

// TestStream runs unlimited queries with a memory budget small enough that
// they must go window by window, and checks every row comes out once,
// newest first, as the raw events say.
func TestStream(t *testing.T) {
	evs := testEvents(20000)
	msgHas := func(e *event.Event, w string) bool { return slices.Contains(refTokens(e.Message), w) }
	cases := []struct {
		q         string
		pred      func(e *event.Event) bool
		skip, max int // offset and limit applied to the matches, max 0: all
	}{
		{"*", func(*event.Event) bool { return true }, 0, 0},
		{"refused | where level:ERROR", func(e *event.Event) bool { return msgHas(e, "refused") && e.Level == "ERROR" }, 0, 0},
		{"* | where host:web-1 | offset 7 | limit 300", func(e *event.Event) bool { return e.Fields[1].Value == "web-1" }, 7, 300},
		{"timeout | fields message, timestamp", func(e *event.Event) bool { return msgHas(e, "timeout") }, 0, 0},
	}
	for _, c := range cases {
		sc := newFakeScanner(evs, 500)
		want := wantTimes(evs, c.pred)
		want = want[min(c.skip, len(want)):]
		if c.max > 0 && len(want) > c.max {
			want = want[:c.max]
		}
		// 256 KiB: windows of about 64 KiB, a few hundred rows each.
		rows := runAll(t, sc, c.q, RunOptions{MaxMemory: 256 << 10})
		got := make([]int64, len(rows))
		for i, r := range rows {
			got[i] = r.Time
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %d rows, want %d (first difference at %d)", c.q, len(got), len(want), firstDiff(got, want))
		}
		if c.max == 0 && sc.scans < 4 {
			t.Errorf("%s: %d scans; the budget should have split the run into windows", c.q, sc.scans)
		}
	}
	// The fields pipe ran on each window.
	rows := runAll(t, newFakeScanner(evs, 500), "timeout | fields message, timestamp", RunOptions{MaxMemory: 256 << 10})
	if len(rows) == 0 || len(rows[0].Fields) != 1 || rows[0].Fields[0].Name != "message" || !rows[0].HasTime {
		t.Fatalf("fields after streaming: %+v", rows[0])
	}
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestStreamCancel: a client that goes away mid-stream stops the scan.
func TestStreamCancel(t *testing.T) {
	sc := newFakeScanner(testEvents(20000), 500)
	q, _ := Parse("*")
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := q.Run(ctx, sc, RunOptions{MaxMemory: 256 << 10}, func(*Row) error {
		n++
		if n == 10 {
			cancel() // the HTTP handler's context ends this way on disconnect
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v after %d rows, want context.Canceled", err, n)
	}
	if n > 2000 || sc.scans > 3 {
		t.Fatalf("after cancel: %d rows, %d scans", n, sc.scans)
	}
}

func TestMemoryLimit(t *testing.T) {
	evs := testEvents(20000)
	sc := newFakeScanner(evs, 500)
	for _, q := range []string{
		"* | sort by (host)",                    // every row held for the sort
		"* | stats count() by (trace_id)",       // a group per trace
		"* | stats count_uniq(trace_id)",        // one big set
		"* | stats quantile(0.5, latency_ms)",   // every value kept
		"* | uniq by (trace_id) | sort by (x)",  // rows held for uniq and sort
		"* | stats count() by (trace_id, host)", // packed key path
		"* | stats count() by (trace_id, _time:1s)",
	} {
		pq, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		err = pq.Run(context.Background(), sc, RunOptions{MaxMemory: 256 << 10}, func(*Row) error { return nil })
		var me *MemoryLimitError
		if !errors.As(err, &me) || !errors.Is(err, ErrMemoryLimit) {
			t.Errorf("%s: got %v, want a memory limit error", q, err)
			continue
		}
		if want := "query needs more than 256 KiB; narrow the time range or add filters"; err.Error() != want {
			t.Errorf("%s: message %q", q, err)
		}
	}
	// Within the budget, the same kind of query runs.
	for _, q := range []string{"* | stats count() by (service, level)", "* | stats count_uniq(host)", "* | top 3 (host)", "level:ERROR | sort by (host) | limit 5"} {
		if rows := runAll(t, sc, q, RunOptions{MaxMemory: 8 << 20}); len(rows) == 0 {
			t.Errorf("%s: no rows", q)
		}
	}
}

func TestHandlerMemoryLimit(t *testing.T) {
	sc := newFakeScanner(testEvents(20000), 500)
	opts := DefaultHandlerOptions()
	opts.MaxMemoryBytes = 256 << 10
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	NewHandler(sc, opts).ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/query?q=*+|+stats+count()+by+(trace_id)", nil))
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `"error":"query needs more than 256 KiB; narrow the time range or add filters"`) {
		t.Fatalf("status %d body %s", rec.Code, rec.Body.String())
	}
	if DefaultHandlerOptions().MaxMemoryBytes != 256<<20 {
		t.Fatal("default max memory is not 256 MiB")
	}
}
