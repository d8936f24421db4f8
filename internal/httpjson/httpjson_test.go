package httpjson

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestWriteAndError(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, 201, map[string]int{"accepted": 3})
	if rec.Code != 201 || rec.Body.String() != "{\"accepted\":3}\n" || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Content-Length") != "15" {
		t.Fatalf("write: %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	rec = httptest.NewRecorder()
	msg := "bad \"query\"\nat column 3 ⟨ü⟩ \x01"
	Error(rec, 400, msg)
	var got struct{ Error string }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Error != msg || rec.Code != 400 {
		t.Fatalf("error: %d %q %v", rec.Code, rec.Body.String(), err)
	}
	if n := rec.Header().Get("Content-Length"); n != itoa(rec.Body.Len()) {
		t.Fatalf("Content-Length %s for %d bytes", n, rec.Body.Len())
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
