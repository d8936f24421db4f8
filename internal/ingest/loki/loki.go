// Package loki receives the Loki push API (POST /loki/api/v1/push), so
// Promtail, Grafana Alloy, the Docker driver and Loki client libraries send
// to LogCaster unchanged: JSON bodies (plain or gzip) and snappy-compressed
// protobuf (logproto.PushRequest, decoded by hand with protowire, without
// generated code, no allocation per entry beyond the batch's own).
//
// Stream labels become fields: service_name becomes service (app or job
// stand in when there is none), level or detected_level the level, a label
// index the index (else the service, else the default). Structured
// metadata becomes fields too, trace_id the event's trace id.
//
// Promises: 204 only after every entry of the push is durable; a push is
// refused whole (400) when any of it is malformed, with nothing stored, as
// Loki does; 429 with Retry-After when the queue is full before anything is
// queued; 413 beyond MaxBodyBytes, also after decompression (snappy's
// declared length is checked before decoding); no input panics; every
// refusal is counted in metrics under protocol "loki".
package loki

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/metrics"
)

// protocol is the metrics label of this adapter.
const protocol = "loki"

// Route is the URL pattern the server mounts the handler at.
const Route = "POST /loki/api/v1/push"

// Options configure the Loki push endpoint.
type Options struct {
	// MaxBodyBytes limits a request body, compressed and decompressed.
	MaxBodyBytes int64
	// DefaultIndex is the index of streams that name no index or service.
	DefaultIndex string
	// BatchEvents is the most events one batch to the pipeline holds.
	BatchEvents int

	Metrics *metrics.Metrics // nil: not counted
	Logger  *slog.Logger     // nil: slog.Default()
}

// DefaultOptions returns the options logcaster serve uses by default.
func DefaultOptions() Options {
	return Options{MaxBodyBytes: 64 << 20, DefaultIndex: event.DefaultIndex, BatchEvents: 8192}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch {
	case o.MaxBodyBytes <= 0:
		return errors.New("loki options: max body bytes must be positive")
	case o.BatchEvents <= 0:
		return errors.New("loki options: batch events must be positive")
	case o.DefaultIndex == "":
		return errors.New("loki options: default index must be set")
	}
	return nil
}

// New returns the handler of POST /loki/api/v1/push. Content-Type
// application/x-protobuf means a snappy-compressed PushRequest; JSON
// otherwise (application/json or none). Answers:
//
//	204 stored (durable)
//	400 malformed push (text/plain reason; nothing stored)
//	405 not POST
//	413 body too large, compressed or not
//	415 unknown Content-Type or Content-Encoding
//	429 queue full, Retry-After: 1 (nothing stored)
//	503 the store failed, Retry-After: 1
//
// It panics if opts.Validate fails (a wiring bug).
func New(sink ingest.Sink, opts Options) http.Handler {
	if err := opts.Validate(); err != nil {
		panic("BUG: " + err.Error())
	}
	h := &handler{sink: sink, opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

type handler struct {
	sink ingest.Sink
	opts Options
	log  *slog.Logger
}

// errTooLarge is a decompressed size above MaxBodyBytes found while decoding.
var errTooLarge = errors.New("push too large once decompressed")

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := h.opts.Metrics
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isProto := false
	switch ct {
	case "application/x-protobuf", "application/protobuf":
		isProto = true
		// Some clients label the snappy block they always send.
		if strings.EqualFold(r.Header.Get("Content-Encoding"), "snappy") {
			r.Header.Del("Content-Encoding")
		}
	case "", "application/json":
	default:
		m.Rejected(protocol, "bad_content_type", 1)
		http.Error(w, "unsupported Content-Type "+ct+" (use application/json or application/x-protobuf)", http.StatusUnsupportedMediaType)
		return
	}
	buf := ingest.GetBodyBuffer()
	defer ingest.PutBodyBuffer(buf)
	if err := ingest.ReadBody(r, buf, h.opts.MaxBodyBytes); err != nil {
		h.bodyError(w, err)
		return
	}
	m.Bytes(protocol, buf.Len())

	st := getPushState()
	defer putPushState(st)
	st.reset(h.opts, time.Now().UnixNano())
	var err error
	if isProto {
		err = st.decodeProto(buf.Bytes(), h.opts.MaxBodyBytes)
	} else {
		err = st.decodeJSON(buf.Bytes())
	}
	if err != nil {
		h.bodyError(w, err)
		return
	}
	st.flush()

	stored := func(b *event.Batch) { ingest.CountEvents(m, protocol, b) }
	if serr := ingest.SubmitAll(r.Context(), h.sink, st.batches, stored); serr != nil {
		w.Header().Set("Retry-After", "1")
		if serr.Status == http.StatusTooManyRequests {
			m.Rejected(protocol, "queue_full", st.events)
		} else {
			h.log.Error("loki push: not stored", "err", serr.Err)
		}
		http.Error(w, serr.Error(), serr.Status)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) bodyError(w http.ResponseWriter, err error) {
	m := h.opts.Metrics
	switch {
	case errors.Is(err, ingest.ErrBodyTooLarge), errors.Is(err, errTooLarge):
		m.Rejected(protocol, "body_too_large", 1)
		http.Error(w, fmt.Sprintf("body larger than %d bytes", h.opts.MaxBodyBytes), http.StatusRequestEntityTooLarge)
	case errors.Is(err, ingest.ErrUnknownEncoding):
		m.Rejected(protocol, "bad_encoding", 1)
		http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
	default:
		m.Rejected(protocol, "malformed_push", 1)
		http.Error(w, "malformed push: "+err.Error(), http.StatusBadRequest)
	}
}
