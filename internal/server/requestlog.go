package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Request logging. API routes (queries, admin, snapshot, ...) are logged at
// info: they are rare and an operator wants to see them. Ingest routes and
// the probes/scrapes (/health, /ready, /metrics) are logged at debug only:
// at tens of thousands of ingest requests a second, or a probe every
// second, an info line each would bury everything else and cost more than
// the request. Failures (5xx) of API routes are logged at warn; those of
// the quiet routes stay at debug, since a full disk or a failing probe
// would otherwise log at the request rate (the health checks and metrics
// report those states instead).

// quietRoute reports whether a route is logged at debug rather than info.
func quietRoute(pattern string) bool {
	_, path, _ := strings.Cut(pattern, " ")
	if path == "" {
		path = pattern
	}
	switch path {
	case "/health", "/ready", "/metrics", "/api/v1/ingest", "/gelf", "/v1/logs", "/loki/api/v1/push", "/_bulk", "/{index}/_bulk":
		return true
	}
	// Sentry envelope and store endpoints, and any other push route.
	return strings.HasSuffix(path, "/envelope/") || strings.HasSuffix(path, "/store/") || strings.HasSuffix(path, "/_bulk")
}

// traceID returns the caller's trace id: the trace-id field of a W3C
// traceparent header ("00-<32 hex>-<16 hex>-<2 hex>"), else X-Request-Id.
func traceID(r *http.Request) string {
	if tp := r.Header.Get("traceparent"); tp != "" {
		parts := strings.Split(tp, "-")
		if len(parts) >= 4 && len(parts[1]) == 32 {
			return parts[1]
		}
	}
	return r.Header.Get("X-Request-Id")
}

// instrument measures a route's latency by status code and logs the
// request (see above for the level).
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	level := slog.LevelInfo
	if quietRoute(route) {
		level = slog.LevelDebug
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		d := time.Since(start)
		if s.metrics != nil {
			s.metrics.HTTPDuration.WithLabelValues(route, strconv.Itoa(rec.code)).Observe(d.Seconds())
		}
		lv := level
		if rec.code >= 500 && level == slog.LevelInfo {
			lv = slog.LevelWarn
		}
		if !s.log.Enabled(r.Context(), lv) {
			return
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.code),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.Int("bytes", rec.bytes),
		}
		if id := traceID(r); id != "" {
			attrs = append(attrs, slog.String("trace_id", id))
		}
		s.log.LogAttrs(r.Context(), lv, "http request", attrs...)
	})
}

// statusRecorder remembers the status code and size of a response; Unwrap
// lets http.ResponseController reach Flush on streaming routes.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	bytes int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	n, err := r.ResponseWriter.Write(p)
	r.bytes += n
	return n, err
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
