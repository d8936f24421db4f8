package esbulk

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

// FuzzBulk posts arbitrary bodies: the handler must answer 200 with a valid
// bulk answer or 400 with an error, never panic.
func FuzzBulk(f *testing.F) {
	for _, s := range []string{
		`{"index":{"_index":"a-2026.01.02"}}` + "\n" + `{"message":"x","level":"info"}` + "\n",
		`{"create":{"_id":7}}` + "\n" + `{"@timestamp":"2026-01-02T03:04:05Z","log":{"level":"warn"}}` + "\n",
		`{"delete":{}}` + "\n" + `{"update":{}}` + "\n{}\n",
		`{"index":{}}` + "\n" + `not json` + "\n",
		"{\n}\n",
		`{"index":[]}`,
	} {
		f.Add(s)
	}
	h := New(ingesttest.NewPipeline(f, ingesttest.Discard{}), DefaultOptions())
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/fz/_bulk", strings.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		var v map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
			t.Fatalf("answer is not JSON: %q: %v", w.Body, err)
		}
	})
}

func FuzzMapIndex(f *testing.F) {
	for _, s := range []string{"myapp-2026.11.22", "logs-a-2026-01-01-000001", "x_20260101", "logs-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := MapIndex(s)
		if (s != "" && got == "") || !strings.Contains(s, got) {
			t.Fatalf("MapIndex(%q) = %q", s, got)
		}
	})
}
