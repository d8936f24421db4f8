package syslog

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// acceptBackoffMax caps the pause after a failing Accept (out of file
// descriptors, say), so the loop neither spins nor sleeps for long.
const acceptBackoffMax = time.Second

func (s *Server) acceptLoop() {
	defer close(s.done)
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), acceptBackoffMax)
			s.log.Warn("syslog tcp accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.mu.Lock()
		if len(s.conns) >= s.opts.MaxConns || s.closing.Load() {
			s.mu.Unlock()
			c.Close()
			s.opts.Metrics.Rejected(protoTCP, "conn_limit", 1)
			continue
		}
		s.conns[c] = struct{}{}
		s.connWG.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// idleReader arms the idle timeout before every read of the connection, so
// a connection is closed after IdleTimeout without a byte, however slowly
// a long frame trickles in. During shutdown it arms an expired deadline.
type idleReader struct {
	c    net.Conn
	s    *Server
	idle time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.s.closing.Load() {
		r.c.SetReadDeadline(time.Now())
	} else if r.idle > 0 {
		r.c.SetReadDeadline(time.Now().Add(r.idle))
	}
	return r.c.Read(p)
}

// tcpConn is the state of one TCP connection.
type tcpConn struct {
	s         *Server
	c         net.Conn
	p         *Parser
	opts      ParseOptions
	batch     *event.Batch
	badLogged bool
}

func (s *Server) serveConn(c net.Conn) {
	m := s.opts.Metrics
	m.ConnOpened(protoTCP)
	defer func() {
		c.Close()
		m.ConnClosed(protoTCP)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.connWG.Done()
	}()
	tc := &tcpConn{s: s, c: c, p: NewParser(), batch: &event.Batch{},
		opts: ParseOptions{DefaultIndex: s.opts.DefaultIndex, Location: s.opts.Location}}
	fr := newFramer(&idleReader{c: c, s: s, idle: s.opts.IdleTimeout}, s.opts.ReadBufferBytes, s.opts.MaxMessageBytes, tc.flush)
	for {
		frame, err := fr.next()
		if len(frame) > 0 {
			tc.add(frame)
			if tc.batch.Len() >= s.opts.BatchEvents {
				tc.flush()
			}
		}
		if err != nil {
			tc.flush()
			tc.ended(err)
			return
		}
	}
}

// add parses one frame into the connection's batch.
func (tc *tcpConn) add(frame []byte) {
	if tc.opts.Now == 0 {
		tc.opts.Now = time.Now().UnixNano() // once per burst of frames
	}
	tc.batch.Bytes += len(frame)
	if err := tc.p.Parse(tc.batch, frame, tc.opts); err != nil {
		tc.s.opts.Metrics.Rejected(protoTCP, "malformed", 1)
		if !tc.badLogged { // one log line per connection, not a flood
			tc.badLogged = true
			tc.s.log.Warn("syslog tcp: malformed message kept", "remote", tc.c.RemoteAddr().String(), "err", err)
		}
	}
}

// ended logs and counts why the connection's reading stopped.
func (tc *tcpConn) ended(err error) {
	s := tc.s
	var fe *frameError
	switch {
	case errors.As(err, &fe):
		s.opts.Metrics.Rejected(protoTCP, "bad_frame", 1)
		s.log.Warn("syslog tcp: closing connection", "remote", tc.c.RemoteAddr().String(), "err", err)
	case err == io.EOF || s.closing.Load():
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			s.log.Debug("syslog tcp: idle connection closed", "remote", tc.c.RemoteAddr().String())
		} else {
			s.log.Debug("syslog tcp: read failed", "remote", tc.c.RemoteAddr().String(), "err", err)
		}
	}
}

// flush submits the connection's batch, if it has events, and starts a
// new one; Submit blocks while the pipeline's queue is full, which is what
// pushes back on the sender.
func (tc *tcpConn) flush() {
	s, b := tc.s, tc.batch
	tc.opts.Now = 0
	m := s.opts.Metrics
	if b.Len() == 0 {
		m.Bytes(protoTCP, b.Bytes)
		b.Bytes = 0
		return
	}
	if _, err := s.sink.Submit(s.ctx, b, true); err != nil {
		// Only shutdown gets here (the pipeline closed, or Shutdown gave up
		// waiting): the sender cannot be told, so count and log the loss.
		m.Dropped(protoTCP, "shutdown", b.Len())
		s.log.Error("syslog tcp: batch lost", "remote", tc.c.RemoteAddr().String(), "events", b.Len(), "err", err)
	} else {
		countIngested(m, protoTCP, b)
	}
	tc.batch = &event.Batch{Events: make([]event.Event, 0, min(s.opts.BatchEvents, 2*b.Len()))}
}
