package gelf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// errFrameTooLarge ends a connection whose frame passes MaxMessageBytes
// without a NUL: nothing after it can be trusted to start a message.
var errFrameTooLarge = errors.New("gelf tcp: frame larger than the limit")

// nulFramer splits a stream into NUL-terminated frames, as GELF TCP
// senders write them. A frame is a view of the buffer, valid until the
// next call.
type nulFramer struct {
	r          io.Reader
	buf        []byte
	start, end int
	max        int
	// wait is called before a read that may block, so that the caller
	// hands over what it has instead of holding it while the sender idles.
	wait func()
}

func (f *nulFramer) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(f.buf[f.start:f.end], 0); i >= 0 {
			frame := f.buf[f.start : f.start+i]
			f.start += i + 1
			return frame, nil
		}
		if f.end-f.start > f.max {
			return nil, errFrameTooLarge
		}
		if f.start > 0 { // move the partial frame to the front
			f.end = copy(f.buf, f.buf[f.start:f.end])
			f.start = 0
		}
		if f.end == len(f.buf) {
			// Grow for a long frame, up to the limit plus room for its NUL.
			f.buf = append(f.buf, make([]byte, min(2*len(f.buf), f.max+1)-len(f.buf)+1)...)
		}
		f.wait()
		n, err := f.r.Read(f.buf[f.end:])
		f.end += n
		if err != nil {
			if f.end > f.start && err == io.EOF {
				// A last message without its NUL: keep it rather than
				// lose it for a missing terminator.
				frame := f.buf[f.start:f.end]
				f.start = f.end
				return frame, nil
			}
			return nil, err
		}
	}
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

func (s *Server) serveConn(c net.Conn, r io.Reader) {
	tc := &tcpConn{s: s, c: c, p: NewParser(), batch: &event.Batch{},
		opts: ParseOptions{DefaultIndex: s.opts.DefaultIndex}}
	fr := &nulFramer{r: r,
		buf: make([]byte, min(s.opts.ReadBufferBytes, s.opts.MaxMessageBytes+1)), max: s.opts.MaxMessageBytes, wait: tc.flush}
	for {
		frame, err := fr.next()
		if err != nil {
			tc.flush()
			tc.ended(err)
			return
		}
		tc.add(frame)
		if tc.batch.Len() >= s.opts.BatchEvents {
			tc.flush()
		}
	}
}

// add parses one frame into the connection's batch.
func (tc *tcpConn) add(frame []byte) {
	frame = bytes.TrimSpace(frame) // some senders end frames with LF before the NUL
	tc.batch.Bytes += len(frame) + 1
	if len(frame) == 0 {
		return
	}
	if tc.opts.Now == 0 {
		tc.opts.Now = time.Now().UnixNano() // once per burst of frames
	}
	if err := tc.p.Parse(tc.batch, frame, tc.opts); err != nil {
		tc.s.opts.Metrics.Rejected(protoTCP, "malformed", 1)
		if !tc.badLogged { // one log line per connection, not a flood
			tc.badLogged = true
			tc.s.log.Warn("gelf tcp: malformed message refused", "remote", tc.c.RemoteAddr().String(), "err", err)
		}
	}
}

// ended logs and counts why the connection's reading stopped.
func (tc *tcpConn) ended(err error) {
	s := tc.s
	switch {
	case errors.Is(err, errFrameTooLarge):
		s.opts.Metrics.Rejected(protoTCP, "too_large", 1)
		s.log.Warn("gelf tcp: closing connection", "remote", tc.c.RemoteAddr().String(),
			"err", fmt.Errorf("%w (%d bytes)", err, s.opts.MaxMessageBytes))
	default:
		s.cs.ReadEnded(tc.c, err)
	}
}

// flush submits the connection's batch and starts a new one (see
// ingest.ConnServer.SubmitBatch).
func (tc *tcpConn) flush() {
	tc.opts.Now = 0
	tc.batch = tc.s.cs.SubmitBatch(tc.s.sink, tc.batch, tc.c, tc.s.opts.BatchEvents)
}
