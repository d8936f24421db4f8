package ingest

import (
	"context"
	"net/http"
	"runtime"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// gateWriter is a pipeline.Writer that holds every write until released.
type gateWriter struct{ gate chan struct{} }

func (w *gateWriter) Write([]*event.Batch) error { <-w.gate; return nil }

// open lets every write through from now on.
func (w *gateWriter) open() { close(w.gate) }

func oneEvent(msg string) *event.Batch {
	b := &event.Batch{}
	b.Add().Message = msg
	return b
}

func TestSubmitAll(t *testing.T) {
	w := &gateWriter{gate: make(chan struct{})}
	p, err := pipeline.New(pipeline.Options{QueueEvents: 2, GroupEvents: 10}, w)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	// The queue takes two events; a request of three batches waits for room
	// after its first, and is acknowledged only when all are written.
	var stored []string
	done := make(chan *SubmitError)
	go func() {
		done <- SubmitAll(context.Background(), p, []*event.Batch{oneEvent("a"), oneEvent("b"), oneEvent("c")},
			func(b *event.Batch) { stored = append(stored, b.Events[0].Message) })
	}()
	for p.Len() < 2 { // a and b queued, c waiting
		runtime.Gosched()
	}
	// With the queue full, a new request is refused whole with 429.
	if serr := SubmitAll(context.Background(), p, []*event.Batch{oneEvent("x"), oneEvent("y")}, nil); serr == nil || serr.Status != http.StatusTooManyRequests {
		t.Fatalf("full queue: %v", serr)
	}
	w.open()
	if serr := <-done; serr != nil {
		t.Fatalf("request failed: %v", serr)
	}
	if len(stored) != 3 || stored[0] != "a" || stored[2] != "c" {
		t.Fatalf("stored callbacks: %v", stored)
	}
}
