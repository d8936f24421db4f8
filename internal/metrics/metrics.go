// Package metrics holds LogCaster's Prometheus metrics, in one place so that
// every name and label set is defined once. Packages receive a *Metrics (or
// nil in tests, which every helper tolerates) rather than using globals.
//
// Label values stay bounded: protocols and reasons are fixed sets, and index
// names are folded into "other" beyond Metrics.MaxIndexLabels.
package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// DefaultMaxIndexLabels bounds the distinct index label values; later indexes are
// counted under "other" so a sender inventing index names cannot blow up
// Prometheus's series count.
const DefaultMaxIndexLabels = 100

// Metrics are the server's metrics.
type Metrics struct {
	Registry *prometheus.Registry
	// MaxIndexLabels is how many index names get a label of their own
	// (DefaultMaxIndexLabels unless set before ingest starts).
	MaxIndexLabels int

	ActiveConnections *prometheus.GaugeVec   // protocol
	IngestedEvents    *prometheus.CounterVec // protocol, index
	IngestedBytes     *prometheus.CounterVec // protocol
	RejectedEvents    *prometheus.CounterVec // protocol, reason
	DroppedEvents     *prometheus.CounterVec // protocol, reason
	HTTPDuration      *prometheus.HistogramVec
	QueryDuration     prometheus.Histogram
	WALSyncDuration   prometheus.Histogram
	MergeDuration     prometheus.Histogram
	CorruptParts      prometheus.Counter

	// These three measure features that have not landed yet (live tail,
	// issues, alerting). They are registered now so that dashboards and
	// alert rules can name them; they stay 0 until the feature calls them.
	LiveSubscribers prometheus.Gauge       // open live-tail viewers
	Issues          *prometheus.GaugeVec   // status: unresolved, resolved, ignored (as the issues API names them)
	AlertsSent      *prometheus.CounterVec // result: ok, error

	// logcaster_cache_hits_total / logcaster_cache_misses_total{cache} are
	// not registered: LogCaster has no cache yet. The first cache adds them
	// here with a "cache" label naming it, so that no metric claims to
	// measure something that does not exist.

	lastSync lastObserved // the latest WAL commit, for /health

	mu      sync.Mutex
	indexes map[string]bool
}

// New creates the metrics and registers them, with the Go and process
// collectors, on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		ActiveConnections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "logcaster_active_connections", Help: "Open client connections by protocol.",
		}, []string{"protocol"}),
		IngestedEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logcaster_ingested_events_total", Help: "Events accepted, by protocol and index.",
		}, []string{"protocol", "index"}),
		IngestedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logcaster_ingested_bytes_total", Help: "Bytes of input read, by protocol.",
		}, []string{"protocol"}),
		RejectedEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logcaster_rejected_events_total", Help: "Events or lines refused with an error to the sender, by protocol and reason.",
		}, []string{"protocol", "reason"}),
		DroppedEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logcaster_dropped_events_total", Help: "Events lost without an error reaching the sender, by protocol and reason.",
		}, []string{"protocol", "reason"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "logcaster_http_request_duration_seconds", Help: "HTTP request latency by route and status code.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"route", "code"}),
		QueryDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "logcaster_query_duration_seconds", Help: "Query execution time.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}),
		MergeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "logcaster_merge_duration_seconds", Help: "Time of one background merge of parts.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}),
		CorruptParts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "logcaster_corrupt_parts_total", Help: "Parts found damaged and set aside.",
		}),
		LiveSubscribers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "logcaster_live_subscribers", Help: "Open live-tail subscriptions (0 until live tail exists).",
		}),
		Issues: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "logcaster_issues", Help: "Grouped error issues by status (0 until issues exist).",
		}, []string{"status"}),
		AlertsSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logcaster_alerts_sent_total", Help: "Alert notifications sent, by result (0 until alerting exists).",
		}, []string{"result"}),
		indexes:        map[string]bool{},
		MaxIndexLabels: DefaultMaxIndexLabels,
	}
	m.lastSync.Histogram = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "logcaster_wal_sync_duration_seconds", Help: "Time of one WAL group commit (write and fsync).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
	})
	m.WALSyncDuration = &m.lastSync
	// Vectors show no series until a label value is used; these known
	// values are created at 0 so that the metrics exist (and dashboards
	// draw 0) before the features that set them land.
	for _, st := range []string{"unresolved", "resolved", "ignored"} {
		m.Issues.WithLabelValues(st)
	}
	for _, r := range []string{"ok", "error"} {
		m.AlertsSent.WithLabelValues(r)
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.ActiveConnections, m.IngestedEvents, m.IngestedBytes, m.RejectedEvents, m.DroppedEvents,
		m.HTTPDuration, m.QueryDuration, m.WALSyncDuration, m.MergeDuration, m.CorruptParts,
		m.LiveSubscribers, m.Issues, m.AlertsSent,
	)
	return m
}

// IndexLabel returns the label value to use for an index: the name itself
// for the first MaxIndexLabels names seen, "other" after that.
func (m *Metrics) IndexLabel(index string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.indexes[index] {
		return index
	}
	if len(m.indexes) >= m.MaxIndexLabels {
		return "other"
	}
	m.indexes[index] = true
	return index
}

// Ingested counts n accepted events of one index.
func (m *Metrics) Ingested(protocol, index string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.IngestedEvents.WithLabelValues(protocol, m.IndexLabel(index)).Add(float64(n))
}

// Rejected counts n refused events.
func (m *Metrics) Rejected(protocol, reason string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.RejectedEvents.WithLabelValues(protocol, reason).Add(float64(n))
}

// Dropped counts n lost events.
func (m *Metrics) Dropped(protocol, reason string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.DroppedEvents.WithLabelValues(protocol, reason).Add(float64(n))
}

// Bytes counts n bytes read.
func (m *Metrics) Bytes(protocol string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.IngestedBytes.WithLabelValues(protocol).Add(float64(n))
}

// ConnOpened and ConnClosed track open connections.
func (m *Metrics) ConnOpened(protocol string) {
	if m != nil {
		m.ActiveConnections.WithLabelValues(protocol).Inc()
	}
}

// ConnClosed is the pair of ConnOpened.
func (m *Metrics) ConnClosed(protocol string) {
	if m != nil {
		m.ActiveConnections.WithLabelValues(protocol).Dec()
	}
}

// GaugeFunc registers a gauge whose value is read from fn at scrape time,
// for figures another package already keeps (queue fill, storage size).
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// LastWALSync returns when the latest WAL commit ended and how long it
// took; the zero time if none has happened yet.
func (m *Metrics) LastWALSync() (at time.Time, took time.Duration) {
	if m == nil {
		return time.Time{}, 0
	}
	ns := m.lastSync.at.Load()
	if ns == 0 {
		return time.Time{}, 0
	}
	return time.Unix(0, ns), time.Duration(m.lastSync.took.Load())
}

// lastObserved is a histogram that also remembers its latest observation,
// so /health can report the WAL's last commit without the store exporting
// one more accessor (the store already observes this histogram).
type lastObserved struct {
	prometheus.Histogram
	at   atomic.Int64 // unix nanoseconds
	took atomic.Int64 // nanoseconds
}

func (h *lastObserved) Observe(seconds float64) {
	h.Histogram.Observe(seconds)
	h.took.Store(int64(seconds * float64(time.Second)))
	h.at.Store(time.Now().UnixNano())
}
