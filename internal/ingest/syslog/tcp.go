package syslog

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

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
		opts: ParseOptions{DefaultIndex: s.opts.DefaultIndex, Location: s.opts.Location}}
	fr := newFramer(r, s.opts.ReadBufferBytes, s.opts.MaxMessageBytes, tc.flush)
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
