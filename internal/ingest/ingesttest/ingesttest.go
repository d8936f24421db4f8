// Package ingesttest holds what the ingest adapters' tests share: a
// pipeline.Writer that records what reaches it, a pipeline started for one
// test, waiting for N events, and small readers of events and metrics. It
// is imported only from _test.go files.
//
// It imports event, pipeline and metrics but not ingest, so the tests of
// package ingest itself can use it too.
package ingesttest

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// WaitTimeout is how long Recorder.Wait waits for its events: long enough
// for a loaded CI machine under -race, short enough to fail a hung test.
const WaitTimeout = 10 * time.Second

// Recorder is a pipeline.Writer that keeps a copy of every event written.
// Gate, when set, holds every Write until it is closed (Open), so a test
// can fill the pipeline's queue.
type Recorder struct {
	Gate chan struct{}

	mu     sync.Mutex
	events []event.Event
	once   sync.Once
}

// Open closes Gate, if there is one, letting every Write through; it may
// be called more than once.
func (r *Recorder) Open() {
	if r.Gate != nil {
		r.once.Do(func() { close(r.Gate) })
	}
}

// Write records copies of the batches' events. The strings are copied
// because a batch's arena belongs to the pipeline and may be reused.
func (r *Recorder) Write(batches []*event.Batch) error {
	if r.Gate != nil {
		<-r.Gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range batches {
		for i := range b.Events {
			r.events = append(r.events, Clone(&b.Events[i]))
		}
	}
	return nil
}

// Events returns the events recorded so far, in the order written.
func (r *Recorder) Events() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Event(nil), r.events...)
}

// Len is how many events have been recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// Wait returns the recorded events once there are at least n of them; it
// fails the test after WaitTimeout.
func (r *Recorder) Wait(t testing.TB, n int) []event.Event {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		ev := r.Events()
		if len(ev) >= n {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d events after %v, want %d: %q", len(ev), WaitTimeout, n, Messages(ev))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Clone copies e with every string in fresh memory.
func Clone(e *event.Event) event.Event {
	c := *e
	c.Message = strings.Clone(e.Message)
	c.Index = strings.Clone(e.Index)
	c.Level = strings.Clone(e.Level)
	c.TraceID = strings.Clone(e.TraceID)
	c.Fields = nil
	for _, f := range e.Fields {
		c.Fields = append(c.Fields, event.Field{Name: strings.Clone(f.Name), Value: strings.Clone(f.Value)})
	}
	return c
}

// Discard is a pipeline.Writer that stores nothing: benchmarks measure the
// adapter, not a store.
type Discard struct{}

// Write drops the batches.
func (Discard) Write([]*event.Batch) error { return nil }

// NewPipeline starts a pipeline with the default options over w, closed
// when the test ends.
func NewPipeline(t testing.TB, w pipeline.Writer) *pipeline.Pipeline {
	t.Helper()
	return NewPipelineWith(t, pipeline.DefaultOptions(), w)
}

// NewPipelineWith starts a pipeline with opts over w, closed when the test
// ends.
func NewPipelineWith(t testing.TB, opts pipeline.Options, w pipeline.Writer) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.New(opts, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// Field returns the value of e's named extra field, or "<none>".
func Field(e event.Event, name string) string {
	if v, ok := e.Get(name); ok {
		return v
	}
	return "<none>"
}

// Messages returns the events' messages, in order.
func Messages(ev []event.Event) []string {
	var out []string
	for _, e := range ev {
		out = append(out, e.Message)
	}
	return out
}

// Render writes an event as one line that tests compare exactly: time,
// index, level, quoted message, trace id when set, then every field.
func Render(e *event.Event) string {
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

// RenderAll renders every event (Render).
func RenderAll(ev []event.Event) []string {
	out := make([]string, 0, len(ev))
	for i := range ev {
		out = append(out, Render(&ev[i]))
	}
	return out
}

// MustTime parses an RFC 3339 time to Unix nanoseconds.
func MustTime(t testing.TB, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixNano()
}

// Rejected is the logcaster_rejected_events_total count for proto and
// reason.
func Rejected(m *metrics.Metrics, proto, reason string) float64 {
	return testutil.ToFloat64(m.RejectedEvents.WithLabelValues(proto, reason))
}

// Dropped is the logcaster_dropped_events_total count for proto and
// reason.
func Dropped(m *metrics.Metrics, proto, reason string) float64 {
	return testutil.ToFloat64(m.DroppedEvents.WithLabelValues(proto, reason))
}
