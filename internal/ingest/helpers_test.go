package ingest

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// recordWriter is a pipeline.Writer that keeps what it is given, dropping a
// batch whose Source it has already stored, as the store does. block, when
// set, holds every Write until it is closed.
type recordWriter struct {
	mu      sync.Mutex
	events  []event.Event
	batches int
	dups    int // batches dropped as already stored
	seen    map[event.Source]bool
	block   chan struct{}
	fail    error
}

func (w *recordWriter) Write(batches []*event.Batch) error {
	if w.block != nil {
		<-w.block
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return w.fail
	}
	if w.seen == nil {
		w.seen = map[event.Source]bool{}
	}
	for _, b := range batches {
		if b.Source.Seq != 0 {
			if w.seen[b.Source] {
				w.dups++
				continue
			}
			w.seen[b.Source] = true
		}
		w.batches++
		for _, e := range b.Events {
			// Copy: the batch's arena is the pipeline's, not ours.
			c := e
			c.Message = string([]byte(e.Message))
			c.Fields = append([]event.Field(nil), e.Fields...)
			w.events = append(w.events, c)
		}
	}
	return nil
}

func (w *recordWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

// messages returns the stored messages, sorted.
func (w *recordWriter) messages() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, len(w.events))
	for i, e := range w.events {
		out[i] = e.Message
	}
	sort.Strings(out)
	return out
}

// waitCount waits until n events are stored.
func (w *recordWriter) waitCount(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for w.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("stored %d events, want %d", w.count(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newPipeline(t *testing.T, w pipeline.Writer, queue int) *pipeline.Pipeline {
	t.Helper()
	opts := pipeline.DefaultOptions()
	if queue > 0 {
		opts.QueueEvents = queue
	}
	p, err := pipeline.New(opts, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
