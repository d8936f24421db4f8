package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/pipeline"
	"github.com/logcaster/logcaster/internal/sendproto"
)

// inflightFrame is a submitted frame waiting for its batch to be durable.
type inflightFrame struct {
	seq uint64
	t   *pipeline.Ticket
	err error // Submit failed: answer with an error
}

// serveSend serves a connection that opened with the `logcaster send`
// handshake (its first line, already read, is hello). Frames are read,
// parsed and submitted as they come, up to SendWindow ahead of the acks;
// another goroutine writes the acks in order as the batches become durable.
func (s *TCPServer) serveSend(c net.Conn, br *bufio.Reader, hello []byte) {
	m := s.opts.Metrics
	clientID, index, err := sendproto.ParseHandshake(hello)
	if err != nil {
		c.Write(sendproto.AppendHandshakeError(nil, err.Error()))
		m.Rejected(protoSend, "bad_handshake", 1)
		return
	}
	if _, err := c.Write([]byte(sendproto.HandshakeOK)); err != nil {
		return
	}
	opts := LineOptions{DefaultIndex: s.opts.DefaultIndex, MaxLineBytes: s.opts.MaxLineBytes}
	if index != "" {
		opts.DefaultIndex = index
	}

	inflight := make(chan inflightFrame, s.opts.SendWindow)
	ackerDone := make(chan struct{})
	go s.writeAcks(c, inflight, ackerDone)
	defer func() {
		close(inflight)
		<-ackerDone
	}()

	var buf []byte
	for {
		seq, payload, err := sendproto.ReadFrame(br, buf, s.opts.MaxFrameBytes)
		buf = payload
		if err != nil {
			if errors.Is(err, sendproto.ErrCorrupt) {
				m.Rejected(protoSend, "corrupt_frame", 1)
				s.log.Warn("send: corrupt frame, closing connection", "remote", c.RemoteAddr().String(), "client", clientID, "err", err)
			} else if err != io.EOF && !s.cs.Closing() {
				s.log.Debug("send: read failed", "remote", c.RemoteAddr().String(), "client", clientID, "err", err)
			}
			return
		}
		batch := s.parseFrame(payload, opts)
		batch.Source = event.Source{ClientID: clientID, Seq: seq}
		t, err := s.sink.Submit(s.cs.Context(), batch, true)
		if err == nil {
			CountIngested(m, protoSend, batch)
		}
		inflight <- inflightFrame{seq: seq, t: t, err: err}
	}
}

// parseFrame parses a frame's lines into a new batch.
func (s *TCPServer) parseFrame(payload []byte, opts LineOptions) *event.Batch {
	batch := &event.Batch{Bytes: len(payload)}
	opts.Now = time.Now().UnixNano()
	for len(payload) > 0 {
		line := payload
		if i := bytes.IndexByte(payload, '\n'); i >= 0 {
			line, payload = payload[:i], payload[i+1:]
		} else {
			payload = nil
		}
		if ParseLine(batch, line, opts) != nil {
			s.opts.Metrics.Rejected(protoSend, "invalid_json", 1)
		}
	}
	return batch
}

// writeAcks answers frames in order as they become durable, batching the
// replies into one write while more are ready.
func (s *TCPServer) writeAcks(c net.Conn, inflight <-chan inflightFrame, done chan<- struct{}) {
	defer close(done)
	bw := bufio.NewWriterSize(c, 4<<10)
	var buf []byte
	failed := false
	for f := range inflight {
		if failed {
			continue // drain: the connection is going away
		}
		err := f.err
		if err == nil {
			select {
			case <-f.t.Done():
				err = f.t.Err()
			case <-s.cs.Context().Done():
				err = s.cs.Context().Err()
			}
		}
		if err != nil {
			buf = sendproto.AppendError(buf[:0], f.seq, "store frame: "+err.Error())
			s.log.Error("send: frame not stored", "remote", c.RemoteAddr().String(), "seq", f.seq, "err", err)
		} else {
			buf = sendproto.AppendAck(buf[:0], f.seq)
		}
		_, werr := bw.Write(buf)
		if werr == nil && len(inflight) == 0 {
			werr = bw.Flush()
		}
		if werr != nil || err != nil {
			// After an error the client gives up; after a failed write it
			// reconnects. Either way, stop reading too.
			failed = true
			bw.Flush()
			stopReading(c)
		}
	}
	bw.Flush()
}

// stopReading makes the connection's pending and future reads end, keeping
// its write side so that replies already written still reach the client.
func stopReading(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok && tc.CloseRead() == nil {
		return
	}
	c.Close()
}
