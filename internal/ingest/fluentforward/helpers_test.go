package fluentforward

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/pipeline"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// render writes an event as one line that tests compare exactly.
func render(e *event.Event) string {
	var sb strings.Builder
	sb.WriteString("time=" + strconv.FormatInt(e.Time, 10))
	sb.WriteString(" index=" + e.Index)
	sb.WriteString(" level=" + e.Level)
	sb.WriteString(" msg=" + strconv.Quote(e.Message))
	if e.TraceID != "" {
		sb.WriteString(" trace=" + e.TraceID)
	}
	for _, f := range e.Fields {
		sb.WriteString(" " + f.Name + "=" + strconv.Quote(f.Value))
	}
	return sb.String()
}

// recordWriter is a pipeline.Writer that keeps rendered copies of what it
// stores; hold, when set, delays every Write until it is closed.
type recordWriter struct {
	mu     sync.Mutex
	events []string
	hold   chan struct{}
}

func (w *recordWriter) Write(batches []*event.Batch) error {
	if w.hold != nil {
		<-w.hold
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range batches {
		for i := range b.Events {
			w.events = append(w.events, render(&b.Events[i]))
		}
	}
	return nil
}

func (w *recordWriter) snapshot() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.events...)
}

func (w *recordWriter) waitEvents(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got := w.snapshot(); len(got) >= n {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := w.snapshot()
	t.Fatalf("got %d events, want %d: %q", len(got), n, got)
	return nil
}

func startTestServer(t *testing.T, w *recordWriter, edit func(*Options)) (*Server, *metrics.Metrics) {
	t.Helper()
	p, err := pipeline.New(pipeline.DefaultOptions(), w)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	opts := DefaultOptions()
	opts.Addr = "127.0.0.1:0"
	opts.Metrics = m
	if edit != nil {
		edit(&opts)
	}
	s, err := New(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		p.Close()
	})
	return s, m
}

func rejected(m *metrics.Metrics, reason string) float64 {
	return testutil.ToFloat64(m.RejectedEvents.WithLabelValues(protocol, reason))
}
