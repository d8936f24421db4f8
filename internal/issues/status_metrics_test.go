package issues

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logcaster/logcaster/internal/metrics"
)

// TestStatusGauge: logcaster_issues{status} follows every change of status
// (new issue, PATCH, regression, an ignored issue waking up) and is
// recounted at start.
func TestStatusGauge(t *testing.T) {
	opts := testOpts(t)
	m := metrics.New()
	opts.Metrics = m
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	gauges := func(when string, open, resolved, ignored float64) {
		t.Helper()
		got := [3]float64{testutil.ToFloat64(m.Issues.WithLabelValues("unresolved")),
			testutil.ToFloat64(m.Issues.WithLabelValues("resolved")), testutil.ToFloat64(m.Issues.WithLabelValues("ignored"))}
		if got != [3]float64{open, resolved, ignored} {
			t.Fatalf("%s: open, resolved, ignored = %v, want %v", when, got, [3]float64{open, resolved, ignored})
		}
	}
	now := time.Now()
	for _, fn := range []string{"a", "b", "c", "a"} {
		if _, err := tr.Record(javaEvent(fn, now, "", "1")); err != nil {
			t.Fatal(err)
		}
	}
	gauges("three new issues", 3, 0, 0)
	tr.SetStatus("SHOP-1", StatusChange{Status: StatusResolved})
	tr.SetStatus("SHOP-2", StatusChange{Status: StatusIgnored, IgnoreCount: 1})
	gauges("resolved and ignored", 1, 1, 1)
	tr.SetStatus("SHOP-2", StatusChange{Status: StatusIgnored, IgnoreCount: 1}) // same status again
	gauges("ignored twice", 1, 1, 1)
	tr.Record(javaEvent("a", now, "", "2")) // regression
	gauges("regression", 2, 0, 1)
	tr.Record(javaEvent("b", now, "", "1")) // ignored until 1 more event
	gauges("ignored woke up", 3, 0, 0)
	tr.SetStatus("3", StatusChange{Status: StatusResolved})
	tr.Close()

	m = metrics.New()
	opts.Metrics = m
	tr, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	gauges("after restart", 2, 1, 0)
	if c := tr.StatusCounts(); c[StatusUnresolved] != 2 || c[StatusResolved] != 1 || c[StatusIgnored] != 0 {
		t.Fatalf("StatusCounts %v", c)
	}
}
