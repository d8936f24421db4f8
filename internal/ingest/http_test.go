package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func post(t *testing.T, url, encoding string, body []byte) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var ans map[string]any
	if err := json.Unmarshal(raw, &ans); err != nil {
		t.Fatalf("answer %q is not JSON: %v", raw, err)
	}
	return resp.StatusCode, resp.Header, ans
}

func startHTTP(t *testing.T, sink Sink, edit func(*HTTPOptions)) *httptest.Server {
	opts := DefaultHTTPOptions()
	if edit != nil {
		edit(&opts)
	}
	srv := httptest.NewServer(NewIngestHandler(sink, opts))
	t.Cleanup(srv.Close)
	return srv
}

const httpBody = "plain one\n{\"msg\":\"json two\",\"level\":\"warn\"}\r\n\n{\"msg\": oops\nplain three"

func gzipped(p []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(p)
	zw.Close()
	return b.Bytes()
}

func zstded(p []byte) []byte {
	enc, _ := zstd.NewWriter(nil)
	return enc.EncodeAll(p, nil)
}

func TestHTTPIngestEncodings(t *testing.T) {
	for _, c := range []struct {
		enc  string
		body []byte
	}{
		{"", []byte(httpBody)},
		{"gzip", gzipped([]byte(httpBody))},
		{"zstd", zstded([]byte(httpBody))},
	} {
		t.Run("enc="+c.enc, func(t *testing.T) {
			w := &recordWriter{}
			srv := startHTTP(t, newPipeline(t, w, 0), nil)
			code, _, ans := post(t, srv.URL+"/api/v1/ingest?index=web", c.enc, c.body)
			if code != 200 {
				t.Fatalf("status %d: %v", code, ans)
			}
			if ans["accepted"] != 3.0 {
				t.Fatalf("accepted %v, want 3", ans["accepted"])
			}
			rej := ans["rejected"].([]any)
			if len(rej) != 1 || rej[0].(map[string]any)["line"] != 4.0 ||
				!strings.HasPrefix(rej[0].(map[string]any)["error"].(string), "invalid json") {
				t.Fatalf("rejected %v, want line 4", rej)
			}
			// Durable before the answer: the writer already has them.
			if got := strings.Join(w.messages(), ","); got != "json two,plain one,plain three" {
				t.Fatalf("stored %q", got)
			}
			for _, e := range w.events {
				if e.Index != "web" {
					t.Fatalf("index %q", e.Index)
				}
			}
			if w.events[1].Level != "WARN" {
				t.Fatalf("level %q", w.events[1].Level)
			}
		})
	}
}

func TestHTTPIngestBigBodySplit(t *testing.T) {
	w := &recordWriter{}
	srv := startHTTP(t, newPipeline(t, w, 0), func(o *HTTPOptions) { o.BatchEvents = 7 })
	var b strings.Builder
	for i := 0; i < 100; i++ {
		b.WriteString("line\n")
	}
	code, _, ans := post(t, srv.URL+"/api/v1/ingest", "", []byte(b.String()))
	if code != 200 || ans["accepted"] != 100.0 || len(ans["rejected"].([]any)) != 0 {
		t.Fatalf("status %d %v", code, ans)
	}
	if w.count() != 100 || w.batches != 15 { // ceil(100/7)
		t.Fatalf("stored %d events in %d batches", w.count(), w.batches)
	}
	if w.events[0].Index != "default" {
		t.Fatalf("index %q", w.events[0].Index)
	}
}

func TestHTTPIngestTooLarge(t *testing.T) {
	w := &recordWriter{}
	srv := startHTTP(t, newPipeline(t, w, 0), func(o *HTTPOptions) { o.MaxBodyBytes = 1000 })
	big := bytes.Repeat([]byte("0123456789\n"), 100) // 1100 bytes
	for _, c := range []struct {
		enc  string
		body []byte
	}{{"", big}, {"gzip", gzipped(big)}, {"zstd", zstded(big)}} {
		code, _, ans := post(t, srv.URL+"/api/v1/ingest", c.enc, c.body)
		if code != http.StatusRequestEntityTooLarge || ans["error"] == nil {
			t.Fatalf("%q: status %d %v, want 413", c.enc, code, ans)
		}
	}
	if w.count() != 0 {
		t.Fatalf("stored %d events of refused bodies", w.count())
	}
	// Exactly at the limit is fine.
	code, _, ans := post(t, srv.URL+"/api/v1/ingest", "gzip", gzipped(big[:1000]))
	if code != 200 || ans["accepted"] != 91.0 { // 90 lines and a 10-byte unterminated one
		t.Fatalf("status %d %v", code, ans)
	}
}

func TestHTTPIngestQueueFull(t *testing.T) {
	w := &recordWriter{block: make(chan struct{})}
	p := newPipeline(t, w, 10)
	srv := startHTTP(t, p, nil)
	var unblock sync.Once
	release := func() { unblock.Do(func() { close(w.block) }) }
	t.Cleanup(release) // runs first: a failing test must not leave the server's Close waiting
	first := make(chan int, 1)
	go func() {
		code, _, _ := post(t, srv.URL+"/api/v1/ingest", "", bytes.Repeat([]byte("x\n"), 10))
		first <- code
	}()
	// Wait until the first request's batch fills the queue.
	deadline := time.Now().Add(5 * time.Second)
	for p.Len() < 10 {
		if time.Now().After(deadline) {
			t.Fatal("first request never queued")
		}
		time.Sleep(time.Millisecond)
	}
	for {
		code, hdr, ans := post(t, srv.URL+"/api/v1/ingest", "", []byte("y\n"))
		if code == http.StatusTooManyRequests {
			if hdr.Get("Retry-After") != "1" || ans["error"] == nil {
				t.Fatalf("429 without Retry-After or error: %v %v", hdr, ans)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never got 429 (last %d)", code)
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case code := <-first:
		t.Fatalf("first request answered %d before its events were durable", code)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if code := <-first; code != 200 {
		t.Fatalf("first request: %d", code)
	}
}

func TestHTTPIngestBadRequests(t *testing.T) {
	srv := startHTTP(t, newPipeline(t, &recordWriter{}, 0), nil)
	if code, _, _ := post(t, srv.URL+"/api/v1/ingest", "br", []byte("x")); code != http.StatusUnsupportedMediaType {
		t.Fatalf("br: %d", code)
	}
	if code, _, _ := post(t, srv.URL+"/api/v1/ingest", "gzip", []byte("not gzip")); code != http.StatusBadRequest {
		t.Fatalf("bad gzip: %d", code)
	}
	resp, err := http.Get(srv.URL + "/api/v1/ingest")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}
