package server

import (
	"net/http"
	"testing"
)

func TestTraceID(t *testing.T) {
	for _, c := range []struct{ tp, rid, want string }{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "req-1", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"garbage", "req-1", "req-1"},
		{"", "req-2", "req-2"},
		{"", "", ""},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		if c.tp != "" {
			r.Header.Set("traceparent", c.tp)
		}
		if c.rid != "" {
			r.Header.Set("X-Request-Id", c.rid)
		}
		if got := traceID(r); got != c.want {
			t.Errorf("traceID(%q, %q) = %q, want %q", c.tp, c.rid, got, c.want)
		}
	}
}

func TestQuietRoute(t *testing.T) {
	for route, want := range map[string]bool{
		"POST /api/v1/ingest": true, "GET /health": true, "GET /ready": true, "GET /metrics": true,
		"POST /{index}/_bulk": true, "POST /api/{project}/envelope/": true, "POST /loki/api/v1/push": true,
		"GET /api/v1/query": false, "POST /api/v1/snapshot": false, "POST /api/v1/admin/force_merge": false,
	} {
		if got := quietRoute(route); got != want {
			t.Errorf("quietRoute(%q) = %v, want %v", route, got, want)
		}
	}
}
