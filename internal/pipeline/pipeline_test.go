package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// recorder is a Writer that records every batch it is given, in order, and
// can be paused (to fill the queue) or made to fail.
type recorder struct {
	mu      sync.Mutex
	got     []string
	groups  int
	gate    chan struct{} // when non-nil, Write waits for a token
	fail    error
	entered chan struct{}
}

func (r *recorder) Write(bs []*event.Batch) error {
	if r.entered != nil {
		select {
		case r.entered <- struct{}{}:
		default:
		}
	}
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.groups++
	for _, b := range bs {
		for _, e := range b.Events {
			r.got = append(r.got, e.Message)
		}
	}
	return nil
}

func batch(msgs ...string) *event.Batch {
	b := &event.Batch{}
	for _, m := range msgs {
		b.Add().Message = m
	}
	return b
}

func TestOrderTicketsAndSubscribers(t *testing.T) {
	w := &recorder{}
	p, err := New(Options{QueueEvents: 1000, GroupEvents: 10}, w)
	if err != nil {
		t.Fatal(err)
	}
	var subMu sync.Mutex
	var seen []string
	p.Subscribe(func(bs []*event.Batch) {
		subMu.Lock()
		defer subMu.Unlock()
		for _, b := range bs {
			for _, e := range b.Events {
				seen = append(seen, e.Message)
			}
		}
	})
	var want []string
	var tickets []*Ticket
	for i := 0; i < 50; i++ {
		m := fmt.Sprintf("m%02d", i)
		want = append(want, m+"a", m+"b")
		tk, err := p.Submit(context.Background(), batch(m+"a", m+"b"), true)
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, tk)
	}
	for _, tk := range tickets {
		if err := tk.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if fmt.Sprint(w.got) != fmt.Sprint(want) {
		t.Fatalf("written out of order:\n got %v\nwant %v", w.got, want)
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("subscribers saw %v", seen)
	}
	if w.groups < 10 { // 100 events, at most 10 a group
		t.Fatalf("GroupEvents not honoured: %d groups", w.groups)
	}
	if _, err := p.Submit(context.Background(), batch("late"), true); !errors.Is(err, ErrClosed) {
		t.Fatalf("submit after close: %v", err)
	}
}

func TestFullQueuePushesBack(t *testing.T) {
	w := &recorder{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	p, err := New(Options{QueueEvents: 4, GroupEvents: 100}, w)
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.Submit(context.Background(), batch("1", "2", "3"), false)
	if err != nil {
		t.Fatal(err)
	}
	<-w.entered // the writer holds the first batch; it still counts as queued
	if _, err := p.Submit(context.Background(), batch("4", "5"), false); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("non-blocking submit over capacity: %v", err)
	}
	if p.Len() != 3 {
		t.Fatalf("Len = %d, want 3", p.Len())
	}
	// A blocking submit waits for room, and gives up when its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Submit(ctx, batch("4", "5"), true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocking submit with a full queue: %v", err)
	}
	done := make(chan *Ticket)
	go func() {
		tk, err := p.Submit(context.Background(), batch("4", "5"), true)
		if err != nil {
			t.Error(err)
		}
		done <- tk
	}()
	select {
	case <-done:
		t.Fatal("blocking submit did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	w.gate <- struct{}{} // the first group is written: room again
	if err := first.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := <-done
	w.gate <- struct{}{}
	if err := second.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	go func() { // Close drains; let any further group through
		for range w.gate {
		}
	}()
	p.Close()
	close(w.gate)
	if fmt.Sprint(w.got) != "[1 2 3 4 5]" {
		t.Fatalf("written %v", w.got)
	}
}

func TestOversizeBatchOnEmptyQueueAndWriteErrors(t *testing.T) {
	w := &recorder{}
	p, err := New(Options{QueueEvents: 2, GroupEvents: 2}, w)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := p.Submit(context.Background(), batch("a", "b", "c", "d"), false)
	if err != nil {
		t.Fatalf("a batch bigger than the queue must pass when the queue is empty: %v", err)
	}
	if err := tk.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.fail = errors.New("disk full")
	w.mu.Unlock()
	tk, err = p.Submit(context.Background(), batch("e"), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Wait(context.Background()); err == nil || err.Error() != "disk full" {
		t.Fatalf("write error not given to the ticket: %v", err)
	}
	p.Close()
	if p.Len() != 0 {
		t.Fatalf("Len after close = %d", p.Len())
	}
}
