package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/metrics"
)

// ConnServer is the part every stream listener (TCP lines, syslog, GELF,
// ...) shares: the accept loop with a connection limit (a connection over
// it is accepted and closed at once, and counted, so the client sees a
// refusal rather than a hang), a backoff when Accept fails (out of file
// descriptors, say), an idle timeout on every read, and a shutdown that
// interrupts reads, lets each connection hand in what it has read, and
// waits for them.
type ConnServer struct {
	Protocol    string        // metrics label
	MaxConns    int           // most connections served at once
	IdleTimeout time.Duration // close a connection that sends no byte this long; 0: never
	Metrics     *metrics.Metrics
	Logger      *slog.Logger
	// Handle serves one connection, reading through r (which applies the
	// idle timeout and returns at once during shutdown). The connection is
	// closed when Handle returns.
	Handle func(c net.Conn, r io.Reader)

	ln      net.Listener
	closing atomic.Bool
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
	done    chan struct{}
}

// acceptBackoffMax caps the pause after a failing Accept, so the loop
// neither spins nor sleeps for long.
const acceptBackoffMax = time.Second

// Serve starts accepting connections from ln in the background.
func (s *ConnServer) Serve(ln net.Listener) {
	s.ln = ln
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.conns = make(map[net.Conn]struct{})
	s.done = make(chan struct{})
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	go s.acceptLoop()
}

// Addr is the listening address.
func (s *ConnServer) Addr() net.Addr { return s.ln.Addr() }

// Closing reports whether Shutdown has begun.
func (s *ConnServer) Closing() bool { return s.closing.Load() }

// Context is cancelled when Shutdown gives up waiting; connections pass it
// to Submit so that a submit blocked on a full queue ends then.
func (s *ConnServer) Context() context.Context { return s.ctx }

func (s *ConnServer) acceptLoop() {
	defer close(s.done)
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), acceptBackoffMax)
			s.Logger.Warn("accept failed", "protocol", s.Protocol, "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.mu.Lock()
		if len(s.conns) >= s.MaxConns || s.closing.Load() {
			s.mu.Unlock()
			// Counted before the close, so a client that sees the close
			// also sees the count.
			s.Metrics.Rejected(s.Protocol, "conn_limit", 1)
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

func (s *ConnServer) serve(c net.Conn) {
	s.Metrics.ConnOpened(s.Protocol)
	defer func() {
		c.Close()
		s.Metrics.ConnClosed(s.Protocol)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	s.Handle(c, &idleReader{c: c, s: s})
}

// idleReader arms the idle timeout before every read of the connection, so
// a connection is closed after IdleTimeout without a byte, however slowly a
// long line trickles in. During shutdown it arms an expired deadline.
type idleReader struct {
	c net.Conn
	s *ConnServer
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.s.closing.Load() {
		r.c.SetReadDeadline(time.Now())
	} else if r.s.IdleTimeout > 0 {
		r.c.SetReadDeadline(time.Now().Add(r.s.IdleTimeout))
	}
	return r.c.Read(p)
}

// Shutdown stops accepting, ends every connection's reading (a read in
// progress returns at once), and returns when every Handle has returned or
// ctx ends (then it cancels Context and closes the connections).
func (s *ConnServer) Shutdown(ctx context.Context) error {
	if s.closing.Swap(true) || s.ln == nil {
		return nil
	}
	s.ln.Close()
	<-s.done
	s.mu.Lock()
	for c := range s.conns {
		c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	if Wait(ctx, &s.wg) {
		return nil
	}
	s.cancel()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	return fmt.Errorf("%s shutdown: %w", s.Protocol, ctx.Err())
}

// maxIndexRuns bounds the per-batch table CountIngested adds up in.
const maxIndexRuns = 16

// CountIngested counts a submitted batch's events by index (CountEvents)
// and its input bytes (Batch.Bytes).
func CountIngested(m *metrics.Metrics, protocol string, b *event.Batch) {
	CountEvents(m, protocol, b)
	m.Bytes(protocol, b.Bytes)
}

// CountEvents counts a submitted batch's events by index, for adapters that
// count their input bytes themselves (per HTTP body, say). The counts are
// added up per index first (a handful of indexes a batch at most), so a
// batch costs a few metric updates, not one an event.
func CountEvents(m *metrics.Metrics, protocol string, b *event.Batch) {
	if m == nil {
		return
	}
	var idx [maxIndexRuns]string
	var cnt [maxIndexRuns]int
	n := 0
	for i := range b.Events {
		index := b.Events[i].Index
		j := 0
		for j < n && idx[j] != index {
			j++
		}
		if j == n {
			if n == maxIndexRuns {
				m.Ingested(protocol, index, 1)
				continue
			}
			idx[n] = index
			n++
		}
		cnt[j]++
	}
	for j := 0; j < n; j++ {
		m.Ingested(protocol, idx[j], cnt[j])
	}
}

// SubmitBatch hands a connection's batch to sink and returns the batch to
// fill next. It waits while the pipeline's queue is full, which stops this
// connection's reads: that is the backpressure on the sender. An empty
// batch only has its input bytes counted. A failed submit happens only at
// shutdown (the pipeline closed, or Shutdown gave up waiting); the sender
// cannot be told, so the loss is counted and logged.
func (s *ConnServer) SubmitBatch(sink Sink, b *event.Batch, c net.Conn, batchEvents int) *event.Batch {
	if b.Len() == 0 {
		s.Metrics.Bytes(s.Protocol, b.Bytes)
		b.Bytes = 0
		return b
	}
	if _, err := sink.Submit(s.ctx, b, true); err != nil {
		s.Metrics.Dropped(s.Protocol, "shutdown", b.Len())
		s.Logger.Error("batch lost", "protocol", s.Protocol, "remote", c.RemoteAddr().String(), "events", b.Len(), "err", err)
	} else {
		CountIngested(s.Metrics, s.Protocol, b)
	}
	// Sized for what this connection sends, up to a full batch.
	return &event.Batch{Events: make([]event.Event, 0, min(batchEvents, 2*b.Len()))}
}

// ReadEnded logs why a connection's reading stopped, after the caller has
// handled its protocol's own errors: nothing for the normal ends (EOF,
// shutdown), a debug line for an idle timeout or a failed read.
func (s *ConnServer) ReadEnded(c net.Conn, err error) {
	if err == nil || err == io.EOF || s.Closing() {
		return
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		s.Logger.Debug("idle connection closed", "protocol", s.Protocol, "remote", c.RemoteAddr().String())
		return
	}
	s.Logger.Debug("connection read failed", "protocol", s.Protocol, "remote", c.RemoteAddr().String(), "err", err)
}

// Wait waits for wg or for ctx to end, and reports whether wg finished.
func Wait(ctx context.Context, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}
