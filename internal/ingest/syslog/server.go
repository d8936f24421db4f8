package syslog

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

// DefaultMaxMessageBytes is the largest message accepted: far above what
// syslog daemons send (rsyslog's default is 8 KiB), room for a Java stack
// trace, and a bound on what one connection makes the server buffer.
const DefaultMaxMessageBytes = 256 << 10

// Options configure the syslog listener.
type Options struct {
	// Addr is the address of both the TCP and the UDP listener (":5514").
	// With port 0 the TCP port is picked first and UDP takes the same one.
	Addr string
	// MaxMessageBytes is the largest message (frame) accepted. A larger TCP
	// frame ends its connection; a larger UDP datagram is dropped. Both
	// are counted.
	MaxMessageBytes int
	// MaxConns is the most TCP connections served at once; one over it is
	// accepted and closed at once (and counted).
	MaxConns int
	// IdleTimeout closes a TCP connection that sends no byte for this long.
	IdleTimeout time.Duration
	// DefaultIndex is the index of every event; "" means the sender's
	// APP-NAME or TAG (event.DefaultIndex when it has none).
	DefaultIndex string
	// Location is the time zone of RFC 3164 timestamps; nil means UTC.
	Location *time.Location
	// BatchEvents is the most events one batch to the pipeline holds; a
	// TCP connection also hands over what it has before it waits for more
	// data, so a slow sender's messages are not held back.
	BatchEvents int
	// ReadBufferBytes is the read buffer of one TCP connection (it grows
	// for a frame larger than it, up to MaxMessageBytes).
	ReadBufferBytes int
	// UDPReadBuffer is the socket receive buffer asked of the kernel
	// (SO_RCVBUF; Linux caps it at net.core.rmem_max). A large one rides
	// out bursts while the parsers catch up.
	UDPReadBuffer int
	// UDPWorkers is how many goroutines parse datagrams.
	UDPWorkers int

	Metrics *metrics.Metrics // nil: not counted
	Logger  *slog.Logger     // nil: slog.Default()
}

// DefaultOptions returns the options logcaster serve uses by default.
func DefaultOptions() Options {
	return Options{
		Addr:            ":5514",
		MaxMessageBytes: DefaultMaxMessageBytes,
		MaxConns:        10000,
		IdleTimeout:     5 * time.Minute,
		// 4096 events (~1 MB of typical messages) per batch keeps the
		// pipeline's per-batch cost negligible at 400k events/s.
		BatchEvents: 4096,
		// 64 KiB: one read syscall per ~250 typical messages; pages of a
		// fresh buffer that are never touched cost no memory.
		ReadBufferBytes: 64 << 10,
		UDPReadBuffer:   8 << 20,
		UDPWorkers:      min(4, runtime.GOMAXPROCS(0)),
	}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch {
	case o.MaxMessageBytes <= 0:
		return errors.New("syslog options: max message bytes must be positive")
	case o.MaxConns <= 0:
		return errors.New("syslog options: max conns must be positive")
	case o.IdleTimeout < 0:
		return errors.New("syslog options: idle timeout must not be negative")
	case o.BatchEvents <= 0:
		return errors.New("syslog options: batch events must be positive")
	case o.ReadBufferBytes < 64:
		return errors.New("syslog options: read buffer must be at least 64 bytes")
	case o.UDPReadBuffer < 0:
		return errors.New("syslog options: udp read buffer must not be negative")
	case o.UDPWorkers <= 0:
		return errors.New("syslog options: udp workers must be positive")
	}
	return nil
}

// Server is the syslog listener: TCP and UDP on one address.
//
// One goroutine serves each TCP connection, so a slow client slows only
// itself, and Submit blocks while the pipeline's queue is full. UDP is read
// by one goroutine into a bounded set of buffers parsed by UDPWorkers
// goroutines; see udp.go for how it sheds load.
type Server struct {
	sink ingest.Sink
	opts Options
	log  *slog.Logger

	cs      ingest.ConnServer // TCP
	udp     *net.UDPConn
	closing atomic.Bool
	ctx     context.Context // cancelled when Shutdown gives up waiting
	cancel  context.CancelFunc

	udpWG  sync.WaitGroup // the UDP reader and workers
	udpBuf *udpBuffers
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
		return fmt.Errorf("syslog: %w", err)
	}
	s.cs.Serve(ln)
	s.udp = uc
	if s.opts.UDPReadBuffer > 0 {
		s.setUDPReadBuffer()
	}
	s.startUDP()
	return nil
}

// TCPAddr is the TCP address the server listens on, after Start.
func (s *Server) TCPAddr() net.Addr { return s.cs.Addr() }

// UDPAddr is the UDP address the server listens on, after Start.
func (s *Server) UDPAddr() net.Addr { return s.udp.LocalAddr() }

// Shutdown stops accepting, ends every TCP connection's reading (a read in
// progress returns at once), closes the UDP socket, submits what was
// already read, and returns when all is done or ctx ends (then it
// abandons the rest). Call it before closing the pipeline.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.closing.Swap(true) || s.udp == nil {
		return nil
	}
	s.udp.Close()
	err := s.cs.Shutdown(ctx)
	if !ingest.Wait(ctx, &s.udpWG) {
		s.cancel()
		if err == nil {
			err = fmt.Errorf("syslog shutdown: %w", ctx.Err())
		}
	}
	return err
}

// setUDPReadBuffer asks for UDPReadBuffer bytes of socket buffer: beyond
// net.core.rmem_max when the process may (root), else up to it.
func (s *Server) setUDPReadBuffer() {
	forced := false
	if rc, err := s.udp.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { forced = forceReadBuffer(fd, s.opts.UDPReadBuffer) })
	}
	if forced {
		return
	}
	if err := s.udp.SetReadBuffer(s.opts.UDPReadBuffer); err != nil {
		s.log.Warn("syslog udp: cannot set the socket receive buffer", "bytes", s.opts.UDPReadBuffer, "err", err)
	}
}
