// Package server wires LogCaster together: it owns the HTTP listener and
// its routes (API, health, metrics), starts the protocol listeners it is
// given, and shuts everything down in the order that loses nothing:
// listeners stop accepting and hand in what they read, in-flight HTTP
// requests finish, the pipeline drains into the store, the store flushes.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/logcaster/logcaster/internal/httpjson"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/pipeline"
	"github.com/logcaster/logcaster/internal/store"
)

// Listener is a protocol listener the server starts and stops (TCP lines,
// syslog, ...).
type Listener interface {
	// Start begins accepting; it returns once the listener is bound.
	Start() error
	// Shutdown stops accepting, closes connections after handing in what
	// was read, and returns when done or when ctx ends.
	Shutdown(ctx context.Context) error
}

// Options configure the HTTP side of the server.
type Options struct {
	HTTPAddr          string // "" turns HTTP off
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration // whole request, body included; bounds slow uploads
	IdleTimeout       time.Duration
	MaxConns          int // more concurrent connections are closed at once
	MaxHeaderBytes    int
	Version           string
	DataDir           string // the store's folder, for the free-disk check; "" skips it
}

// DefaultOptions returns the options logcaster serve uses by default.
func DefaultOptions() Options {
	return Options{
		HTTPAddr:          ":8080",
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		// Enough for the live viewers of a big event plus the API; each
		// idle connection costs a goroutine and a few KiB.
		MaxConns:       20000,
		MaxHeaderBytes: 64 << 10,
		Version:        "dev",
	}
}

// Server is a running LogCaster server.
type Server struct {
	opts      Options
	log       *slog.Logger
	store     *store.Store
	pipe      *pipeline.Pipeline
	metrics   *metrics.Metrics
	mux       *http.ServeMux
	http      *http.Server
	listeners []Listener
	started   time.Time
	draining  atomic.Bool
	health    *healthChecker
}

// New returns a server over a store and the pipeline feeding it. Routes and
// listeners are added before Start.
func New(opts Options, st *store.Store, pipe *pipeline.Pipeline, m *metrics.Metrics, log *slog.Logger) *Server {
	s := &Server{opts: opts, log: log, store: st, pipe: pipe, metrics: m, mux: http.NewServeMux()}
	s.health = newHealthChecker(s)
	m.GaugeFunc("logcaster_queue_size", "Events queued for the store and not yet durable.", func() float64 { return float64(pipe.Len()) })
	m.GaugeFunc("logcaster_queue_capacity", "Capacity of the ingest queue in events.", func() float64 { return float64(pipe.Cap()) })
	m.GaugeFunc("logcaster_storage_bytes", "Bytes of the store's parts on disk.", func() float64 { return float64(st.Stats().DiskBytes) })
	m.GaugeFunc("logcaster_storage_parts", "Number of parts in the store.", func() float64 { return float64(st.Stats().Parts) })
	m.GaugeFunc("logcaster_storage_rows", "Events in the store's parts.", func() float64 { return float64(st.Stats().Rows) })
	m.GaugeFunc("logcaster_head_events", "Events in memory not yet written into parts.", func() float64 { return float64(st.Stats().HeadEvents) })
	if opts.DataDir != "" {
		m.GaugeFunc("logcaster_data_disk_free_bytes", "Bytes free to LogCaster on the data directory's filesystem.", func() float64 { return diskFigure(opts.DataDir, true) })
		m.GaugeFunc("logcaster_data_disk_size_bytes", "Size in bytes of the data directory's filesystem.", func() float64 { return diskFigure(opts.DataDir, false) })
	}
	s.Handle("GET /health", http.HandlerFunc(s.handleHealth))
	s.Handle("GET /ready", http.HandlerFunc(s.handleReady))
	s.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	s.Handle("POST /api/v1/admin/force_merge", http.HandlerFunc(s.handleForceMerge))
	s.Handle("POST /api/v1/snapshot", http.HandlerFunc(s.handleSnapshot))
	// Profiles of the running server, for "profile before optimising".
	s.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	s.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	s.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return s
}

// Handle mounts h on pattern (http.ServeMux syntax), measuring it.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.instrument(pattern, h))
}

// AddListener registers a protocol listener to start and stop with the
// server.
func (s *Server) AddListener(l Listener) { s.listeners = append(s.listeners, l) }

// Start binds every listener and starts serving.
func (s *Server) Start() error {
	s.started = time.Now()
	if s.opts.HTTPAddr != "" {
		ln, err := net.Listen("tcp", s.opts.HTTPAddr)
		if err != nil {
			return fmt.Errorf("http listen %s: %w", s.opts.HTTPAddr, err)
		}
		s.http = &http.Server{
			Handler:           s.mux,
			ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
			ReadTimeout:       s.opts.ReadTimeout,
			IdleTimeout:       s.opts.IdleTimeout,
			MaxHeaderBytes:    s.opts.MaxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		}
		go func() {
			if err := s.http.Serve(newLimitListener(ln, s.opts.MaxConns, s.metrics)); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server stopped", "err", err)
			}
		}()
	}
	for _, l := range s.listeners {
		if err := l.Start(); err != nil {
			return err
		}
	}
	s.health.start()
	return nil
}

// Shutdown stops the server without losing acknowledged or read data (see
// the package comment). It returns the first error met.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.health.close()
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, l := range s.listeners {
		keep(l.Shutdown(ctx))
	}
	if s.http != nil {
		keep(s.http.Shutdown(ctx))
	}
	s.pipe.Close()
	keep(s.store.Close())
	return first
}

func (s *Server) handleForceMerge(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if err := s.store.ForceMerge(); err != nil {
		httpjson.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	st := s.store.Stats()
	httpjson.Write(w, http.StatusOK, map[string]any{"parts": st.Parts, "rows": st.Rows, "disk_bytes": st.DiskBytes, "took_ms": time.Since(start).Milliseconds()})
}

func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	path, err := s.store.Snapshot()
	if err != nil {
		httpjson.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"path": path, "took_ms": time.Since(start).Milliseconds()})
}
