// Package httpjson writes the JSON answers of LogCaster's HTTP API, one way
// for every endpoint: a value with its status code, and an error as
// {"error":"..."}. Each answer is one JSON document and a newline, with its
// Content-Type and Content-Length.
package httpjson

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/logcaster/logcaster/internal/jsonenc"
)

// Write answers code with v as JSON. v must marshal (answers are built from
// the server's own types); one that does not is a bug.
func Write(w http.ResponseWriter, code int, v any) {
	out, err := json.Marshal(v)
	if err != nil {
		panic("BUG: marshal answer: " + err.Error())
	}
	writeBody(w, code, append(out, '\n'))
}

// Error answers code with {"error": msg}.
func Error(w http.ResponseWriter, code int, msg string) {
	out := []byte(`{"error":`)
	out = jsonenc.AppendString(out, msg)
	writeBody(w, code, append(out, '}', '\n'))
}

func writeBody(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}
