package fluentforward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/metrics"
)

// Options configure the Forward listener.
type Options struct {
	// Addr is the TCP address (":24224", Fluentd's port).
	Addr string
	// MaxFrameBytes is the largest frame accepted (a Fluentd buffer chunk
	// is one frame: 8 MiB by default for memory buffers). A larger one
	// ends its connection, counted.
	MaxFrameBytes int
	// MaxInflatedBytes bounds what the entries of one compressed frame
	// inflate to; past it the frame is refused (a gzip bomb).
	MaxInflatedBytes int
	// MaxConns is the most connections served at once; one over it is
	// accepted and closed at once (and counted).
	MaxConns int
	// IdleTimeout closes a connection that sends no byte for this long.
	IdleTimeout time.Duration
	// WriteTimeout bounds writing an ack to a sender that does not read.
	WriteTimeout time.Duration
	// DefaultIndex is the index of events whose tag is empty and whose
	// record names none; "" means event.DefaultIndex.
	DefaultIndex string
	// BatchEvents is the most events one batch to the pipeline holds
	// (frames without the chunk option are gathered up to it).
	BatchEvents int
	// ReadBufferBytes is a connection's first read buffer; it grows for a
	// larger frame, up to MaxFrameBytes.
	ReadBufferBytes int

	Metrics *metrics.Metrics // nil: not counted
	Logger  *slog.Logger     // nil: slog.Default()
}

// DefaultOptions returns the options logcaster serve uses by default.
func DefaultOptions() Options {
	return Options{
		Addr: ":24224",
		// Twice Fluentd's default memory chunk: room for a full chunk of
		// long lines, a bound on what one connection makes us hold.
		MaxFrameBytes:    16 << 20,
		MaxInflatedBytes: 64 << 20,
		MaxConns:         10000,
		IdleTimeout:      5 * time.Minute,
		WriteTimeout:     30 * time.Second,
		BatchEvents:      4096,
		ReadBufferBytes:  64 << 10,
	}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch {
	case o.MaxFrameBytes < 16:
		return errors.New("fluent forward options: max frame bytes must be at least 16")
	case o.MaxInflatedBytes <= 0:
		return errors.New("fluent forward options: max inflated bytes must be positive")
	case o.MaxConns <= 0:
		return errors.New("fluent forward options: max conns must be positive")
	case o.IdleTimeout < 0 || o.WriteTimeout < 0:
		return errors.New("fluent forward options: timeouts must not be negative")
	case o.BatchEvents <= 0:
		return errors.New("fluent forward options: batch events must be positive")
	case o.ReadBufferBytes < 64:
		return errors.New("fluent forward options: read buffer must be at least 64 bytes")
	}
	return nil
}

// Server is the Forward listener. One goroutine serves each connection, so
// a slow client slows only itself.
type Server struct {
	sink ingest.Sink
	opts Options
	log  *slog.Logger
	cs   ingest.ConnServer
}

// New returns a server that submits to sink; Start listens.
func New(sink ingest.Sink, opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{sink: sink, opts: opts, log: log}
	s.cs = ingest.ConnServer{Protocol: protocol, MaxConns: opts.MaxConns, IdleTimeout: opts.IdleTimeout,
		Metrics: opts.Metrics, Logger: log, Handle: s.serveConn}
	return s, nil
}

// Start listens on opts.Addr and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen fluent forward on %s: %w", s.opts.Addr, err)
	}
	s.cs.Serve(ln)
	return nil
}

// TCPAddr is the address the server listens on, after Start.
func (s *Server) TCPAddr() net.Addr { return s.cs.Addr() }

// Shutdown stops accepting, ends every connection's reading (a frame being
// read is abandoned: its sender gets no ack and resends), submits what was
// read, and returns when all is done or ctx ends. Call it before closing
// the pipeline.
func (s *Server) Shutdown(ctx context.Context) error { return s.cs.Shutdown(ctx) }
