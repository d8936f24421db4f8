// Package pipeline carries batches of events from the protocol adapters to
// the store: a bounded queue (counted in events) in front of one writer that
// takes everything queued at once and hands it to the store as one group, so
// that one WAL write and one fsync cover many senders (group commit).
//
// Promises: batches are written in the order they were queued; a Ticket is
// done only after its batch is durable (or failed); a full queue pushes back
// (Submit blocks, or fails with ErrQueueFull) and never drops silently;
// Close drains everything already queued before it returns. Subscribers see
// every written batch, in order, after it is durable; they must not block.
package pipeline

import (
	"context"
	"errors"
	"sync"

	"github.com/logcaster/logcaster/internal/event"
)

// ErrQueueFull is returned by a non-blocking Submit when the queue is full.
var ErrQueueFull = errors.New("ingest queue is full")

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("ingest pipeline is shut down")

// Writer durably stores groups of batches: when Write returns nil, every
// event of every batch survives a crash of the process.
type Writer interface {
	Write(batches []*event.Batch) error
}

// Options size the pipeline.
type Options struct {
	// QueueEvents is the queue's capacity in events.
	QueueEvents int
	// GroupEvents caps how many events one Write receives, so one group
	// commit cannot take unboundedly long.
	GroupEvents int
}

// DefaultOptions returns the options logcaster serve uses by default.
func DefaultOptions() Options {
	// 256 Ki events is about 0.6 s of ingest at the target rate and 80 MB of
	// typical events: enough to ride out an fsync stall, small enough to
	// bound memory.
	return Options{QueueEvents: 64 << 10, GroupEvents: 32 << 10}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.QueueEvents <= 0 || o.GroupEvents <= 0 {
		return errors.New("pipeline: queue and group sizes must be positive")
	}
	return nil
}

// Ticket tracks one submitted batch until it is durable.
type Ticket struct {
	done chan struct{}
	err  error
}

// Done is closed when the batch is durable or has failed.
func (t *Ticket) Done() <-chan struct{} { return t.done }

// Err is the batch's outcome, valid after Done is closed.
func (t *Ticket) Err() error { return t.err }

// Wait waits for the batch's outcome or for ctx to end.
func (t *Ticket) Wait(ctx context.Context) error {
	select {
	case <-t.done:
		return t.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

type item struct {
	b *event.Batch
	t *Ticket
}

// Pipeline is the queue and its writer.
type Pipeline struct {
	opts Options
	w    Writer

	mu      sync.Mutex
	queue   []item
	queued  int           // events queued or being written
	space   chan struct{} // closed (and replaced) when room frees up
	work    chan struct{} // has one token when the queue is not empty
	closed  bool
	stopped chan struct{}
	subs    []func([]*event.Batch)
}

// New starts a pipeline writing to w.
func New(opts Options, w Writer) (*Pipeline, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	p := &Pipeline{
		opts:    opts,
		w:       w,
		space:   make(chan struct{}),
		work:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
	go p.run()
	return p, nil
}

// Subscribe registers fn to receive every group of batches after it is
// durable. Register subscribers before submitting; fn must not block.
func (p *Pipeline) Subscribe(fn func([]*event.Batch)) {
	p.mu.Lock()
	p.subs = append(p.subs, fn)
	p.mu.Unlock()
}

// Submit queues b. When the queue is full it waits for room if block is
// set (until ctx ends), and otherwise fails at once with ErrQueueFull. A
// batch larger than the whole queue is accepted when the queue is empty.
func (p *Pipeline) Submit(ctx context.Context, b *event.Batch, block bool) (*Ticket, error) {
	n := len(b.Events)
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		if p.queued == 0 || p.queued+n <= p.opts.QueueEvents {
			t := &Ticket{done: make(chan struct{})}
			p.queue = append(p.queue, item{b, t})
			p.queued += n
			p.mu.Unlock()
			select {
			case p.work <- struct{}{}:
			default:
			}
			return t, nil
		}
		space := p.space
		p.mu.Unlock()
		if !block {
			return nil, ErrQueueFull
		}
		select {
		case <-space:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Len is the number of events queued and not yet durable.
func (p *Pipeline) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued
}

// Cap is the queue's capacity in events.
func (p *Pipeline) Cap() int { return p.opts.QueueEvents }

// Close stops accepting batches, writes everything queued and returns when
// the writer has finished.
func (p *Pipeline) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.space) // wake blocked submitters so they see closed
		p.space = make(chan struct{})
	}
	p.mu.Unlock()
	select {
	case p.work <- struct{}{}:
	default:
	}
	<-p.stopped
}

func (p *Pipeline) run() {
	defer close(p.stopped)
	var group []item
	var batches []*event.Batch
	for range p.work {
		for {
			p.mu.Lock()
			group, batches = group[:0], batches[:0]
			events := 0
			for len(p.queue) > 0 && (events == 0 || events+len(p.queue[0].b.Events) <= p.opts.GroupEvents) {
				it := p.queue[0]
				p.queue[0] = item{}
				p.queue = p.queue[1:]
				group = append(group, it)
				batches = append(batches, it.b)
				events += len(it.b.Events)
			}
			if len(p.queue) == 0 {
				p.queue = p.queue[:0:0] // let the old backing array go
			}
			closed := p.closed
			subs := p.subs
			p.mu.Unlock()
			if len(group) == 0 {
				if closed {
					return
				}
				break
			}
			err := p.w.Write(batches)
			for _, it := range group {
				it.t.err = err
				close(it.t.done)
			}
			if err == nil {
				for _, fn := range subs {
					fn(batches)
				}
			}
			p.mu.Lock()
			p.queued -= events
			close(p.space)
			p.space = make(chan struct{})
			p.mu.Unlock()
		}
	}
}
