package query

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/logcaster/logcaster/internal/httpjson"
	"github.com/logcaster/logcaster/internal/jsonenc"
	"github.com/logcaster/logcaster/internal/store"
)

// HandlerOptions configure the query endpoint.
type HandlerOptions struct {
	// DefaultLimit is the row cap when the request gives none.
	DefaultLimit int
	// MaxLimit caps what a request may ask for.
	MaxLimit int
	// Timeout bounds one query; 0 is none.
	Timeout time.Duration
	// MaxMemoryBytes bounds what one query may hold (rows waiting to go
	// out, stats groups, count_uniq sets); a query past it stops with
	// "query needs more than N MiB; ...". 0 is no bound.
	MaxMemoryBytes int64
	// Observe, when set, receives each query's duration (for a metric).
	Observe func(d time.Duration)
	// Now is the clock; nil means time.Now (tests set it).
	Now func() time.Time
}

// DefaultHandlerOptions returns the options logcaster serve uses by default.
func DefaultHandlerOptions() HandlerOptions {
	// 1000 rows is more than a screen and less than a browser chokes on;
	// 100k bounds what one request can hold in memory at once.
	// 256 MiB a query, with two or three at once, stays well inside the
	// 512 MiB above idle that issue 3 allows, and holds 100k rows of
	// several KiB each.
	return HandlerOptions{DefaultLimit: 1000, MaxLimit: 100_000, Timeout: 30 * time.Second, MaxMemoryBytes: 256 << 20}
}

// Validate reports options that cannot work.
func (o HandlerOptions) Validate() error {
	switch {
	case o.DefaultLimit <= 0:
		return errors.New("query default limit must be positive")
	case o.MaxLimit < o.DefaultLimit:
		return errors.New("query max limit must be at least the default limit")
	case o.Timeout < 0:
		return errors.New("query timeout must not be negative")
	case o.MaxMemoryBytes < 0:
		return errors.New("query max memory must not be negative")
	}
	return nil
}

// flushEvery is how many rows go out between flushes: often enough that a
// client sees rows arrive, rarely enough not to cost a syscall per row.
const flushEvery = 64

// NewHandler serves GET /api/v1/query?q=&start=&end=&limit= as NDJSON.
// start and end take RFC 3339 or a relative 15m / 1h / 7d; errors are
// {"error":"..."} with 400 for a bad query or parameter, 504 when the
// query times out. A client that goes away cancels the query.
func NewHandler(sc store.Scanner, opts HandlerOptions) http.Handler {
	if opts.DefaultLimit <= 0 {
		opts.DefaultLimit = DefaultHandlerOptions().DefaultLimit
	}
	if opts.MaxLimit < opts.DefaultLimit {
		opts.MaxLimit = max(opts.DefaultLimit, DefaultHandlerOptions().MaxLimit)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &handler{sc: sc, opts: opts}
}

type handler struct {
	sc   store.Scanner
	opts HandlerOptions
}

// parseRequest reads a query request's q, start, end and limit; on a bad
// one it answers 400 itself and returns ok=false.
func (h *handler) parseRequest(w http.ResponseWriter, r *http.Request) (q *Query, ro RunOptions, ok bool) {
	now := h.opts.Now()
	params := r.URL.Query()
	qs := params.Get("q")
	if qs == "" {
		qs = "*"
	}
	q, err := Parse(qs)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad query: "+err.Error())
		return nil, ro, false
	}
	ro = RunOptions{Now: now, Limit: h.opts.DefaultLimit, MaxMemory: h.opts.MaxMemoryBytes}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"start", &ro.Start}, {"end", &ro.End}} {
		if v := params.Get(p.name); v != "" {
			t, err := ParseTime(v, now)
			if err != nil {
				httpjson.Error(w, http.StatusBadRequest, p.name+": "+err.Error())
				return nil, ro, false
			}
			*p.dst = t.UnixNano()
		}
	}
	if v := params.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			httpjson.Error(w, http.StatusBadRequest, "limit: want a positive number, got "+strconv.Quote(v))
			return nil, ro, false
		}
		ro.Limit = min(n, h.opts.MaxLimit)
	}
	return q, ro, true
}

// queryContext is the request's context bounded by the query timeout: a
// client that goes away or a query that runs too long stops the work.
func (h *handler) queryContext(r *http.Request) (context.Context, context.CancelFunc) {
	if h.opts.Timeout > 0 {
		return context.WithTimeout(r.Context(), h.opts.Timeout)
	}
	return context.WithCancel(r.Context())
}

func appendErrorJSON(dst []byte, msg string) []byte {
	dst = append(dst, `{"error":`...)
	dst = jsonenc.AppendString(dst, msg)
	return append(dst, '}', '\n')
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		httpjson.Error(w, http.StatusMethodNotAllowed, "method not allowed: use GET")
		return
	}
	started := time.Now()
	if h.opts.Observe != nil {
		defer func() { h.opts.Observe(time.Since(started)) }()
	}
	if r.URL.Query().Get("format") == "csv" { // http_csv.go
		h.serveCSV(w, r)
		return
	}
	q, ro, ok := h.parseRequest(w, r)
	if !ok {
		return
	}
	ctx, cancel := h.queryContext(r)
	defer cancel()
	bw := bufio.NewWriterSize(w, 32<<10)
	flusher, _ := w.(http.Flusher)
	started200 := false
	n := 0
	var buf []byte
	err := q.Run(ctx, h.sc, ro, func(row *Row) error {
		if !started200 {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			started200 = true
		}
		buf = AppendNDJSON(buf[:0], row)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		n++
		if n%flushEvery == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		return nil
	})
	if err != nil {
		msg, status := err.Error(), http.StatusInternalServerError
		if errors.Is(err, context.DeadlineExceeded) {
			msg, status = "query timed out after "+h.opts.Timeout.String(), http.StatusGatewayTimeout
		} else if errors.Is(err, ErrMemoryLimit) {
			// The query, not the server, is at fault: the client must
			// narrow it.
			status = http.StatusUnprocessableEntity
		} else if errors.Is(err, context.Canceled) {
			return // the client went away; nobody to answer
		}
		if !started200 {
			httpjson.Error(w, status, msg)
			return
		}
		// Rows already went out with a 200: end the stream with the error.
		bw.Write(appendErrorJSON(nil, msg))
		bw.Flush()
		return
	}
	if !started200 {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
	}
	bw.Flush()
}
