package otlp

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// recordWriter is a pipeline.Writer that keeps copies of what it is given.
type recordWriter struct {
	mu     sync.Mutex
	events []event.Event
}

func (w *recordWriter) Write(batches []*event.Batch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range batches {
		for _, e := range b.Events {
			// Copy: the batch's arena is the pipeline's, not ours.
			c := e
			c.Message = string([]byte(e.Message))
			c.Index = string([]byte(e.Index))
			c.TraceID = string([]byte(e.TraceID))
			c.Fields = nil
			for _, f := range e.Fields {
				c.Fields = append(c.Fields, event.Field{Name: string([]byte(f.Name)), Value: string([]byte(f.Value))})
			}
			w.events = append(w.events, c)
		}
	}
	return nil
}

func (w *recordWriter) all() []event.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]event.Event(nil), w.events...)
}

// discardWriter stores nothing: benchmarks measure the adapter, not a store.
type discardWriter struct{}

func (discardWriter) Write([]*event.Batch) error { return nil }

func newPipeline(t testing.TB, w pipeline.Writer) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.New(pipeline.DefaultOptions(), w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// field returns the value of the named extra field, or "<none>".
func field(e event.Event, name string) string {
	if v, ok := e.Get(name); ok {
		return v
	}
	return "<none>"
}

func mustTime(t testing.TB, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixNano()
}

func gomaxprocs() int { return runtime.GOMAXPROCS(0) }
