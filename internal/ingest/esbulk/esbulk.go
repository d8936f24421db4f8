// Package esbulk lets Elasticsearch shippers (Logstash, Filebeat, Fluent
// Bit, Vector, the official clients) send to LogCaster unchanged: it answers
// the Elasticsearch bulk API and the handful of calls those shippers make
// before they send (version, license, templates, ILM policies, health).
//
// Promises:
//   - A bulk answer is given only after every accepted document is durable;
//     its items follow the request's actions one to one, in Elasticsearch's
//     own shape, so clients retry exactly the items that failed.
//   - A bad document fails alone (a per-item 400); a malformed action line
//     fails the whole request with 400 and nothing is stored.
//   - A full queue answers 429 with Retry-After before anything of the
//     request is queued, so a retried request is never stored twice by us.
//   - No input panics the handler; every refusal is counted in metrics
//     under protocol "es_bulk".
package esbulk

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/metrics"
)

// protocol is the metrics label of this adapter.
const protocol = "es_bulk"

// Options configure the Elasticsearch API.
type Options struct {
	// MaxBodyBytes limits a request body after decompression: a bigger
	// body is refused whole with 413 (a gzip bomb stops at this size).
	MaxBodyBytes int64
	// MaxLineBytes is the longest document kept whole (see ingest.ParseLine).
	MaxLineBytes int
	// DefaultIndex is the index of documents whose action and path name none.
	DefaultIndex string
	// BatchEvents is the most events one batch to the pipeline holds.
	BatchEvents int
	// Version is the Elasticsearch version LogCaster claims in GET /.
	// Shippers refuse to talk to versions they do not know, and the Go
	// client v8 wants 8.x; 8.x is what every current shipper speaks.
	Version string

	Metrics *metrics.Metrics // nil: not counted
	Logger  *slog.Logger     // nil: slog.Default()
}

// DefaultOptions returns the options logcaster serve uses by default.
func DefaultOptions() Options {
	return Options{
		MaxBodyBytes: 64 << 20,
		MaxLineBytes: ingest.DefaultMaxLineBytes,
		DefaultIndex: event.DefaultIndex,
		BatchEvents:  8192,
		Version:      "8.15.0",
	}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch {
	case o.MaxBodyBytes <= 0:
		return errors.New("es bulk options: max body bytes must be positive")
	case o.MaxLineBytes <= 0:
		return errors.New("es bulk options: max line bytes must be positive")
	case o.BatchEvents <= 0:
		return errors.New("es bulk options: batch events must be positive")
	case o.Version == "":
		return errors.New("es bulk options: version must be set")
	}
	return nil
}

// Routes are the URL patterns (net/http ServeMux syntax, without methods)
// the server mounts the handler at. The handler routes inside by itself:
// Elasticsearch's "/{index}/_bulk" conflicts in ServeMux with every
// "/_something/{name}" pattern, so every path of two or more segments that
// no other route claims ("/{target}/{rest...}") comes here, and unknown ones
// get an Elasticsearch-style 404.
//
// "/{$}" is Elasticsearch's GET / (version info, which every client asks
// first). A server that also serves a web UI at / should send requests that
// accept text/html to the UI and the rest here (see WantsUI).
var Routes = []string{"/{$}", "/_bulk", "/_license", "/_xpack", "/_nodes", "/{target}/{rest...}"}

// WantsUI reports whether a request for / comes from a browser (it accepts
// text/html) rather than an Elasticsearch client, none of which ask for HTML.
func WantsUI(r *http.Request) bool {
	for _, a := range r.Header.Values("Accept") {
		if containsFold(a, "text/html") {
			return true
		}
	}
	return false
}

// New returns the handler of the Elasticsearch API:
//
//	POST|PUT /_bulk, /{index}/_bulk     bulk (index and create actions are stored)
//	GET|HEAD /                          version info claiming opts.Version
//	GET /_license, /_xpack              a basic, active license
//	GET /_nodes, /_cluster/health       one node, green
//	GET /_cat/...                       empty tables
//	/_index_template/*, /_component_template/*, /_template/*, /_ilm/*,
//	/_data_stream/*, /_alias/*, /_ingest/*
//	                                    GET/HEAD say it exists, PUT/POST/DELETE acknowledge
//
// Every answer carries X-Elastic-Product: Elasticsearch, which the official
// clients check. It panics if opts.Validate fails (a wiring bug).
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
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	path := strings.TrimPrefix(r.URL.Path, "/")
	first, rest, _ := strings.Cut(path, "/")
	switch {
	case path == "":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.methodNotAllowed(w, r, "GET, HEAD")
			return
		}
		h.info(w, r)
	case first == "_bulk" && rest == "", rest == "_bulk" && first != "" && first[0] != '_':
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			h.methodNotAllowed(w, r, "POST, PUT")
			return
		}
		index := ""
		if first != "_bulk" {
			index = first
		}
		h.bulk(w, r, index)
	case first == "_license":
		h.license(w, r)
	case first == "_xpack":
		h.xpack(w, r)
	case first == "_nodes":
		h.nodes(w, r)
	case first == "_cluster":
		h.cluster(w, r, rest)
	case first == "_cat":
		h.cat(w, r)
	case setupAPIs[first] && rest != "":
		h.setup(w, r)
	default:
		h.notFound(w, r)
	}
}

// setupAPIs are the first path segments of the setup calls shippers make
// (templates, ILM policies, data streams, aliases, ingest pipelines).
var setupAPIs = map[string]bool{
	"_index_template": true, "_component_template": true, "_template": true,
	"_ilm": true, "_data_stream": true, "_alias": true, "_ingest": true,
}

// containsFold reports whether s contains sub (ASCII, any case).
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && lower(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
