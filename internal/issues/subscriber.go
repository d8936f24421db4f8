package issues

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/logcaster/logcaster/internal/event"
)

// FieldSentryEventID marks log events that the Sentry endpoint wrote: their
// error is recorded by the endpoint itself, so the subscriber skips them.
const FieldSentryEventID = "sentry.event_id"

// FieldStackTrace is the field logback (logstash-logback-encoder) puts a
// stack trace in.
const FieldStackTrace = "stack_trace"

// subscriber takes the pipeline's durable batches off its goroutine (the
// pipeline must never wait on issue tracking) and records the errors in
// them on its own.
type subscriber struct {
	ch      chan []*ErrorEvent
	done    chan struct{}
	once    sync.Once
	dropped atomic.Int64
	mu      sync.RWMutex // guards closed against a send on a closed ch
	closed  bool
}

func (s *subscriber) start(t *Tracker, queue int) {
	s.ch = make(chan []*ErrorEvent, queue)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		for evs := range s.ch {
			// One journal wait for the batch: a wait a event would hold
			// errors from logs to one fsync each.
			if err := t.RecordAll(evs, nil); err != nil {
				t.log.Error("record error events from logs", "err", err, "events", len(evs))
			}
		}
	}()
}

func (s *subscriber) stop() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.ch)
		s.mu.Unlock()
		<-s.done
	})
}

// Dropped is how many error events from logs were not tracked because the
// tracker's queue was full.
func (t *Tracker) Dropped() int64 { return t.sub.dropped.Load() }

// Consume is the pipeline subscriber (pipeline.Subscribe(t.Consume)): it
// picks out ERROR and FATAL events that carry a stack trace, copies what it
// needs out of the batch (whose arena is reused) and queues them without
// blocking.
func (t *Tracker) Consume(batches []*event.Batch) {
	var evs []*ErrorEvent
	for _, b := range batches {
		for i := range b.Events {
			if e := FromLogEvent(&b.Events[i]); e != nil {
				evs = append(evs, e)
			}
		}
	}
	if len(evs) == 0 {
		return
	}
	t.sub.mu.RLock()
	defer t.sub.mu.RUnlock()
	if t.sub.closed {
		t.sub.dropped.Add(int64(len(evs)))
		return
	}
	select {
	case t.sub.ch <- evs:
	default:
		t.sub.dropped.Add(int64(len(evs)))
	}
}

// FromLogEvent turns a log event into an error event when it is an ERROR
// or FATAL with a stack trace (a stack_trace field, or a traceback or panic
// in its message), and returns nil otherwise. The result shares no memory
// with ev.
func FromLogEvent(ev *event.Event) *ErrorEvent {
	if ev.Level != event.LevelError && ev.Level != event.LevelFatal {
		return nil
	}
	trace := ""
	for _, f := range ev.Fields {
		switch f.Name {
		case FieldSentryEventID:
			return nil
		case FieldStackTrace:
			trace = f.Value
		}
	}
	var exs []Exception
	if trace != "" {
		exs = ParseStackTrace(trace)
	} else if strings.Contains(ev.Message, "\n") {
		exs = ParseStackTrace(ev.Message)
	}
	if len(exs) == 0 {
		return nil
	}
	e := &ErrorEvent{
		EventID:    newEventID(),
		Project:    strings.Clone(ev.Index),
		Time:       ev.Time,
		Timestamp:  formatNs(ev.Time),
		Level:      strings.ToLower(ev.Level),
		Message:    strings.Clone(firstLine(ev.Message)),
		Exceptions: cloneExceptions(exs),
		TraceID:    strings.Clone(ev.TraceID),
		Platform:   "log",
	}
	for _, f := range ev.Fields {
		switch f.Name {
		case "service", "logger_name", "logger":
			if f.Name != "service" {
				e.Logger = strings.Clone(f.Value)
			} else {
				e.Tags = map[string]string{"service": strings.Clone(f.Value)}
			}
		case "host", "HOSTNAME", "server_name":
			e.ServerName = strings.Clone(f.Value)
		case "release", "version":
			e.Release = strings.Clone(f.Value)
		case "environment", "env":
			e.Environment = strings.Clone(f.Value)
		case "user.id", "user_id":
			e.UserID = strings.Clone(f.Value)
		}
	}
	return e
}

// cloneExceptions copies every string, which may point into a batch arena.
func cloneExceptions(exs []Exception) []Exception {
	out := make([]Exception, len(exs))
	for i, ex := range exs {
		out[i] = Exception{Type: strings.Clone(ex.Type), Value: strings.Clone(ex.Value), Module: strings.Clone(ex.Module)}
		out[i].Frames = make([]Frame, len(ex.Frames))
		for k, f := range ex.Frames {
			out[i].Frames[k] = Frame{Module: strings.Clone(f.Module), Function: strings.Clone(f.Function),
				File: strings.Clone(f.File), Line: f.Line, InApp: f.InApp}
		}
	}
	return out
}
