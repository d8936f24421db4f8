// Package ui serves LogCaster's web UI: plain ES modules, HTML and CSS
// embedded into the binary, so `logcaster serve` needs no build step and no
// internet. Handler answers `/` with the page and `/static/...` with the
// assets.
//
// The files under static/, one a thing:
//
//	index.html    the shell: top nav (#/search, #/issues, #/status) and <main id="page">
//	app.js        hash router; a page is a module exporting render(root, params, ctx)
//	api.js        getJSON, sendJSON, streamNDJSON, showError/errorBox, el, qs
//	style.css     design tokens (colours, level colours, spacing) and shared styles
//	search.js     the Search page; with query.js (query text helpers),
//	              suggest.js (autocomplete, history), timerange.js (ranges, steps),
//	              histogram.js, results.js (windowed list), fields.js (sidebar),
//	              stats.js (chart and table), live.js (tail over SSE), export.js
//	issues.js, issue.js, status.js, issues.css   the Issues and Status pages
//
// The server endpoints the UI needs beyond the query API are
// /api/v1/field_names and /api/v1/field_values (package query); export
// links use the query API's format=csv.
//
// At scale (1M events in range; e2e TestUIScale times it): the Search page
// is ready when its results and histogram are drawn; the field sidebar
// loads after that, in one sampled request (field_names with ?values=),
// and a new search cancels whatever the page still fetches. The page
// records its timeline in window.lcSearchTimings (ms since navigation:
// start, results, histData, histDrawn, done, fieldsDone).
//
// Promises: every asset is read once, at start; responses carry an ETag
// (a hash of the content) and Cache-Control: no-cache, so a browser always
// revalidates and an upgraded server is never shadowed by a stale cache,
// while an unchanged asset costs a 304. Clients that accept gzip get a body
// compressed once at start, never per request.
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/gzip"
)

//go:embed static
var staticFS embed.FS

// asset is one file, ready to serve.
type asset struct {
	contentType string
	etag        string
	plain       []byte
	gz          []byte // nil when compressing did not make it smaller
}

// assets maps a URL path ("/static/app.js") to its asset; "/" is index.html.
var assets = mustLoad()

// contentTypes are set by extension here rather than by the system's
// mime.types, which differs between machines (some lack .js or .mjs, and a
// module script served as text/plain is refused by the browser).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
	".png":  "image/png",
	".ico":  "image/x-icon",
}

func mustLoad() map[string]*asset {
	m, err := load(staticFS)
	if err != nil {
		panic("BUG: embedded ui assets: " + err.Error())
	}
	return m
}

func load(fsys fs.FS) (map[string]*asset, error) {
	m := make(map[string]*asset)
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		a, err := newAsset(p, data)
		if err != nil {
			return err
		}
		m["/"+p] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if idx, ok := m["/static/index.html"]; ok {
		m["/"] = idx
	}
	return m, nil
}

func newAsset(name string, data []byte) (*asset, error) {
	ext := path.Ext(name)
	ct, ok := contentTypes[ext]
	if !ok {
		ct = mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
	}
	a := &asset{contentType: ct, plain: data}
	h := xxhash.Sum64(data)
	a.etag = `"` + strconv.FormatUint(h, 36) + `"`
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip %s: %w", name, err)
	}
	zw.Write(data)
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip %s: %w", name, err)
	}
	if buf.Len() < len(data) {
		a.gz = buf.Bytes()
	}
	return a, nil
}

// Handler serves the UI: GET / and GET /static/{file}.
func Handler() http.Handler { return handler{assets} }

type handler struct{ assets map[string]*asset }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	a, ok := h.assets[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", a.contentType)
	body := a.plain
	if a.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		hd.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding enough for browsers and curl: gzip
// listed and not refused with q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// Size is one asset's size, for the budget the issue sets (under 500 KB
// compressed in all).
type Size struct {
	Path       string
	Bytes      int
	Compressed int // gzip bytes as served; Bytes when not compressed
}

// Sizes lists every asset (index.html once, as /static/index.html) by path.
func Sizes() []Size {
	var out []Size
	for p, a := range assets {
		if p == "/" {
			continue
		}
		c := len(a.plain)
		if a.gz != nil {
			c = len(a.gz)
		}
		out = append(out, Size{Path: p, Bytes: len(a.plain), Compressed: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
