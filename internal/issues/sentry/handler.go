package sentry

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/httpjson"
	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/issues"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// Routes of the Sentry ingest endpoints.
const (
	RouteEnvelope = "POST /api/{project}/envelope/"
	RouteStore    = "POST /api/{project}/store/"
)

// Options configure the Sentry endpoints.
type Options struct {
	// MaxBodyBytes bounds a body after decompression (Sentry's own limit
	// for an envelope is 200 MiB with attachments; events are far smaller).
	MaxBodyBytes int64
	Metrics      *metrics.Metrics // nil: not counted
	Logger       *slog.Logger     // nil: slog.Default()
}

// DefaultOptions returns the options logcaster serve uses.
func DefaultOptions() Options { return Options{MaxBodyBytes: 20 << 20} }

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.MaxBodyBytes <= 0 {
		return errors.New("sentry options: max body bytes must be positive")
	}
	return nil
}

// Handler serves the envelope and store endpoints.
type Handler struct {
	sink ingest.Sink
	t    *issues.Tracker
	opts Options
	log  *slog.Logger
}

// New returns the handler; it panics if opts.Validate fails (a wiring bug).
func New(sink ingest.Sink, t *issues.Tracker, opts Options) *Handler {
	if err := opts.Validate(); err != nil {
		panic("BUG: " + err.Error())
	}
	h := &Handler{sink: sink, t: t, opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

const protoSentry = "sentry"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	project := r.PathValue("project")
	envelope := strings.HasSuffix(r.URL.Path, "/envelope/")
	buf := ingest.GetBodyBuffer()
	defer ingest.PutBodyBuffer(buf)
	if err := ingest.ReadBody(r, buf, h.opts.MaxBodyBytes); err != nil {
		switch {
		case errors.Is(err, ingest.ErrBodyTooLarge):
			httpjson.Error(w, http.StatusRequestEntityTooLarge, "body too large")
		case errors.Is(err, ingest.ErrUnknownEncoding):
			httpjson.Error(w, http.StatusUnsupportedMediaType, err.Error())
		default:
			httpjson.Error(w, http.StatusBadRequest, "read body: "+err.Error())
		}
		return
	}
	body := buf.Bytes()
	h.opts.Metrics.Bytes(protoSentry, len(body))
	var env *Envelope
	if envelope {
		var err error
		if env, err = ParseEnvelope(body); err != nil {
			httpjson.Error(w, http.StatusBadRequest, err.Error())
			return
		}
	} else {
		env = &Envelope{Items: []Item{{Type: "event", Payload: body}}}
	}
	project, ok := h.project(project, authKey(r, env.DSN))
	if !ok {
		httpjson.Error(w, http.StatusUnauthorized, "unknown project or wrong key")
		return
	}
	now := time.Now()
	b := &event.Batch{Bytes: len(body)}
	var errs []*issues.ErrorEvent
	for _, it := range env.Items {
		switch it.Type {
		case "event", "error":
			e, err := ParseEvent(it.Payload, project, now)
			if err != nil {
				httpjson.Error(w, http.StatusBadRequest, err.Error())
				return
			}
			if e.EventID == "" || env.EventID != "" && len(env.Items) == 1 {
				e.EventID = strings.ReplaceAll(env.EventID, "-", "")
			}
			appendLogEvent(b, e)
			errs = append(errs, e)
		case "log":
			if err := appendLogItems(b, it.Payload, project, now); err != nil {
				httpjson.Error(w, http.StatusBadRequest, err.Error())
				return
			}
		default:
			// session, sessions, client_report, transaction, attachment,
			// check_in, ...: accepted and not kept, as a Sentry server that
			// has the feature off does.
		}
	}
	id := env.EventID
	if len(errs) > 0 {
		id = errs[0].EventID
	}
	// The issue journal's fsync runs while the store's group commit does:
	// two fsyncs one after the other would halve the rate. If the store
	// then fails, the issue has counted an event the SDK will resend.
	recorded := make(chan error, 1)
	record := func() { recorded <- h.t.RecordAll(errs, nil) }
	if b.Len() > 0 {
		t, err := h.sink.Submit(r.Context(), b, false)
		if err != nil {
			w.Header().Set("Retry-After", "1")
			if errors.Is(err, pipeline.ErrQueueFull) {
				h.opts.Metrics.Rejected(protoSentry, "queue_full", b.Len())
				httpjson.Error(w, http.StatusTooManyRequests, "ingest queue is full, retry later")
			} else {
				httpjson.Error(w, http.StatusServiceUnavailable, "queue batch: "+err.Error())
			}
			return
		}
		go record()
		if err := t.Wait(r.Context()); err != nil {
			w.Header().Set("Retry-After", "1")
			httpjson.Error(w, http.StatusServiceUnavailable, "store batch: "+err.Error())
			return
		}
		ingest.CountIngested(h.opts.Metrics, protoSentry, b)
	} else {
		go record()
	}
	if err := <-recorded; err != nil {
		h.log.Error("sentry: record issue", "err", err)
		httpjson.Error(w, http.StatusInternalServerError, "record issue: "+err.Error())
		return
	}
	out := append([]byte(`{"id":`), strconv.Quote(id)...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(out, "}\n"...))
}

// authKey finds the public key: X-Sentry-Auth's sentry_key, the
// sentry_key query parameter, or the envelope header's DSN.
func authKey(r *http.Request, dsn string) string {
	for _, hv := range []string{r.Header.Get("X-Sentry-Auth"), r.Header.Get("Authorization")} {
		hv = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(hv), "Sentry "))
		for _, part := range strings.Split(hv, ",") {
			if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == "sentry_key" {
				return strings.TrimSpace(v)
			}
		}
	}
	if k := r.URL.Query().Get("sentry_key"); k != "" {
		return k
	}
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.IndexByte(rest, '@'); at > 0 {
			key, _, _ := strings.Cut(rest[:at], ":")
			return key
		}
	}
	return ""
}

// appendLogEvent stores a Sentry error as an ordinary log event, so a
// query finds it beside the request logs of its trace. The event's strings
// are e's own (immutable, and not in a reused buffer), so they are not
// copied into the batch's arena: that would start a 64 KiB arena chunk for
// every request of one event.
func appendLogEvent(b *event.Batch, e *issues.ErrorEvent) {
	ev := b.Add()
	ev.Time = e.Time
	ev.Index = e.Project
	ev.Level = event.NormalizeLevel(e.Level)
	if ev.Level == "" {
		ev.Level = event.LevelError
	}
	ex := lastException(e)
	ev.Message = e.Message
	if ex != nil && ev.Message == "" {
		ev.Message = ex.Type + ": " + ex.Value
	}
	ev.TraceID = e.TraceID
	n := 0
	for _, v := range [...]string{e.EventID, e.Release, e.Environment, e.ServerName, e.UserID, e.Platform, e.Logger} {
		if v != "" {
			n++
		}
	}
	if ex != nil {
		n += 2
	}
	ev.Fields = slices.Grow(ev.Fields[:0], n)
	add := func(name, v string) {
		if v != "" {
			ev.Fields = append(ev.Fields, event.Field{Name: name, Value: v})
		}
	}
	add(issues.FieldSentryEventID, e.EventID)
	if ex != nil {
		add("exception.type", ex.Type)
		add("exception.value", ex.Value)
	}
	add("release", e.Release)
	add("environment", e.Environment)
	add("server_name", e.ServerName)
	add("user.id", e.UserID)
	add("platform", e.Platform)
	add("logger", e.Logger)
}

func lastException(e *issues.ErrorEvent) *issues.Exception {
	if len(e.Exceptions) == 0 {
		return nil
	}
	return &e.Exceptions[len(e.Exceptions)-1]
}

// appendLogItems turns a "log" item ({"items": [{timestamp, level, body,
// trace_id, attributes: {k: {value, type}}}]}) into log events. Strings
// are copied into the batch's arena: the parser's buffer is reused.
func appendLogItems(b *event.Batch, payload []byte, project string, now time.Time) error {
	p := parserPool.Get()
	defer parserPool.Put(p)
	v, err := p.ParseBytes(payload)
	if err != nil {
		return errors.New("decode log item: " + err.Error())
	}
	items := v.Get("items")
	if items == nil || items.Type() == fastjson.TypeNull {
		return nil
	}
	list, err := items.Array()
	if err != nil {
		return errors.New("decode log item: items is not an array")
	}
	str := func(v *fastjson.Value, key string) string {
		if f := v.Get(key); f != nil && f.Type() == fastjson.TypeString {
			return b.Str(f.GetStringBytes())
		}
		return ""
	}
	for _, it := range list {
		if it.Type() != fastjson.TypeObject {
			return errors.New("decode log item: an item is not an object")
		}
		ev := b.Add()
		ev.Time = timestampOf(it.Get("timestamp"), now)
		ev.Index = b.StrString(project)
		if lv := it.Get("level"); lv != nil && lv.Type() == fastjson.TypeString {
			ev.Level = event.NormalizeLevel(string(lv.GetStringBytes()))
		}
		ev.Message = str(it, "body")
		ev.TraceID = str(it, "trace_id")
		if a := it.Get("attributes"); a != nil && a.Type() == fastjson.TypeObject {
			attrs, _ := a.Object()
			attrs.Visit(func(k []byte, a *fastjson.Value) {
				ev.Fields = append(ev.Fields, event.Field{Name: b.Str(k), Value: b.StrString(rawText(a.Get("value")))})
			})
		}
	}
	return nil
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
