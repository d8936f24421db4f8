package query

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/logcaster/logcaster/internal/httpjson"
	"github.com/logcaster/logcaster/internal/jsonenc"
	"github.com/logcaster/logcaster/internal/store"
)

// Routes of the field endpoints the web UI's sidebar and autocomplete use.
const (
	RouteFieldNames  = "GET /api/v1/field_names"
	RouteFieldValues = "GET /api/v1/field_values"
)

const (
	// defaultFieldSample is how many of the newest matching events
	// field_names looks at: enough to see every field a screen of results
	// shows, few enough to answer in milliseconds on any query.
	defaultFieldSample = 2000
	// maxFieldSample bounds ?sample= so one request cannot hold 100k rows.
	maxFieldSample = 20000
	// defaultValuesLimit and maxValuesLimit bound field_values' ?limit=:
	// a sidebar shows ten, autocomplete a few dozen.
	defaultValuesLimit = 10
	maxValuesLimit     = 1000
	// maxValuesFields bounds field_names' ?values= list: a sidebar opens
	// a handful of fields.
	maxValuesFields = 20
)

// NewFieldNamesHandler serves GET
// /api/v1/field_names?q=&start=&end=&sample=&values=&values_limit=: the
// fields of the newest matching events (at most sample of them, default
// 2000) as a JSON array [{"name":"service","hits":N}], most frequent
// first, then by name; hits counts events of the sample that have the
// field. The header X-Sample-Events says how many events were looked at.
// values=level,service names fields (at most 20) whose entries also get
// "values":[{"value":"api","hits":N}], their values_limit (default 10)
// most frequent values in the same sample, as field_values?sample= gives
// them: the web UI's sidebar gets its names and open fields in one scan
// instead of one request a field. q must be filters only. Errors are
// {"error":"..."} as for the query endpoint.
func NewFieldNamesHandler(sc store.Scanner, opts HandlerOptions) http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &fieldNamesHandler{sc: sc, opts: opts}
}

// NewFieldValuesHandler serves GET
// /api/v1/field_values?field=&q=&start=&end=&limit=&sample=: the most
// frequent non-empty values of field among every matching event, as
// [{"value":"api","hits":N}], most frequent first, ties by value. Without
// sample it runs `q | top limit (field)`, so the counts are exact. With
// sample=N it counts only the newest N matching events (the header
// X-Sample-Events says how many were looked at): the web UI's sidebar asks
// this on every search, and on a million matching events of a word query
// the exact count costs a full scan (~300 ms each, measured) where the
// newest 5000 cost a few milliseconds.
func NewFieldValuesHandler(sc store.Scanner, opts HandlerOptions) http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &fieldValuesHandler{sc: sc, opts: opts}
}

type fieldNamesHandler struct {
	sc   store.Scanner
	opts HandlerOptions
}

type fieldValuesHandler struct {
	sc   store.Scanner
	opts HandlerOptions
}

// fieldRequest is what both endpoints read from the URL.
type fieldRequest struct {
	q  *Query
	ro RunOptions
}

// parseFieldRequest reads q, start and end; on error it has answered.
func parseFieldRequest(w http.ResponseWriter, params url.Values, opts HandlerOptions) (fieldRequest, bool) {
	now := opts.Now()
	src := params.Get("q")
	if src == "" {
		src = "*"
	}
	q, err := Parse(src)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad query: "+err.Error())
		return fieldRequest{}, false
	}
	if len(q.pipes) > 0 {
		httpjson.Error(w, http.StatusBadRequest, "bad query: fields take filters only, without pipes (found "+strconv.Quote(q.pipes[0].String())+")")
		return fieldRequest{}, false
	}
	ro := RunOptions{Now: now, MaxMemory: opts.MaxMemoryBytes}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"start", &ro.Start}, {"end", &ro.End}} {
		if v := params.Get(p.name); v != "" {
			t, err := ParseTime(v, now)
			if err != nil {
				httpjson.Error(w, http.StatusBadRequest, p.name+": "+err.Error())
				return fieldRequest{}, false
			}
			*p.dst = t.UnixNano()
		}
	}
	return fieldRequest{q: q, ro: ro}, true
}

// positiveParam reads an optional positive integer, capped at max.
func positiveParam(w http.ResponseWriter, params url.Values, name string, def, max int) (int, bool) {
	v := params.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		httpjson.Error(w, http.StatusBadRequest, name+": want a positive number, got "+strconv.Quote(v))
		return 0, false
	}
	return min(n, max), true
}

// runFields runs q under the handler's timeout and answers its error the
// way the query endpoint does; it reports whether the run succeeded.
func runFields(w http.ResponseWriter, r *http.Request, opts HandlerOptions, sc store.Scanner, q *Query, ro RunOptions, emit func(*Row) error) bool {
	ctx := r.Context()
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	err := q.Run(ctx, sc, ro, emit)
	if err == nil {
		return true
	}
	msg, status := err.Error(), http.StatusInternalServerError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		msg, status = "query timed out after "+opts.Timeout.String(), http.StatusGatewayTimeout
	case errors.Is(err, ErrMemoryLimit):
		status = http.StatusUnprocessableEntity
	case errors.Is(err, context.Canceled):
		return false
	}
	httpjson.Error(w, status, msg)
	return false
}

func (h *fieldNamesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	req, ok := parseFieldRequest(w, params, h.opts)
	if !ok {
		return
	}
	sample, ok := positiveParam(w, params, "sample", defaultFieldSample, maxFieldSample)
	if !ok {
		return
	}
	valuesLimit, ok := positiveParam(w, params, "values_limit", defaultValuesLimit, maxValuesLimit)
	if !ok {
		return
	}
	// values[name] counts the values of a field named in ?values=.
	values := map[string]map[string]int{}
	if v := params.Get("values"); v != "" {
		names := strings.Split(v, ",")
		if len(names) > maxValuesFields {
			httpjson.Error(w, http.StatusBadRequest, "values: at most "+strconv.Itoa(maxValuesFields)+" fields, got "+strconv.Itoa(len(names)))
			return
		}
		for _, n := range names {
			if n = fieldName(strings.TrimSpace(n)); n != "" {
				values[n] = map[string]int{}
			}
		}
	}
	req.ro.Limit = sample
	hits := map[string]int{}
	events := 0
	if !runFields(w, r, h.opts, h.sc, req.q, req.ro, func(row *Row) error {
		events++
		for _, f := range row.Fields {
			if f.Value != "" {
				hits[f.Name]++
				if m := values[f.Name]; m != nil {
					m[f.Value]++
				}
			}
		}
		return nil
	}) {
		return
	}
	list := byHits(hits)
	buf := []byte{'['}
	for i, nh := range list {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"name":`...)
		buf = jsonenc.AppendString(buf, nh.key)
		buf = append(buf, `,"hits":`...)
		buf = strconv.AppendInt(buf, int64(nh.hits), 10)
		if m := values[nh.key]; m != nil {
			buf = append(buf, `,"values":`...)
			buf = appendValueHits(buf, m, valuesLimit)
		}
		buf = append(buf, '}')
	}
	buf = append(buf, ']', '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Sample-Events", strconv.Itoa(events))
	w.Write(buf)
}

func (h *fieldValuesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	field := params.Get("field")
	if field == "" {
		httpjson.Error(w, http.StatusBadRequest, "field: missing; give ?field=NAME")
		return
	}
	field = fieldName(field)
	if field == timeField || field == "timestamp" {
		httpjson.Error(w, http.StatusBadRequest, "field: "+strconv.Quote(field)+" has no top values; use a histogram (stats count() by (_time:STEP))")
		return
	}
	req, ok := parseFieldRequest(w, params, h.opts)
	if !ok {
		return
	}
	limit, ok := positiveParam(w, params, "limit", defaultValuesLimit, maxValuesLimit)
	if !ok {
		return
	}
	if params.Has("sample") {
		sample, ok := positiveParam(w, params, "sample", defaultFieldSample, maxFieldSample)
		if !ok {
			return
		}
		h.serveSampled(w, r, req, field, limit, sample)
		return
	}
	// One more than asked: the events that lack the field form a group
	// with an empty value, which is not a value to filter on.
	q := &Query{src: req.q.src, filter: req.q.filter, pipes: []pipe{newPipeTop(limit+1, field)}}
	buf := []byte{'['}
	n := 0
	if !runFields(w, r, h.opts, h.sc, q, req.ro, func(row *Row) error {
		v, _ := row.Get(field)
		if v == "" || n == limit {
			return nil
		}
		hits, _ := row.Get(hitsField)
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		buf = append(buf, `{"value":`...)
		buf = jsonenc.AppendString(buf, v)
		buf = append(buf, `,"hits":`...)
		if hits == "" {
			hits = "0"
		}
		buf = append(buf, hits...)
		buf = append(buf, '}')
		return nil
	}) {
		return
	}
	buf = append(buf, ']', '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Write(buf)
}

// serveSampled answers field_values from the newest sample matching events.
func (h *fieldValuesHandler) serveSampled(w http.ResponseWriter, r *http.Request, req fieldRequest, field string, limit, sample int) {
	req.ro.Limit = sample
	hits := map[string]int{}
	events := 0
	if !runFields(w, r, h.opts, h.sc, req.q, req.ro, func(row *Row) error {
		events++
		if v, _ := row.Get(field); v != "" {
			hits[v]++
		}
		return nil
	}) {
		return
	}
	buf := appendValueHits(nil, hits, limit)
	buf = append(buf, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Sample-Events", strconv.Itoa(events))
	w.Write(buf)
}

// appendValueHits appends counts as a JSON array [{"value":V,"hits":N}]
// of its limit most frequent values, ties by value.
func appendValueHits(dst []byte, counts map[string]int, limit int) []byte {
	list := byHits(counts)
	if len(list) > limit {
		list = list[:limit]
	}
	dst = append(dst, '[')
	for i, vh := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"value":`...)
		dst = jsonenc.AppendString(dst, vh.key)
		dst = append(dst, `,"hits":`...)
		dst = strconv.AppendInt(dst, int64(vh.hits), 10)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// keyHits is a name or value with how many sampled events had it.
type keyHits struct {
	key  string
	hits int
}

// byHits lists counts most frequent first, ties by key.
func byHits(counts map[string]int) []keyHits {
	list := make([]keyHits, 0, len(counts))
	for k, c := range counts {
		list = append(list, keyHits{k, c})
	}
	slices.SortFunc(list, func(a, b keyHits) int {
		if a.hits != b.hits {
			return b.hits - a.hits
		}
		return strings.Compare(a.key, b.key)
	})
	return list
}
