package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/sendproto"
)

// TCPOptions configure the TCP lines listener.
type TCPOptions struct {
	// Addr is the address to listen on (":9999"; ":0" picks a free port).
	Addr string
	// MaxLineBytes is the longest line kept whole; longer lines keep their
	// first MaxLineBytes bytes and are marked truncated.
	MaxLineBytes int
	// MaxConns is the most connections served at once; a connection over
	// it is accepted and closed at once (and counted), so that a client
	// sees a closed connection rather than a hanging one.
	MaxConns int
	// IdleTimeout closes a connection that sends no byte for this long.
	IdleTimeout time.Duration
	// DefaultIndex is the index of events that name none.
	DefaultIndex string
	// BatchEvents is the most events one batch to the pipeline holds. A
	// connection also hands over what it has whenever it has read all its
	// client sent so far, so a slow sender's lines are not held back.
	BatchEvents int
	// ReadBufferBytes is the read buffer of one connection.
	ReadBufferBytes int
	// SendWindow is how many frames of one `logcaster send` connection may
	// be queued or being written at once before the server stops reading.
	SendWindow int
	// MaxFrameBytes is the largest `logcaster send` frame accepted.
	MaxFrameBytes int

	Metrics *metrics.Metrics // nil: not counted
	Logger  *slog.Logger     // nil: slog.Default()
}

// DefaultTCPOptions returns the options logcaster serve uses by default.
func DefaultTCPOptions() TCPOptions {
	return TCPOptions{
		Addr:         ":9999",
		MaxLineBytes: DefaultMaxLineBytes,
		MaxConns:     10000,
		IdleTimeout:  5 * time.Minute,
		DefaultIndex: event.DefaultIndex,
		// 4096 events (~1.2 MB of typical lines) per batch keeps the
		// pipeline's per-batch cost negligible at 400k events/s.
		BatchEvents: 4096,
		// 32 KiB: one read syscall per ~110 typical lines, and 10,000 idle
		// connections cost 320 MiB of address space at most (untouched
		// pages of a fresh buffer are not resident).
		ReadBufferBytes: 32 << 10,
		SendWindow:      8,
		MaxFrameBytes:   sendproto.MaxFrameBytes,
	}
}

// Validate reports options that cannot work.
func (o TCPOptions) Validate() error {
	switch {
	case o.MaxLineBytes <= 0:
		return errors.New("tcp options: max line bytes must be positive")
	case o.MaxConns <= 0:
		return errors.New("tcp options: max conns must be positive")
	case o.IdleTimeout < 0:
		return errors.New("tcp options: idle timeout must not be negative")
	case o.BatchEvents <= 0:
		return errors.New("tcp options: batch events must be positive")
	case o.ReadBufferBytes < 16:
		return errors.New("tcp options: read buffer must be at least 16 bytes")
	case o.SendWindow <= 0:
		return errors.New("tcp options: send window must be positive")
	case o.MaxFrameBytes <= 0 || o.MaxFrameBytes > sendproto.MaxFrameBytes:
		return fmt.Errorf("tcp options: max frame bytes must be in 1..%d", sendproto.MaxFrameBytes)
	}
	return nil
}

// TCPServer is the TCP lines listener: one event a line, text or JSON
// (see ParseLine), no acknowledgement; a connection that opens with the
// `logcaster send` handshake switches to the acknowledged framing of
// package sendproto (tcp_send.go).
//
// One goroutine serves each connection, so a slow client slows only
// itself; Submit blocks while the pipeline's queue is full, which stops the
// reads and lets TCP flow control push back on the sender.
type TCPServer struct {
	sink Sink
	opts TCPOptions
	log  *slog.Logger
	cs   ConnServer
}

// NewTCPServer returns a server that submits to sink; Start listens.
func NewTCPServer(sink Sink, opts TCPOptions) (*TCPServer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &TCPServer{sink: sink, opts: opts, log: log}
	s.cs = ConnServer{Protocol: protoTCP, MaxConns: opts.MaxConns, IdleTimeout: opts.IdleTimeout,
		Metrics: opts.Metrics, Logger: log, Handle: s.serveConn}
	return s, nil
}

// Start listens on opts.Addr and serves connections in the background.
func (s *TCPServer) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen tcp lines on %s: %w", s.opts.Addr, err)
	}
	s.cs.Serve(ln)
	return nil
}

// Addr is the address the server listens on, after Start.
func (s *TCPServer) Addr() net.Addr { return s.cs.Addr() }

// Shutdown stops accepting, ends every connection's reading (a read in
// progress returns at once), submits the lines already read, waits for
// `logcaster send` acknowledgements to be written, and returns when every
// connection is closed or ctx ends (then it abandons the rest). Call it
// before closing the pipeline.
func (s *TCPServer) Shutdown(ctx context.Context) error {
	return s.cs.Shutdown(ctx)
}

// lineReader splits a stream into lines, keeping at most max+1 bytes of a
// longer line (so that ParseLine sees it is over the limit and marks it)
// and discarding the rest of it without buffering it.
type lineReader struct {
	br   *bufio.Reader
	max  int
	long []byte
}

// next returns the next line with its LF, valid until the next call. At
// the end of the stream (or a read error) it returns the unterminated rest,
// if any, with the error.
func (r *lineReader) next() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	r.long = append(r.long[:0], line[:min(len(line), r.max+1)]...)
	for err == bufio.ErrBufferFull {
		line, err = r.br.ReadSlice('\n')
		if room := r.max + 1 - len(r.long); room > 0 {
			r.long = append(r.long, line[:min(room, len(line))]...)
		}
	}
	return r.long, err
}

var pingLine = []byte("PING")

func (s *TCPServer) serveConn(c net.Conn, r io.Reader) {
	m := s.opts.Metrics
	br := bufio.NewReaderSize(r, s.opts.ReadBufferBytes)
	lr := &lineReader{br: br, max: s.opts.MaxLineBytes}
	opts := LineOptions{DefaultIndex: s.opts.DefaultIndex, MaxLineBytes: s.opts.MaxLineBytes}
	batch := &event.Batch{}
	first := true
	badLogged := false
	for {
		line, err := lr.next()
		if first && len(line) > 0 {
			first = false
			if bytes.HasPrefix(line, []byte(sendproto.Magic)) {
				s.serveSend(c, br, line)
				return
			}
		}
		if len(line) > 0 {
			batch.Bytes += len(line)
			if bytes.Equal(trimEOL(line), pingLine) {
				if _, werr := c.Write([]byte("PONG\n")); werr != nil {
					err = werr
				}
			} else {
				if opts.Now == 0 {
					opts.Now = time.Now().UnixNano() // once per burst of lines
				}
				if perr := ParseLine(batch, line, opts); perr != nil {
					m.Rejected(protoTCP, "invalid_json", 1)
					if !badLogged { // one log line per connection, not a flood
						badLogged = true
						s.log.Warn("tcp lines: invalid json kept as text", "remote", c.RemoteAddr().String(), "err", perr)
					}
				}
			}
		}
		if batch.Len() >= s.opts.BatchEvents || br.Buffered() == 0 || err != nil {
			batch = s.cs.SubmitBatch(s.sink, batch, c, s.opts.BatchEvents)
			opts.Now = 0
		}
		if err != nil {
			s.cs.ReadEnded(c, err)
			return
		}
	}
}
