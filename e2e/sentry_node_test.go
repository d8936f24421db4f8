package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// sentryNodeDir holds send.js and the pinned @sentry/node (package-lock.json;
// scripts/test.sh runs npm ci there).
const sentryNodeDir = "testdata/sentry-node"

// recordedRequest is one request an SDK sent, as it was on the wire.
type recordedRequest struct {
	Path     string
	Encoding string // Content-Encoding
	Chunked  bool
	Wire     int    // body bytes on the wire
	Body     []byte // decoded body
}

// recordingProxy stands between an SDK and the server and keeps every
// request, so a test can see what the SDK really sent (gzip, chunking)
// without trusting the server's own account of it.
type recordingProxy struct {
	t        *testing.T
	upstream string
	mu       sync.Mutex
	reqs     []recordedRequest
	srv      *httptest.Server
}

func newRecordingProxy(t *testing.T, upstream string) *recordingProxy {
	p := &recordingProxy{t: t, upstream: upstream}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// addr is the proxy's host:port.
func (p *recordingProxy) addr() string { return strings.TrimPrefix(p.srv.URL, "http://") }

func (p *recordingProxy) serve(w http.ResponseWriter, r *http.Request) {
	wire, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := recordedRequest{Path: r.URL.Path, Encoding: r.Header.Get("Content-Encoding"), Wire: len(wire), Body: wire}
	for _, te := range r.TransferEncoding {
		rec.Chunked = rec.Chunked || te == "chunked"
	}
	if rec.Encoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(wire))
		if err == nil {
			rec.Body, err = io.ReadAll(zr)
		}
		if err != nil {
			rec.Body = []byte("proxy: bad gzip: " + err.Error())
		}
	}
	p.mu.Lock()
	p.reqs = append(p.reqs, rec)
	p.mu.Unlock()

	out, err := http.NewRequest(r.Method, "http://"+p.upstream+r.URL.RequestURI(), bytes.NewReader(wire))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func (p *recordingProxy) requests() []recordedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]recordedRequest(nil), p.reqs...)
}

// createProject runs `logcaster project create` against s and returns the
// DSN it prints, which names the project by its number (n: the projects
// of a server are numbered 1, 2, ... in order of creation).
func createProject(t *testing.T, s *server, name string, n int) string {
	t.Helper()
	out, err := exec.Command(binary, "project", "create", name, "--server", "http://"+s.http).CombinedOutput()
	if err != nil {
		t.Fatalf("project create: %v %s", err, out)
	}
	dsn := strings.TrimSpace(string(out))
	if !strings.HasPrefix(dsn, "http://") || !strings.HasSuffix(dsn, "@"+s.http+"/"+strconv.Itoa(n)) {
		t.Fatalf("DSN %q, want project number %d", dsn, n)
	}
	return dsn
}

// requireSentryNode fails (never skips) when Node.js or the pinned SDK is
// missing: the proof of issue 5 needs the real SDK.
func requireSentryNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (Debian packages nodejs npm; scripts/test.sh installs them): %v", err)
	}
	if _, err := os.Stat(filepath.Join(sentryNodeDir, "node_modules", "@sentry", "node", "package.json")); err != nil {
		t.Fatalf("@sentry/node is not installed: run `npm ci` in e2e/%s (scripts/test.sh does): %v", sentryNodeDir, err)
	}
	return node
}

type nodeEventIDs struct {
	Charge1, Charge2, Stock, Message, Big string
}

// TestSentryNodeSDK runs send.js, the official @sentry/node SDK used as an
// application would, against the real server through a recording proxy,
// and checks the issues, their grouping, counts and frames, the large
// gzipped event, and that Sentry.logger records are stored as log events.
func TestSentryNodeSDK(t *testing.T) {
	node := requireSentryNode(t)
	s := startServer(t, "")
	createProject(t, s, "other", 1) // so checkout's number is not 1
	dsn := createProject(t, s, "checkout", 2)
	const trace = "5b8efff798038103d269b633813fc60c"

	// The JavaScript SDKs take only a number as the DSN's project: with
	// the project's name they would drop every event (send.js says so),
	// which is why the printed DSN has the number.
	named := exec.Command(node, "send.js", strings.Replace(dsn, "@"+s.http+"/2", "@"+s.http+"/checkout", 1), trace)
	named.Dir = sentryNodeDir
	if out, err := named.CombinedOutput(); err == nil || !strings.Contains(string(out), "refused the DSN") {
		t.Fatalf("send.js with the named DSN: %v %s", err, out)
	}
	// The printed DSN, through a proxy that records what the SDK puts on
	// the wire.
	proxy := newRecordingProxy(t, s.http)
	dsn = strings.Replace(dsn, "@"+s.http+"/2", "@"+proxy.addr()+"/2", 1)

	cmd := exec.Command(node, "send.js", dsn, trace)
	cmd.Dir = sentryNodeDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node send.js: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var ids nodeEventIDs
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &ids); err != nil || ids.Charge1 == "" || ids.Charge2 == "" || ids.Stock == "" || ids.Message == "" || ids.Big == "" {
		t.Fatalf("send.js printed no event ids (%v): %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	t.Logf("SDK requests:\n%s", describeRequests(proxy.requests()))

	// The large event went over the wire gzipped, and decoded to more than
	// the SDK's 32 KiB threshold, as a chunked upload (the SDK pipes a gzip
	// stream, so there is no Content-Length); nothing else is that big.
	var gz []recordedRequest
	for _, rq := range proxy.requests() {
		if rq.Encoding != "" {
			gz = append(gz, rq)
		}
	}
	if len(gz) != 1 || gz[0].Encoding != "gzip" || len(gz[0].Body) <= 32<<10 || gz[0].Wire >= len(gz[0].Body) ||
		!bytes.Contains(gz[0].Body, []byte(ids.Big)) || !bytes.Contains(gz[0].Body, []byte("SKU-00599")) || gz[0].Path != "/api/2/envelope/" || !gz[0].Chunked {
		t.Fatalf("want exactly the large event's envelope gzipped, got:\n%s", describeRequests(gz))
	}

	// Four issues, five events: chargeCard twice, the stock error, the
	// message and the large event once each.
	got := s.waitIssues("project=checkout&sort=count", 4, 5)
	byTitle := map[string]issueJSON{}
	for _, is := range got {
		byTitle[is.Title] = is
	}
	// The SDK sends its events concurrently, so either chargeCard event may
	// reach the server first and name the issue; the events list says which.
	charge := got[0]
	evs := issueEvents(t, s, charge.ShortID)
	orderOf := map[string]string{ids.Charge1: "1001", ids.Charge2: "1002"}
	if len(evs) != 2 || orderOf[evs[0].EventID] == "" || orderOf[evs[1].EventID] == "" || evs[0].EventID == evs[1].EventID {
		t.Fatalf("chargeCard events %+v, want ids %s and %s", evs, ids.Charge1, ids.Charge2)
	}
	if charge.Title != "Error: card declined for order "+orderOf[evs[1].EventID] || charge.Count != 2 || charge.Users != 1 ||
		charge.LatestTraceID != trace || !strings.HasPrefix(charge.ShortID, "CHECKOUT-") {
		t.Fatalf("chargeCard issue: %+v\nall: %+v", charge, got)
	}
	stock, ok := byTitle["StockError: no stock left for SKU-7"]
	if !ok || stock.Count != 1 {
		t.Fatalf("StockError issue: %+v\nall: %+v", stock, got)
	}
	msg, ok := byTitle["payment provider slow: 1234 ms"]
	if !ok || msg.Count != 1 {
		t.Fatalf("message issue: %+v\nall: %+v", msg, got)
	}
	big, ok := byTitle["RangeError: cart of 600 lines is too large to price"]
	if !ok || big.Count != 1 {
		t.Fatalf("large event issue: %+v\nall: %+v", big, got)
	}
	if !strings.Contains(charge.Culprit, "chargeCard") || !strings.Contains(stock.Culprit, "reserveStock") || !strings.Contains(big.Culprit, "priceCart") {
		t.Fatalf("culprits: %q, %q, %q", charge.Culprit, stock.Culprit, big.Culprit)
	}

	// The grouped events carry the SDK's ids and in-app frames with
	// send.js's function names, innermost last.
	for _, e := range evs {
		if e.Release != "checkout@2.3.1" || e.Environment != "e2e" || e.Level != "error" || e.TraceID != trace || e.Tags["tenant"] != "acme" || e.UserID != "u-42" {
			t.Fatalf("chargeCard event %+v", e)
		}
		if fs := inAppFunctions(e); fs != "handleRequest > checkout > chargeCard" {
			t.Fatalf("in-app frames of %s: %q, want %q", e.EventID, fs, "handleRequest > checkout > chargeCard")
		}
	}
	if evs := issueEvents(t, s, stock.ShortID); len(evs) != 1 || evs[0].EventID != ids.Stock || inAppFunctions(evs[0]) != "handleRequest > reserveStock" ||
		len(evs[0].Exceptions) != 1 || evs[0].Exceptions[0].Type != "StockError" {
		t.Fatalf("StockError events %+v", evs)
	}
	if evs := issueEvents(t, s, msg.ShortID); len(evs) != 1 || evs[0].EventID != ids.Message || evs[0].Level != "warning" || evs[0].Message != "payment provider slow: 1234 ms" {
		t.Fatalf("message events %+v", evs)
	}
	if evs := issueEvents(t, s, big.ShortID); len(evs) != 1 || evs[0].EventID != ids.Big || evs[0].Tags["cart_size"] != "600" || evs[0].Tags["tenant"] != "acme" ||
		inAppFunctions(evs[0]) != "handleRequest > priceCart" || evs[0].Exceptions[0].Value != "cart of 600 lines is too large to price" {
		t.Fatalf("large event %+v", evs)
	}

	// Extra ("Additional Data") as the SDK set it: strings as themselves,
	// other values as their JSON text; the cart's (about 46 KiB of JSON)
	// cut to 16 KiB and marked; none on events that set none.
	wantExtra := map[string]string{"sku": "SKU-7", "attempt": "3", "ratio": "0.25", "backorder": "false", "reserved": "null",
		"warehouse": `{"id":"w-1","zones":["a","b"]}`}
	if evs := issueEvents(t, s, stock.ShortID); !reflect.DeepEqual(evs[0].Extra, wantExtra) {
		t.Fatalf("StockError extra %q, want %q", evs[0].Extra, wantExtra)
	}
	var cart strings.Builder
	for i := 0; i < 600; i++ {
		cart.WriteString(",")
		fmt.Fprintf(&cart, `{"sku":"SKU-%05d","qty":%d,"note":"gift wrap, deliver to the back door"}`, i, i%7+1)
	}
	wantCart := ("[" + cart.String()[1:] + "]")[:16384-len("…")] + "…"
	if evs := issueEvents(t, s, big.ShortID); len(evs[0].Extra) != 1 || evs[0].Extra["cart"] != wantCart {
		t.Fatalf("large event extra %d keys, cart of %d bytes:\n%.200q\nwant %d bytes:\n%.200q", len(evs[0].Extra), len(evs[0].Extra["cart"]), evs[0].Extra["cart"], len(wantCart), wantCart)
	}
	for _, id := range []string{charge.ShortID, msg.ShortID} {
		if evs := issueEvents(t, s, id); evs[0].Extra != nil {
			t.Fatalf("%s: extra %q, want none", id, evs[0].Extra)
		}
	}

	// Every capture is a log event of index checkout too, and every
	// Sentry.logger call one more, with its level, body and attributes.
	rows := s.waitRows("index:checkout", 10)
	logs := map[string]map[string]any{}
	captures := 0
	for _, r := range rows {
		if _, ok := r["sentry.event_id"]; ok {
			captures++
			continue
		}
		logs[fmt.Sprint(r["message"])] = r
	}
	if captures != 5 || len(logs) != 5 {
		t.Fatalf("log rows: %d captures, logger records %v; all %v", captures, logs, rows)
	}
	wantLogs := map[string]map[string]string{
		"cart loaded from session":      {"level": "TRACE"},
		"checkout started":              {"level": "INFO", "orderId": "1001", "amount": "25.5", "vip": "true"},
		"checkout worker out of memory": {"level": "FATAL", "rssMiB": "2048"},
		"retrying payment provider":     {"level": "WARN", "attempt": "2"},
		"payment failed for order 1002": {"level": "ERROR", "provider": "acme-pay",
			"sentry.message.template": "payment failed for order %s", "sentry.message.parameter.0": "1002"},
	}
	for body, want := range wantLogs {
		r, ok := logs[body]
		if !ok {
			t.Fatalf("no log event %q; have %v", body, logs)
		}
		want["trace_id"] = trace
		want["sentry.release"] = "checkout@2.3.1"
		want["sentry.environment"] = "e2e"
		for k, v := range want {
			if fmt.Sprint(r[k]) != v {
				t.Fatalf("log %q: %s = %v, want %q; row %v", body, k, r[k], v, r)
			}
		}
	}

	// One call from the error to the logs of its request (same trace id).
	var tl struct {
		TraceID string           `json:"trace_id"`
		Logs    []map[string]any `json:"logs"`
	}
	if err := json.Unmarshal([]byte(s.get("/api/v1/issues/"+charge.ShortID+"/events/"+ids.Charge1+"/logs")), &tl); err != nil {
		t.Fatal(err)
	}
	var inTrace []string
	for _, l := range tl.Logs {
		if _, ok := l["sentry.event_id"]; !ok {
			inTrace = append(inTrace, fmt.Sprint(l["message"]))
		}
	}
	sort.Strings(inTrace)
	if tl.TraceID != trace || strings.Join(inTrace, "|") != "cart loaded from session|checkout started|checkout worker out of memory|payment failed for order 1002|retrying payment provider" {
		t.Fatalf("trace logs of %s: %s %q", ids.Charge1, tl.TraceID, inTrace)
	}
}

// eventJSON is an event of GET /api/v1/issues/{id}/events.
type eventJSON struct {
	EventID     string            `json:"event_id"`
	Level       string            `json:"level"`
	Message     string            `json:"message"`
	Release     string            `json:"release"`
	Environment string            `json:"environment"`
	TraceID     string            `json:"trace_id"`
	UserID      string            `json:"user_id"`
	Tags        map[string]string `json:"tags"`
	Extra       map[string]string `json:"extra"`
	Exceptions  []struct {
		Type   string `json:"type"`
		Value  string `json:"value"`
		Frames []struct {
			Function string `json:"function"`
			InApp    bool   `json:"in_app"`
		} `json:"frames"`
	} `json:"exceptions"`
}

func issueEvents(t *testing.T, s *server, id string) []eventJSON {
	t.Helper()
	var ans struct {
		Events []eventJSON `json:"events"`
	}
	if err := json.Unmarshal([]byte(s.get("/api/v1/issues/"+id+"/events")), &ans); err != nil {
		t.Fatal(err)
	}
	return ans.Events
}

// inAppFunctions lists the in-app frames of the raised exception, outermost
// first, as "a > b".
func inAppFunctions(e eventJSON) string {
	if len(e.Exceptions) == 0 {
		return ""
	}
	var fs []string
	for _, f := range e.Exceptions[len(e.Exceptions)-1].Frames {
		if f.InApp {
			fs = append(fs, f.Function)
		}
	}
	return strings.Join(fs, " > ")
}

func describeRequests(rs []recordedRequest) string {
	var b strings.Builder
	for _, r := range rs {
		var types []string
		body := r.Body
		for len(body) > 0 {
			var line []byte
			line, body, _ = bytes.Cut(body, []byte("\n"))
			var h struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(line, &h) == nil && h.Type != "" {
				types = append(types, h.Type)
			}
		}
		fmt.Fprintf(&b, "  %s encoding=%q chunked=%v wire=%d decoded=%d items=%v\n", r.Path, r.Encoding, r.Chunked, r.Wire, len(r.Body), types)
	}
	return b.String()
}
