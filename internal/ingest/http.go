package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/httpjson"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// HTTPOptions configure the HTTP ingest endpoint.
type HTTPOptions struct {
	// MaxBodyBytes limits a request body after decompression: a bigger
	// body is refused whole with 413 (a gzip bomb stops at this size).
	MaxBodyBytes int64
	// MaxLineBytes is the longest line kept whole (see ParseLine).
	MaxLineBytes int
	// DefaultIndex is the index when the request names none (?index=).
	DefaultIndex string
	// BatchEvents is the most events one batch to the pipeline holds; a
	// big body is split into several.
	BatchEvents int
	// MaxRejectedListed caps the "rejected" list of an answer; the rest
	// are counted in "rejected_total".
	MaxRejectedListed int

	Metrics *metrics.Metrics // nil: not counted
	Logger  *slog.Logger     // nil: slog.Default()
}

// DefaultHTTPOptions returns the options logcaster serve uses by default.
func DefaultHTTPOptions() HTTPOptions {
	return HTTPOptions{
		MaxBodyBytes:      64 << 20,
		MaxLineBytes:      DefaultMaxLineBytes,
		DefaultIndex:      event.DefaultIndex,
		BatchEvents:       8192,
		MaxRejectedListed: 1000,
	}
}

// maxIndexNameLen bounds an index name given in the URL.
const maxIndexNameLen = 255

// Validate reports options that cannot work.
func (o HTTPOptions) Validate() error {
	switch {
	case o.MaxBodyBytes <= 0:
		return errors.New("http ingest options: max body bytes must be positive")
	case o.MaxLineBytes <= 0:
		return errors.New("http ingest options: max line bytes must be positive")
	case o.BatchEvents <= 0:
		return errors.New("http ingest options: batch events must be positive")
	case o.MaxRejectedListed < 0:
		return errors.New("http ingest options: max rejected listed must not be negative")
	}
	return nil
}

// NewIngestHandler returns the handler of POST /api/v1/ingest?index=NAME.
//
// The body is JSON lines or text lines (see ParseLine), plain or with
// Content-Encoding gzip or zstd. Lines that start with '{' but are not
// valid JSON are refused and listed; the lines beside them are kept. The
// answer comes only after every kept event is durable:
//
//	200 {"accepted": N, "rejected": [{"line": K, "error": "..."}]}   (K counts from 1)
//	400 undecodable body or bad index name
//	405 not POST
//	413 body larger than MaxBodyBytes once decompressed (nothing kept)
//	415 unknown Content-Encoding
//	429 queue full, with Retry-After: 1 (nothing kept: send it again)
//	503 the store failed, with Retry-After: 1 (part may be kept)
//
// Errors are {"error": "..."}. A 429 is given only before any batch of the
// request is queued; once one is, the rest wait for room, so a request is
// never half refused. It panics if opts.Validate fails (a wiring bug).
func NewIngestHandler(sink Sink, opts HTTPOptions) http.Handler {
	if err := opts.Validate(); err != nil {
		panic("BUG: " + err.Error())
	}
	h := &ingestHandler{sink: sink, opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

type ingestHandler struct {
	sink Sink
	opts HTTPOptions
	log  *slog.Logger
}

type rejectedLine struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

type ingestAnswer struct {
	Accepted      int            `json:"accepted"`
	Rejected      []rejectedLine `json:"rejected"`
	RejectedTotal int            `json:"rejected_total,omitempty"`
}

func (h *ingestHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := h.opts.Metrics
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpjson.Error(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	index := r.URL.Query().Get("index")
	if index == "" {
		index = h.opts.DefaultIndex
	}
	if !validIndexName(index) {
		httpjson.Error(w, http.StatusBadRequest, "invalid index name")
		return
	}
	buf := GetBodyBuffer()
	defer PutBodyBuffer(buf)
	if err := ReadBody(r, buf, h.opts.MaxBodyBytes); err != nil {
		switch {
		case errors.Is(err, ErrBodyTooLarge):
			m.Rejected(protoHTTP, "body_too_large", 1)
			httpjson.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", h.opts.MaxBodyBytes))
		case errors.Is(err, ErrUnknownEncoding):
			httpjson.Error(w, http.StatusUnsupportedMediaType, err.Error())
		default:
			httpjson.Error(w, http.StatusBadRequest, "read body: "+err.Error())
		}
		return
	}
	body := buf.Bytes()
	m.Bytes(protoHTTP, len(body))

	ans := ingestAnswer{Rejected: []rejectedLine{}}
	opts := LineOptions{DefaultIndex: index, MaxLineBytes: h.opts.MaxLineBytes, BadJSON: BadJSONReject}
	var tickets []*pipeline.Ticket
	var batches []*event.Batch
	batch := &event.Batch{}
	lineNo := 0
	submit := func() bool {
		if batch.Len() == 0 {
			return true
		}
		// Block only once something of this request is queued (see above).
		t, err := h.sink.Submit(r.Context(), batch, len(tickets) > 0)
		if err != nil {
			if errors.Is(err, pipeline.ErrQueueFull) {
				m.Rejected(protoHTTP, "queue_full", bytes.Count(body, []byte{'\n'})+1)
				w.Header().Set("Retry-After", "1")
				httpjson.Error(w, http.StatusTooManyRequests, "ingest queue is full, retry later")
			} else {
				w.Header().Set("Retry-After", "1")
				httpjson.Error(w, http.StatusServiceUnavailable, "queue batch: "+err.Error())
			}
			return false
		}
		tickets = append(tickets, t)
		batches = append(batches, batch)
		batch = &event.Batch{}
		return true
	}
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i+1], body[i+1:]
		} else {
			body = nil
		}
		lineNo++
		if opts.Now == 0 {
			opts.Now = time.Now().UnixNano()
		}
		batch.Bytes += len(line)
		if err := ParseLine(batch, line, opts); err != nil {
			ans.RejectedTotal++
			if len(ans.Rejected) < h.opts.MaxRejectedListed {
				ans.Rejected = append(ans.Rejected, rejectedLine{Line: lineNo, Error: err.Error()})
			}
		}
		if batch.Len() >= h.opts.BatchEvents {
			if !submit() {
				return
			}
			opts.Now = 0
		}
	}
	if !submit() {
		return
	}
	for i, t := range tickets {
		if err := t.Wait(r.Context()); err != nil {
			w.Header().Set("Retry-After", "1")
			httpjson.Error(w, http.StatusServiceUnavailable, "store batch: "+err.Error())
			h.log.Error("http ingest: batch not stored", "err", err)
			return
		}
		ans.Accepted += batches[i].Len()
		CountIngested(m, protoHTTP, batches[i])
	}
	m.Rejected(protoHTTP, "invalid_json", ans.RejectedTotal)
	if ans.RejectedTotal == len(ans.Rejected) {
		ans.RejectedTotal = 0 // only shown when the list is cut
	}
	httpjson.Write(w, http.StatusOK, &ans)
}

func validIndexName(s string) bool {
	if len(s) == 0 || len(s) > maxIndexNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '/' || c == '\\' {
			return false
		}
	}
	return true
}
