package gelf

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/httpjson"
	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// Handler returns the GELF HTTP input (Graylog's /gelf): a POST whose body
// is one GELF message, plain or compressed (Content-Encoding gzip or
// deflate, or a gzip/zlib body unlabelled: the bytes tell). It answers
// 202 Accepted with an empty body, as Graylog does, once the event is
// durable; 400 for an invalid message, 413 past MaxMessageBytes, 429 with
// Retry-After when the pipeline's queue is full. Errors are JSON
// {"error": "..."}.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

var httpBodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// httpParsers keeps Parsers for the HTTP handler, which has no goroutine
// of its own to keep one in.
var httpParsers = sync.Pool{New: func() any { return NewParser() }}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	m := s.opts.Metrics
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpjson.Error(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	limit := s.opts.MaxMessageBytes
	if r.ContentLength > int64(limit) {
		m.Rejected(protoHTTP, "too_large", 1)
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "body larger than "+strconv.Itoa(limit)+" bytes")
		return
	}
	buf := httpBodies.Get().(*bytes.Buffer)
	buf.Reset()
	defer httpBodies.Put(buf)
	n, err := buf.ReadFrom(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if n > int64(limit) {
		m.Rejected(protoHTTP, "too_large", 1)
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "body larger than "+strconv.Itoa(limit)+" bytes")
		return
	}
	d := decompressors.Get().(*decompressor)
	defer decompressors.Put(d)
	plain, err := d.inflate(buf.Bytes(), limit)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			m.Rejected(protoHTTP, "too_large", 1)
			httpjson.Error(w, http.StatusRequestEntityTooLarge, "message larger than "+strconv.Itoa(limit)+" bytes once decompressed")
			return
		}
		m.Rejected(protoHTTP, "malformed", 1)
		httpjson.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	b := &event.Batch{Bytes: int(n)}
	p := httpParsers.Get().(*Parser)
	err = p.Parse(b, plain, ParseOptions{DefaultIndex: s.opts.DefaultIndex, Now: time.Now().UnixNano()})
	httpParsers.Put(p)
	if err != nil {
		m.Rejected(protoHTTP, "malformed", 1)
		httpjson.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	t, err := s.sink.Submit(r.Context(), b, false)
	if err != nil {
		w.Header().Set("Retry-After", "1")
		if errors.Is(err, pipeline.ErrQueueFull) {
			m.Rejected(protoHTTP, "queue_full", 1)
			httpjson.Error(w, http.StatusTooManyRequests, "ingest queue is full, retry later")
			return
		}
		httpjson.Error(w, http.StatusServiceUnavailable, "queue message: "+err.Error())
		return
	}
	if err := t.Wait(r.Context()); err != nil {
		w.Header().Set("Retry-After", "1")
		httpjson.Error(w, http.StatusServiceUnavailable, "store message: "+err.Error())
		s.log.Error("gelf http: message not stored", "err", err)
		return
	}
	ingest.CountIngested(m, protoHTTP, b)
	w.WriteHeader(http.StatusAccepted)
}
