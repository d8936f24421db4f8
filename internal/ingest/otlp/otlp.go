// Package otlp receives OpenTelemetry logs over OTLP/HTTP (POST /v1/logs),
// protobuf or JSON, plain or gzip, so OpenTelemetry SDKs and the Collector
// send to LogCaster unchanged.
//
// Mapping: resource and log attributes become fields (nested key-value
// lists flattened with dots; service.name becomes service, and the index
// unless an attribute index names one); trace_id is kept as lower-case hex,
// span_id as the field span_id; severity_text (or else severity_number)
// gives the level; a string body is the message, any other body its JSON
// text; time_unix_nano, else observed_time_unix_nano, else arrival time.
//
// Promises: the answer (an ExportLogsServiceResponse in the request's
// encoding) comes only after every accepted record is durable; records that
// cannot be stored (a trace or span id of the wrong length) are reported in
// partial_success and counted, the others kept; an undecodable request is
// refused whole with 400 and a google.rpc.Status; 429/503 carry
// Retry-After; no input panics; every refusal is counted in metrics under
// protocol "otlp".
package otlp

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/metrics"
)

// protocol is the metrics label of this adapter.
const protocol = "otlp"

// Route is the URL pattern the server mounts the handler at.
const Route = "POST /v1/logs"

// Options configure the OTLP/HTTP logs endpoint.
type Options struct {
	// MaxBodyBytes limits a request body after decompression.
	MaxBodyBytes int64
	// DefaultIndex is the index of records with no service.name or index.
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
		return errors.New("otlp options: max body bytes must be positive")
	case o.BatchEvents <= 0:
		return errors.New("otlp options: batch events must be positive")
	case o.DefaultIndex == "":
		return errors.New("otlp options: default index must be set")
	}
	return nil
}

// New returns the handler of POST /v1/logs. Answers:
//
//	200 ExportLogsServiceResponse (partial_success lists rejected records)
//	400 undecodable request (google.rpc.Status; nothing stored)
//	405 not POST
//	413 body larger than MaxBodyBytes once decompressed
//	415 Content-Type neither application/x-protobuf nor application/json,
//	    or an unknown Content-Encoding
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

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := h.opts.Metrics
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isJSON := false
	switch ct {
	case "application/x-protobuf", "application/protobuf":
	case "application/json":
		isJSON = true
	default:
		m.Rejected(protocol, "bad_content_type", 1)
		writeStatus(w, false, http.StatusUnsupportedMediaType, "unsupported Content-Type "+strconv.Quote(ct)+" (use application/x-protobuf or application/json)")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeStatus(w, isJSON, http.StatusMethodNotAllowed, "use POST")
		return
	}
	buf := ingest.GetBodyBuffer()
	defer ingest.PutBodyBuffer(buf)
	if err := ingest.ReadBody(r, buf, h.opts.MaxBodyBytes); err != nil {
		switch {
		case errors.Is(err, ingest.ErrBodyTooLarge):
			m.Rejected(protocol, "body_too_large", 1)
			writeStatus(w, isJSON, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes once decompressed", h.opts.MaxBodyBytes))
		case errors.Is(err, ingest.ErrUnknownEncoding):
			m.Rejected(protocol, "bad_encoding", 1)
			writeStatus(w, isJSON, http.StatusUnsupportedMediaType, err.Error())
		default:
			m.Rejected(protocol, "bad_body", 1)
			writeStatus(w, isJSON, http.StatusBadRequest, "read body: "+err.Error())
		}
		return
	}
	m.Bytes(protocol, buf.Len())

	req := &collogs.ExportLogsServiceRequest{}
	var err error
	if isJSON {
		err = unmarshalJSON(buf.Bytes(), req)
	} else {
		err = proto.Unmarshal(buf.Bytes(), req)
	}
	if err != nil {
		m.Rejected(protocol, "malformed_request", 1)
		writeStatus(w, isJSON, http.StatusBadRequest, "decode request: "+err.Error())
		return
	}

	conv := converter{opts: h.opts, now: time.Now().UnixNano()}
	conv.convert(req)

	stored := func(b *event.Batch) { ingest.CountEvents(m, protocol, b) }
	if serr := ingest.SubmitAll(r.Context(), h.sink, conv.batches, stored); serr != nil {
		w.Header().Set("Retry-After", "1")
		if serr.Status == http.StatusTooManyRequests {
			m.Rejected(protocol, "queue_full", conv.accepted)
		} else {
			h.log.Error("otlp: not stored", "err", serr.Err)
		}
		writeStatus(w, isJSON, serr.Status, serr.Error())
		return
	}
	m.Rejected(protocol, "invalid_record", conv.rejected)

	resp := &collogs.ExportLogsServiceResponse{}
	if conv.rejected > 0 {
		resp.PartialSuccess = &collogs.ExportLogsPartialSuccess{
			RejectedLogRecords: int64(conv.rejected),
			ErrorMessage:       fmt.Sprintf("%d log records rejected; first: %s", conv.rejected, conv.firstError),
		}
	}
	var out []byte
	if isJSON {
		out, err = protojson.Marshal(resp)
	} else {
		out, err = proto.Marshal(resp)
	}
	if err != nil {
		panic("BUG: marshal otlp response: " + err.Error())
	}
	writeBody(w, isJSON, http.StatusOK, out)
}

// writeStatus writes an error as OTLP/HTTP wants it: a google.rpc.Status
// (code, message) in the request's encoding. The message is hand-encoded:
// two fields do not justify another generated type.
func writeStatus(w http.ResponseWriter, isJSON bool, code int, msg string) {
	grpcCode := grpcCodeOf(code)
	var out []byte
	if isJSON {
		out = []byte(`{"code":` + strconv.Itoa(grpcCode) + `,"message":` + jsonString(msg) + `}`)
	} else {
		out = protowire.AppendTag(out, 1, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(grpcCode))
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendString(out, msg)
	}
	writeBody(w, isJSON, code, out)
}

// grpcCodeOf maps an HTTP status to the google.rpc.Code the Status carries.
func grpcCodeOf(httpCode int) int {
	switch httpCode {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusMethodNotAllowed:
		return 3 // INVALID_ARGUMENT
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return 8 // RESOURCE_EXHAUSTED
	default:
		return 14 // UNAVAILABLE
	}
}

func writeBody(w http.ResponseWriter, isJSON bool, code int, out []byte) {
	if isJSON {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "application/x-protobuf")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(code)
	w.Write(out)
}
