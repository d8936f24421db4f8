package gelf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/metrics"
)

// DefaultMaxMessageBytes is the largest message accepted, after
// decompression: room for a long Java stack trace in full_message, and a
// bound on what one message (or bomb) makes the server hold.
const DefaultMaxMessageBytes = 1 << 20

// Options configure the GELF listeners.
type Options struct {
	// Addr is the address of both the TCP and the UDP listener (":12201",
	// Graylog's port). With port 0 the TCP port is picked first and UDP
	// takes the same one.
	Addr string
	// MaxMessageBytes is the largest message accepted, compressed or not:
	// a larger TCP frame ends its connection, a larger UDP message or
	// HTTP body is refused; all are counted.
	MaxMessageBytes int
	// MaxConns is the most TCP connections served at once; one over it is
	// accepted and closed at once (and counted).
	MaxConns int
	// IdleTimeout closes a TCP connection that sends no byte for this long.
	IdleTimeout time.Duration
	// DefaultIndex is the index of messages without an "_index" field; ""
	// means event.DefaultIndex.
	DefaultIndex string
	// BatchEvents is the most events one batch to the pipeline holds; a
	// TCP connection also hands over what it has before it waits for more.
	BatchEvents int
	// ReadBufferBytes is the read buffer of one TCP connection (it grows
	// for a larger frame, up to MaxMessageBytes).
	ReadBufferBytes int
	// UDPReadBuffer is the socket receive buffer asked of the kernel.
	UDPReadBuffer int
	// UDPWorkers is how many goroutines decompress and parse datagrams.
	UDPWorkers int
	// UDPQueue is how many datagrams may wait for a worker; past it they
	// are dropped and counted (dropped{reason="workers_busy"}).
	UDPQueue int
	// ChunkTimeout is how long the chunks of a message may take to arrive
	// (Graylog uses 5 s); an incomplete message is then dropped and
	// counted (dropped{reason="chunks_incomplete"}).
	ChunkTimeout time.Duration
	// MaxPendingMessages and MaxPendingBytes bound the chunked messages
	// being reassembled; chunks of a new message past them are dropped.
	MaxPendingMessages int
	MaxPendingBytes    int

	Metrics *metrics.Metrics // nil: not counted
	Logger  *slog.Logger     // nil: slog.Default()
}

// DefaultOptions returns the options logcaster serve uses by default.
func DefaultOptions() Options {
	return Options{
		Addr:            ":12201",
		MaxMessageBytes: DefaultMaxMessageBytes,
		MaxConns:        10000,
		IdleTimeout:     5 * time.Minute,
		BatchEvents:     4096,
		ReadBufferBytes: 64 << 10,
		UDPReadBuffer:   8 << 20,
		UDPWorkers:      min(4, runtime.GOMAXPROCS(0)),
		// 4096 datagrams of typical 500-byte messages: 2 MB queued.
		UDPQueue:     4096,
		ChunkTimeout: 5 * time.Second,
		// 1024 messages of up to 128 chunks each would be too much to
		// hold; the byte bound is the one that binds (32 MiB).
		MaxPendingMessages: 1024,
		MaxPendingBytes:    32 << 20,
	}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch {
	case o.MaxMessageBytes <= 0:
		return errors.New("gelf options: max message bytes must be positive")
	case o.MaxConns <= 0:
		return errors.New("gelf options: max conns must be positive")
	case o.IdleTimeout < 0:
		return errors.New("gelf options: idle timeout must not be negative")
	case o.BatchEvents <= 0:
		return errors.New("gelf options: batch events must be positive")
	case o.ReadBufferBytes < 64:
		return errors.New("gelf options: read buffer must be at least 64 bytes")
	case o.UDPReadBuffer < 0:
		return errors.New("gelf options: udp read buffer must not be negative")
	case o.UDPWorkers <= 0:
		return errors.New("gelf options: udp workers must be positive")
	case o.UDPQueue <= 0:
		return errors.New("gelf options: udp queue must be positive")
	case o.ChunkTimeout <= 0:
		return errors.New("gelf options: chunk timeout must be positive")
	case o.MaxPendingMessages <= 0 || o.MaxPendingBytes <= 0:
		return errors.New("gelf options: pending chunk limits must be positive")
	}
	return nil
}

// Server is the GELF listener: TCP and UDP on one address, and an HTTP
// handler for the server's mux.
type Server struct {
	sink ingest.Sink
	opts Options
	log  *slog.Logger

	cs      ingest.ConnServer // TCP
	udp     *net.UDPConn
	closing atomic.Bool
	ctx     context.Context // cancelled when Shutdown gives up waiting
	cancel  context.CancelFunc

	udpWG   sync.WaitGroup
	udpWork chan *[]byte
}

// New returns a server that submits to sink; Start listens. The HTTP
// handler (Handler) works without Start.
func New(sink ingest.Sink, opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{sink: sink, opts: opts, log: log, ctx: ctx, cancel: cancel}
	s.cs = ingest.ConnServer{Protocol: protoTCP, MaxConns: opts.MaxConns, IdleTimeout: opts.IdleTimeout,
		Metrics: opts.Metrics, Logger: log, Handle: s.serveConn}
	return s, nil
}

// Start listens on opts.Addr (TCP and UDP) and serves in the background.
func (s *Server) Start() error {
	ln, uc, err := ingest.ListenTCPAndUDP(s.opts.Addr)
	if err != nil {
		return fmt.Errorf("gelf: %w", err)
	}
	s.cs.Serve(ln)
	s.udp = uc
	if s.opts.UDPReadBuffer > 0 {
		if err := s.udp.SetReadBuffer(s.opts.UDPReadBuffer); err != nil {
			s.log.Warn("gelf udp: cannot set the socket receive buffer", "bytes", s.opts.UDPReadBuffer, "err", err)
		}
	}
	s.startUDP()
	return nil
}

// TCPAddr is the TCP address the server listens on, after Start.
func (s *Server) TCPAddr() net.Addr { return s.cs.Addr() }

// UDPAddr is the UDP address the server listens on, after Start.
func (s *Server) UDPAddr() net.Addr { return s.udp.LocalAddr() }

// Shutdown stops accepting, ends every TCP connection's reading, closes
// the UDP socket, submits what was already read, and returns when all is
// done or ctx ends (then it abandons the rest). Call it before closing the
// pipeline.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.closing.Swap(true) || s.udp == nil {
		return nil
	}
	s.udp.Close()
	err := s.cs.Shutdown(ctx)
	if !ingest.Wait(ctx, &s.udpWG) {
		s.cancel()
		if err == nil {
			err = fmt.Errorf("gelf shutdown: %w", ctx.Err())
		}
	}
	return err
}
