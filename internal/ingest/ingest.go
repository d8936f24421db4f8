// Package ingest turns what clients send into event Batches and hands them
// to the pipeline: one file per protocol (line.go is the line/JSON parser
// every line-based protocol shares, tcp.go the TCP lines listener with the
// acknowledged `logcaster send` framing in tcp_send.go, http.go the HTTP
// ingest endpoint).
//
// Promises:
//   - Nothing is dropped silently: every line is either in a submitted
//     batch, refused with an error to the sender (HTTP, send frames), or
//     counted in metrics (TCP lines, which carry no answer channel).
//   - Backpressure goes to the sender: TCP reads stop while the pipeline's
//     queue is full; HTTP answers 429 with Retry-After.
//   - HTTP and send acknowledgements are given only after the pipeline
//     reports the batch durable.
//   - No input crashes a listener: every parser is fuzzed, every listener
//     limits line size, body size, connection count and idle time.
package ingest

import (
	"context"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// Sink is what ingest needs of the pipeline; *pipeline.Pipeline is one.
type Sink interface {
	Submit(ctx context.Context, b *event.Batch, block bool) (*pipeline.Ticket, error)
}

// Protocol labels used in metrics.
const (
	protoTCP  = "tcp"
	protoSend = "send"
	protoHTTP = "http"
)
