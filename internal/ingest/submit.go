package ingest

import (
	"context"
	"errors"
	"net/http"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// SubmitError says why SubmitAll failed and which HTTP status answers it.
type SubmitError struct {
	// Status is 429 when the queue was full and nothing of the request was
	// queued (the sender retries the whole request), 503 otherwise.
	Status int
	Err    error
	stored bool // the failure came while waiting for durability
}

func (e *SubmitError) Error() string {
	switch {
	case e.Status == http.StatusTooManyRequests:
		return "ingest queue is full, retry later"
	case e.stored:
		return "store batch: " + e.Err.Error()
	}
	return "queue batch: " + e.Err.Error()
}

func (e *SubmitError) Unwrap() error { return e.Err }

// SubmitAll queues the batches of one request and waits until each is
// durable, calling stored for each as it is. A request is refused whole or
// stored whole: only the first Submit may fail at once (queue full); once
// something of the request is queued, the rest wait for room. Answer the
// sender only after it returns nil: that is the acknowledgement.
func SubmitAll(ctx context.Context, sink Sink, batches []*event.Batch, stored func(*event.Batch)) *SubmitError {
	tickets := make([]*pipeline.Ticket, 0, len(batches))
	for _, b := range batches {
		t, err := sink.Submit(ctx, b, len(tickets) > 0)
		if err != nil {
			if len(tickets) == 0 && errors.Is(err, pipeline.ErrQueueFull) {
				return &SubmitError{Status: http.StatusTooManyRequests, Err: err}
			}
			return &SubmitError{Status: http.StatusServiceUnavailable, Err: err}
		}
		tickets = append(tickets, t)
	}
	for i, t := range tickets {
		if err := t.Wait(ctx); err != nil {
			return &SubmitError{Status: http.StatusServiceUnavailable, Err: err, stored: true}
		}
		if stored != nil {
			stored(batches[i])
		}
	}
	return nil
}
