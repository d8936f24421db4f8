package esbulk

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/jsonenc"
)

// The bulk body is NDJSON: an action line ({"index":{"_index":"x"}}), then,
// for index, create and update, a source line. Index and create store the
// source as one event, parsed like a JSON line (ingest.ParseLine: nested
// objects flattened with dots, @timestamp/message/level names mapped) plus
// the ECS names Beats use (log.level, service.name). Update and delete get a
// per-item 400: stored logs are append-only.

// Bounds of the per-state index name cache: index names repeat from action
// to action, and mapping and interning them once saves work and memory.
const (
	maxCachedIndexes = 1024
	maxIndexNameLen  = 255
)

// errMalformed marks a body that is not a bulk request at all (a bad
// action line): the whole request is refused, as Elasticsearch does.
var errMalformed = errors.New("malformed bulk request")

// bulkState is the reusable state of one bulk request.
type bulkState struct {
	p       fastjson.Parser
	items   []byte // the "items" array being built
	out     []byte
	indexes map[string]string // action index name → LogCaster index

	batches []*event.Batch
	errors  bool
	stored  int
	refused int
	seqNo   int
}

var bulkStates = sync.Pool{New: func() any { return &bulkState{indexes: map[string]string{}} }}

func getBulkState() *bulkState { return bulkStates.Get().(*bulkState) }

func putBulkState(st *bulkState) {
	if len(st.indexes) > maxCachedIndexes {
		st.indexes = map[string]string{}
	}
	clear(st.batches)
	st.batches = st.batches[:0]
	st.items, st.out = st.items[:0], st.out[:0]
	st.errors, st.stored, st.refused, st.seqNo = false, 0, 0, 0
	bulkStates.Put(st)
}

func (h *handler) bulk(w http.ResponseWriter, r *http.Request, pathIndex string) {
	start := time.Now()
	m := h.opts.Metrics
	if pathIndex != "" && !validIndexName(pathIndex) {
		writeESError(w, http.StatusBadRequest, "invalid_index_name_exception", "invalid index name in the path")
		return
	}
	buf := ingest.GetBodyBuffer()
	defer ingest.PutBodyBuffer(buf)
	if err := ingest.ReadBody(r, buf, h.opts.MaxBodyBytes); err != nil {
		switch {
		case errors.Is(err, ingest.ErrBodyTooLarge):
			m.Rejected(protocol, "body_too_large", 1)
			writeESError(w, http.StatusRequestEntityTooLarge, "content_too_long_exception",
				fmt.Sprintf("body larger than %d bytes once decompressed", h.opts.MaxBodyBytes))
		case errors.Is(err, ingest.ErrUnknownEncoding):
			m.Rejected(protocol, "bad_encoding", 1)
			writeESError(w, http.StatusUnsupportedMediaType, "illegal_argument_exception", err.Error())
		default:
			m.Rejected(protocol, "bad_body", 1)
			writeESError(w, http.StatusBadRequest, "parse_exception", "read body: "+err.Error())
		}
		return
	}
	body := buf.Bytes()
	m.Bytes(protocol, len(body))

	st := getBulkState()
	defer putBulkState(st)
	if err := h.parseBulk(st, body, pathIndex, start.UnixNano()); err != nil {
		m.Rejected(protocol, "malformed_request", 1)
		writeESError(w, http.StatusBadRequest, "illegal_argument_exception", err.Error())
		return
	}

	stored := func(b *event.Batch) { ingest.CountEvents(m, protocol, b) }
	if serr := ingest.SubmitAll(r.Context(), h.sink, st.batches, stored); serr != nil {
		w.Header().Set("Retry-After", "1")
		if serr.Status == http.StatusTooManyRequests {
			m.Rejected(protocol, "queue_full", st.stored)
			writeESError(w, serr.Status, "es_rejected_execution_exception", serr.Error())
		} else {
			h.log.Error("es bulk: not stored", "err", serr.Err)
			writeESError(w, serr.Status, "unavailable_shards_exception", serr.Error())
		}
		return
	}
	m.Rejected(protocol, "invalid_document", st.refused)

	out := append(st.out[:0], `{"took":`...)
	out = strconv.AppendInt(out, time.Since(start).Milliseconds(), 10)
	out = append(out, `,"errors":`...)
	out = strconv.AppendBool(out, st.errors)
	out = append(out, `,"items":[`...)
	out = append(out, st.items...)
	out = append(out, "]}\n"...)
	st.out = out
	writeRaw(w, http.StatusOK, out)
}

// parseBulk turns body into st.batches and st.items. It fails only for a
// malformed action line; bad documents become item errors.
func (h *handler) parseBulk(st *bulkState, body []byte, pathIndex string, now int64) error {
	lineOpts := ingest.LineOptions{MaxLineBytes: h.opts.MaxLineBytes, BadJSON: ingest.BadJSONReject, Now: now}
	batch := &event.Batch{}
	lineNo := 0
	next := func() ([]byte, bool) {
		for len(body) > 0 {
			line := body
			if i := bytes.IndexByte(body, '\n'); i >= 0 {
				line, body = body[:i], body[i+1:]
			} else {
				body = nil
			}
			lineNo++
			if len(bytes.TrimSpace(line)) > 0 {
				return line, true
			}
		}
		return nil, false
	}
	for {
		line, ok := next()
		if !ok {
			break
		}
		act, err := st.parseAction(line, lineNo)
		if err != nil {
			return err
		}
		rawIndex := act.index
		if rawIndex == "" {
			rawIndex = pathIndex
		}
		switch act.name {
		case "index", "create":
		case "update":
			if _, ok := next(); !ok {
				return fmt.Errorf("%w: update action on line %d has no body line", errMalformed, lineNo)
			}
			st.itemError(act, rawIndex, "action_request_validation_exception", "update is not supported: LogCaster stores logs append-only")
			continue
		case "delete":
			st.itemError(act, rawIndex, "action_request_validation_exception", "delete is not supported: LogCaster stores logs append-only")
			continue
		}
		src, ok := next()
		if !ok {
			return fmt.Errorf("%w: %s action on line %d has no document line", errMalformed, act.name, lineNo)
		}
		if rawIndex != "" && !validIndexName(rawIndex) {
			st.itemError(act, rawIndex, "invalid_index_name_exception", "invalid index name")
			continue
		}
		lineOpts.DefaultIndex = st.mapIndex(rawIndex, h.opts.DefaultIndex)
		if rawIndex == "" {
			rawIndex = lineOpts.DefaultIndex
		}
		if c := firstNonBlank(src); c != '{' {
			st.itemError(act, rawIndex, "document_parsing_exception", "failed to parse: the document is not a JSON object")
			continue
		}
		n := batch.Len()
		batch.Bytes += len(src)
		if err := ingest.ParseLine(batch, src, lineOpts); err != nil {
			st.itemError(act, rawIndex, "document_parsing_exception", "failed to parse: "+err.Error())
			continue
		}
		if batch.Len() > n {
			mapECS(&batch.Events[batch.Len()-1])
		}
		st.itemCreated(act, rawIndex)
		if batch.Len() >= h.opts.BatchEvents {
			st.batches = append(st.batches, batch)
			batch = &event.Batch{}
		}
	}
	if batch.Len() > 0 {
		st.batches = append(st.batches, batch)
	}
	return nil
}

// action is a parsed action line; its strings are valid until the next
// parse with the same parser.
type action struct {
	name  string
	index string
	id    []byte
}

func (st *bulkState) parseAction(line []byte, lineNo int) (action, error) {
	v, err := st.p.ParseBytes(line)
	if err != nil {
		return action{}, fmt.Errorf("%w: action line %d is not JSON: %v", errMalformed, lineNo, err)
	}
	o, err := v.Object()
	if err != nil || o.Len() != 1 {
		return action{}, fmt.Errorf("%w: action line %d must be an object with one key, the action", errMalformed, lineNo)
	}
	var act action
	var meta *fastjson.Value
	o.Visit(func(k []byte, v *fastjson.Value) {
		meta = v
		switch string(k) { // no allocation: the compiler compares in place
		case "index":
			act.name = "index"
		case "create":
			act.name = "create"
		case "update":
			act.name = "update"
		case "delete":
			act.name = "delete"
		}
	})
	if act.name == "" {
		return action{}, fmt.Errorf("%w: line %d: expected one of [create, delete, index, update]", errMalformed, lineNo)
	}
	if meta.Type() != fastjson.TypeObject {
		return action{}, fmt.Errorf("%w: line %d: the %s action's metadata must be an object", errMalformed, lineNo, act.name)
	}
	if iv := meta.Get("_index"); iv != nil {
		b, err := iv.StringBytes()
		if err != nil {
			return action{}, fmt.Errorf("%w: line %d: _index must be a string", errMalformed, lineNo)
		}
		act.index = bytesView(b)
	}
	if idv := meta.Get("_id"); idv != nil {
		if b, err := idv.StringBytes(); err == nil {
			act.id = b
		} else {
			act.id = idv.MarshalTo(nil)
		}
	}
	return act, nil
}

// mapIndex returns MapIndex(raw) (or def for ""), cached and interned.
func (st *bulkState) mapIndex(raw, def string) string {
	if raw == "" {
		return def
	}
	if s, ok := st.indexes[raw]; ok {
		return s
	}
	// Copies: raw points into the parser's buffer, and MapIndex returns a
	// part of raw.
	s := string([]byte(MapIndex(raw)))
	st.indexes[string([]byte(raw))] = s
	return s
}

func (st *bulkState) itemStart(act action, index string) []byte {
	out := st.items
	if len(out) > 0 {
		out = append(out, ',')
	}
	out = append(out, `{"`...)
	out = append(out, act.name...)
	out = append(out, `":{"_index":`...)
	out = jsonenc.AppendString(out, index)
	out = append(out, `,"_id":`...)
	if act.id != nil {
		out = jsonenc.AppendString(out, bytesView(act.id))
	} else {
		out = append(out, '"')
		out = appendAutoID(out)
		out = append(out, '"')
	}
	return out
}

func (st *bulkState) itemCreated(act action, index string) {
	out := st.itemStart(act, index)
	out = append(out, `,"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":`...)
	out = strconv.AppendInt(out, int64(st.seqNo), 10)
	out = append(out, `,"_primary_term":1,"status":201}}`...)
	st.items = out
	st.seqNo++
	st.stored++
}

func (st *bulkState) itemError(act action, index, typ, reason string) {
	out := st.itemStart(act, index)
	out = append(out, `,"status":400,"error":{"type":`...)
	out = jsonenc.AppendString(out, typ)
	out = append(out, `,"reason":`...)
	out = jsonenc.AppendString(out, reason)
	out = append(out, `}}}`...)
	st.items = out
	st.errors = true
	st.refused++
}

// Auto ids are 20 characters of URL-safe base64, as Elasticsearch's are:
// 7 random bytes chosen once per process and an 8-byte counter, so ids are
// unique without a random read per document.
var (
	idPrefix  [7]byte
	idCounter atomic.Uint64
)

func init() { rand.Read(idPrefix[:]) }

func appendAutoID(dst []byte) []byte {
	var raw [15]byte
	copy(raw[:], idPrefix[:])
	binary.BigEndian.PutUint64(raw[7:], idCounter.Add(1))
	var enc [20]byte
	base64.RawURLEncoding.Encode(enc[:], raw[:])
	return append(dst, enc[:]...)
}

// mapECS maps the Elastic Common Schema names Beats and Logstash's ECS mode
// send to LogCaster's built-in ones: log.level fills the level and
// service.name becomes service (the stream key), unless the event has them.
func mapECS(e *event.Event) {
	hasService := false
	for i := range e.Fields {
		if e.Fields[i].Name == "service" {
			hasService = true
		}
	}
	fs := e.Fields
	for i := 0; i < len(fs); i++ {
		switch fs[i].Name {
		case "log.level":
			if e.Level == "" {
				if lv := event.NormalizeLevel(fs[i].Value); lv != "" {
					e.Level = lv
					fs = append(fs[:i], fs[i+1:]...)
					i--
				}
			}
		case "service.name":
			if !hasService {
				fs[i].Name, hasService = "service", true
			}
		}
	}
	e.Fields = fs
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

func firstNonBlank(line []byte) byte {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return c
		}
	}
	return 0
}
