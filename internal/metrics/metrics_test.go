package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLastWALSync(t *testing.T) {
	m := New()
	if at, _ := m.LastWALSync(); !at.IsZero() {
		t.Fatalf("before any commit: %v", at)
	}
	before := time.Now()
	m.WALSyncDuration.Observe(0.25)
	at, took := m.LastWALSync()
	if took != 250*time.Millisecond || at.Before(before) {
		t.Fatalf("got %v at %v", took, at)
	}
	// The histogram still counts: one sample of 0.25.
	if n := testutil.CollectAndCount(m.Registry, "logcaster_wal_sync_duration_seconds"); n != 1 {
		t.Fatalf("histogram series %d", n)
	}
	var nilM *Metrics
	if at, took := nilM.LastWALSync(); !at.IsZero() || took != 0 {
		t.Fatal("nil metrics")
	}
}

func TestFeatureMetricsStartAtZero(t *testing.T) {
	m := New()
	if v := testutil.ToFloat64(m.Issues.WithLabelValues("unresolved")); v != 0 {
		t.Fatalf("issues open %v", v)
	}
	if n := testutil.CollectAndCount(m.Registry, "logcaster_issues", "logcaster_alerts_sent_total", "logcaster_live_subscribers"); n != 6 {
		t.Fatalf("series %d, want 3 issue statuses + 2 alert results + 1", n)
	}
}
