package ui

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestServe(t *testing.T) {
	h := Handler()
	for _, tc := range []struct{ path, file, ctype string }{
		{"/", "index.html", "text/html; charset=utf-8"},
		{"/static/index.html", "index.html", "text/html; charset=utf-8"},
		{"/static/app.js", "app.js", "text/javascript; charset=utf-8"},
		{"/static/search.js", "search.js", "text/javascript; charset=utf-8"},
		{"/static/style.css", "style.css", "text/css; charset=utf-8"},
	} {
		want, err := os.ReadFile(filepath.Join("static", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		// Plain.
		resp := get(t, h, "GET", tc.path, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || !bytes.Equal(body, want) {
			t.Fatalf("%s: status %d, type %q, %d bytes (want %d)", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), len(want))
		}
		if resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("Content-Encoding") != "" {
			t.Fatalf("%s: headers %v", tc.path, resp.Header)
		}
		etag := resp.Header.Get("ETag")
		if !strings.HasPrefix(etag, `"`) || len(etag) < 4 {
			t.Fatalf("%s: etag %q", tc.path, etag)
		}
		// Gzip, decompressed, is the same file.
		resp = get(t, h, "GET", tc.path, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("ETag") != etag {
			t.Fatalf("%s: gzip headers %v", tc.path, resp.Header)
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		unz, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(unz, want) {
			t.Fatalf("%s: gunzip %v, %d bytes", tc.path, err, len(unz))
		}
		// Revalidation.
		resp = get(t, h, "GET", tc.path, map[string]string{"If-None-Match": `"x", ` + etag})
		if resp.StatusCode != http.StatusNotModified {
			t.Fatalf("%s: If-None-Match: %d", tc.path, resp.StatusCode)
		}
		// HEAD has the headers and no body.
		resp = get(t, h, "HEAD", tc.path, nil)
		body, _ = io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Length") == "" {
			t.Fatalf("%s: HEAD %d, %d bytes", tc.path, resp.StatusCode, len(body))
		}
	}
	if resp := get(t, h, "GET", "/static/nope.js", nil); resp.StatusCode != 404 {
		t.Fatalf("missing file: %d", resp.StatusCode)
	}
	if resp := get(t, h, "GET", "/static/app.js", map[string]string{"Accept-Encoding": "gzip;q=0"}); resp.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip;q=0 was served gzip")
	}
	if resp := get(t, h, "POST", "/", nil); resp.StatusCode != 405 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
}

// TestBudget holds the page to issue 8's budget: its assets under 500 KB
// compressed in all, and every file on disk embedded.
func TestBudget(t *testing.T) {
	const budget = 500 << 10
	entries, err := os.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	sizes := Sizes()
	if len(sizes) != len(entries) {
		t.Fatalf("%d assets embedded, %d files in static/", len(sizes), len(entries))
	}
	total, plain := 0, 0
	for _, s := range sizes {
		total += s.Compressed
		plain += s.Bytes
	}
	t.Logf("%d assets: %d bytes, %d gzip", len(sizes), plain, total)
	if total > budget {
		t.Fatalf("assets take %d bytes compressed, over the %d budget", total, budget)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "deflate, gzip": true, "GZIP;q=0.5": true, "gzip;q=0": false,
		"br": false, "*": true, "gzip; q=0.000": false, "x-gzip": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("%q: %v", h, got)
		}
	}
}

// FuzzHeaders feeds Accept-Encoding and If-None-Match values to the
// handler: whatever they hold, it answers 200 or 304, and a gzip answer
// decompresses to the file.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{"gzip", "gzip;q=0", " GZIP ; q=0.5 ,br", "*", "", ",,;;", "gzip;q=", `"abc"`, `W/"x", *`} {
		f.Add(s, s)
	}
	want, err := os.ReadFile(filepath.Join("static", "app.js"))
	if err != nil {
		f.Fatal(err)
	}
	h := Handler()
	f.Fuzz(func(t *testing.T, accept, match string) {
		resp := get(t, h, "GET", "/static/app.js", map[string]string{"Accept-Encoding": accept, "If-None-Match": match})
		switch resp.StatusCode {
		case http.StatusNotModified:
			return
		case http.StatusOK:
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = zr
		}
		got, err := io.ReadAll(body)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("body differs (%v)", err)
		}
	})
}
