package fluentforward

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// conn is the state of one connection.
type conn struct {
	s         *Server
	c         net.Conn
	r         io.Reader // c through the ConnServer's idle timeout
	dec       *Decoder
	batch     *event.Batch
	now       int64 // arrival time of the current burst of frames
	ack       []byte
	badLogged bool
}

func (s *Server) serveConn(c net.Conn, r io.Reader) {
	dec := NewDecoder(s.opts.MaxInflatedBytes)
	dec.DefaultIndex = s.opts.DefaultIndex
	fc := &conn{s: s, c: c, r: r, dec: dec, batch: &event.Batch{}}
	err := fc.read()
	fc.flush()
	fc.ended(err)
}

// read reads frames until the connection ends or cannot be trusted.
func (fc *conn) read() error {
	s := fc.s
	buf := make([]byte, min(s.opts.ReadBufferBytes, s.opts.MaxFrameBytes))
	start, end := 0, 0
	sc := &scanner{limit: s.opts.MaxFrameBytes}
	for {
		n, err := sc.scan(buf[start:end])
		if err != nil {
			return err
		}
		if n > 0 {
			frame := buf[start : start+n]
			start += n
			if err := fc.frame(frame); err != nil {
				return err
			}
			continue
		}
		// The frame is incomplete: make room and read more.
		if start > 0 {
			end = copy(buf, buf[start:end])
			start = 0
		}
		if end == len(buf) {
			grown := make([]byte, min(2*len(buf), s.opts.MaxFrameBytes))
			copy(grown, buf[:end])
			buf = grown
		}
		if end == 0 {
			// Between frames: hand over what was read before waiting, so
			// a quiet sender's events are not held back.
			fc.flush()
		}
		k, err := fc.r.Read(buf[end:])
		end += k
		if err != nil {
			if err == io.EOF && end > 0 {
				return io.ErrUnexpectedEOF // a frame cut short
			}
			return err
		}
	}
}

// frame decodes one complete frame and, when it asks for one, answers the
// ack once its events are durable.
func (fc *conn) frame(frame []byte) error {
	s := fc.s
	if fc.now == 0 {
		fc.now = time.Now().UnixNano()
	}
	chunk, err := fc.dec.Decode(fc.batch, frame, fc.now)
	fc.batch.Bytes += len(frame)
	if err != nil {
		reason := "malformed"
		if errors.Is(err, ErrTooLarge) {
			reason = "too_large"
		}
		s.opts.Metrics.Rejected(protocol, reason, 1)
		if !fc.badLogged { // one log line per connection, not a flood
			fc.badLogged = true
			s.log.Warn("fluent forward: frame refused", "remote", fc.c.RemoteAddr().String(), "err", err)
		}
		return nil
	}
	if chunk == nil {
		if fc.batch.Len() >= s.opts.BatchEvents {
			fc.flush()
		}
		return nil
	}
	// The chunk id is a view of the frame, which the next read may move:
	// build the answer now.
	fc.ack = msgp.AppendMapHeader(fc.ack[:0], 1)
	fc.ack = msgp.AppendString(fc.ack, "ack")
	fc.ack = msgp.AppendStringFromBytes(fc.ack, chunk)
	t, err := fc.flush()
	if err != nil {
		return err // no ack: the sender resends
	}
	if t != nil {
		if err := t.Wait(s.cs.Context()); err != nil {
			s.log.Error("fluent forward: frame not stored, no ack", "remote", fc.c.RemoteAddr().String(), "err", err)
			return err
		}
	}
	if s.opts.WriteTimeout > 0 {
		fc.c.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	}
	_, err = fc.c.Write(fc.ack)
	return err
}

// flush submits the batch, if it has events, and returns its ticket (nil
// when there was nothing to submit). Submit
// blocks while the pipeline's queue is full, which pushes back on the
// sender.
func (fc *conn) flush() (*pipeline.Ticket, error) {
	s, b := fc.s, fc.batch
	fc.now = 0
	m := s.opts.Metrics
	if b.Len() == 0 {
		m.Bytes(protocol, b.Bytes)
		b.Bytes = 0
		return nil, nil
	}
	t, err := s.sink.Submit(s.cs.Context(), b, true)
	if err != nil {
		m.Dropped(protocol, "shutdown", b.Len())
		s.log.Error("fluent forward: batch lost", "remote", fc.c.RemoteAddr().String(), "events", b.Len(), "err", err)
	} else {
		ingest.CountIngested(m, protocol, b)
	}
	fc.batch = &event.Batch{Events: make([]event.Event, 0, min(s.opts.BatchEvents, 2*b.Len()))}
	return t, err
}

// ended logs and counts why the connection's reading stopped.
func (fc *conn) ended(err error) {
	s := fc.s
	remote := fc.c.RemoteAddr().String()
	switch {
	case errors.Is(err, errFrameTooLarge):
		s.opts.Metrics.Rejected(protocol, "too_large", 1)
		s.log.Warn("fluent forward: closing connection", "remote", remote, "err", err, "limit", s.opts.MaxFrameBytes)
	case errors.Is(err, errBadType) || errors.Is(err, errTooDeep):
		s.opts.Metrics.Rejected(protocol, "bad_frame", 1)
		s.log.Warn("fluent forward: closing connection", "remote", remote, "err", err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		s.opts.Metrics.Rejected(protocol, "truncated", 1)
		s.log.Debug("fluent forward: connection closed in the middle of a frame", "remote", remote)
	default:
		s.cs.ReadEnded(fc.c, err)
	}
}
