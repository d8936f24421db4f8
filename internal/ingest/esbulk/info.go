package esbulk

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// The answers to the calls shippers make before they send. They are what a
// single-node basic-licence Elasticsearch says, cut to the fields the
// clients read: Logstash and Filebeat read version.number and the licence
// type and status; Vector reads version.number and the cluster health;
// the Go client checks the X-Elastic-Product header and version.number.

// clusterName is the cluster and node name LogCaster gives itself.
const clusterName = "logcaster"

func (h *handler) info(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name":         clusterName,
		"cluster_name": clusterName,
		"cluster_uuid": "logcaster-0000000000000",
		"version": map[string]any{
			"number":                              h.opts.Version,
			"build_flavor":                        "default",
			"build_type":                          "logcaster",
			"build_hash":                          "logcaster",
			"build_date":                          "2024-01-01T00:00:00.000Z",
			"build_snapshot":                      false,
			"lucene_version":                      "9.11.1",
			"minimum_wire_compatibility_version":  "7.17.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	})
}

func (h *handler) license(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"license": map[string]any{
		"status":               "active",
		"uid":                  "logcaster",
		"type":                 "basic",
		"issue_date":           "2024-01-01T00:00:00.000Z",
		"issue_date_in_millis": 1704067200000,
		"max_nodes":            1000,
		"issued_to":            clusterName,
		"issuer":               "logcaster",
		"start_date_in_millis": -1,
	}})
}

func (h *handler) xpack(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"build":    map[string]any{"hash": "logcaster", "date": "2024-01-01T00:00:00.000Z"},
		"license":  map[string]any{"uid": "logcaster", "type": "basic", "mode": "basic", "status": "active"},
		"features": map[string]any{"ilm": map[string]any{"available": true, "enabled": true}},
		"tagline":  "You know, for X",
	})
}

func (h *handler) nodes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"_nodes":       map[string]int{"total": 1, "successful": 1, "failed": 0},
		"cluster_name": clusterName,
		"nodes": map[string]any{clusterName: map[string]any{
			"name":    clusterName,
			"version": h.opts.Version,
			"roles":   []string{"data", "ingest", "master"},
			"http":    map[string]any{"publish_address": r.Host},
		}},
	})
}

func (h *handler) cluster(w http.ResponseWriter, r *http.Request, rest string) {
	if !strings.HasPrefix(rest, "health") {
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true, "cluster_name": clusterName})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"cluster_name": clusterName, "status": "green", "timed_out": false,
		"number_of_nodes": 1, "number_of_data_nodes": 1,
		"active_primary_shards": 1, "active_shards": 1, "unassigned_shards": 0,
		"active_shards_percent_as_number": 100.0,
	})
}

// cat answers the _cat tables empty: LogCaster's indexes are not
// Elasticsearch indices, and the shippers that call _cat only look.
func (h *handler) cat(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("format") == "json" {
		writeJSON(w, http.StatusOK, []any{})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
}

// setup answers template, ILM policy, data stream, alias and ingest
// pipeline calls. Reads say the thing exists (so shippers do not try to
// create what LogCaster has no use for), writes are acknowledged.
func (h *handler) setup(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		writeJSON(w, http.StatusOK, map[string]any{})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	}
}

func (h *handler) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeESError(w, http.StatusMethodNotAllowed, "illegal_argument_exception",
		"method "+r.Method+" is not allowed for "+r.URL.Path+", use "+allow)
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	writeESError(w, http.StatusNotFound, "illegal_argument_exception",
		"LogCaster does not implement "+r.Method+" "+r.URL.Path+" (only the bulk API and shipper setup calls)")
}

// writeESError writes an error in Elasticsearch's shape, which clients
// parse to show the reason.
func writeESError(w http.ResponseWriter, code int, typ, reason string) {
	cause := map[string]string{"type": typ, "reason": reason}
	writeJSON(w, code, map[string]any{
		"error":  map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason},
		"status": code,
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	out, err := json.Marshal(v)
	if err != nil {
		panic("BUG: marshal answer: " + err.Error())
	}
	writeRaw(w, code, out)
}

func writeRaw(w http.ResponseWriter, code int, out []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(code)
	w.Write(out)
}
