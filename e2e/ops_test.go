package e2e

// Operating LogCaster: /metrics checked by promtool, /health and /ready,
// a real Prometheus scraping and alerting, a real HAProxy taking a dead
// server out by its PING/PONG check, and a full disk.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// needTool fails (never skips) when a tool the ops tests drive is missing:
// scripts/test.sh installs it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not installed (scripts/test.sh installs it): %v", name, err)
	}
	return p
}

func httpGet(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestOpsMetricsHealthAndRequestLog(t *testing.T) {
	promtool := needTool(t, "promtool")
	s := startServer(t, "")
	var body bytes.Buffer
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&body, `{"message":"m%d","level":"info"}`+"\n", i)
	}
	if code, out := s.ingest("opsidx", body.Bytes(), ""); code != 200 || out["accepted"] != float64(25) {
		t.Fatalf("ingest: %d %v", code, out)
	}

	code, metrics := httpGet(t, "http://"+s.http+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(metrics)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	for _, want := range []string{
		`logcaster_ingested_events_total{index="opsidx",protocol="http"} 25`,
		"logcaster_live_subscribers 0", "logcaster_queue_capacity ", "logcaster_data_disk_free_bytes ",
		"# TYPE logcaster_issues gauge", "# TYPE logcaster_alerts_sent_total counter",
		"# TYPE logcaster_wal_sync_duration_seconds histogram", "go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// /health and /ready: every part with a status and a latency.
	for _, path := range []string{"/health", "/ready"} {
		start := time.Now()
		code, b := httpGet(t, "http://"+s.http+path)
		took := time.Since(start)
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, b)
		}
		if took > 100*time.Millisecond {
			t.Errorf("%s took %v", path, took)
		}
		var h struct {
			Status string `json:"status"`
			Checks map[string]struct {
				Status    string   `json:"status"`
				LatencyMS *float64 `json:"latency_ms"`
			} `json:"checks"`
		}
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatalf("%s: %v %s", path, err, b)
		}
		for _, part := range []string{"store", "disk", "wal", "queue", "listener_ingest.TCPServer"} {
			c, ok := h.Checks[part]
			if !ok || c.Status != "ok" || c.LatencyMS == nil {
				t.Errorf("%s: check %q = %+v (present %v); body %s", path, part, c, ok, b)
			}
		}
	}

	// Request log: an API route at info with the trace id of traceparent.
	req, _ := http.NewRequest("GET", "http://"+s.http+"/api/v1/query?q=*&limit=1&start=1h", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.logBuf.String(), "trace_id=4bf92f3577b34da6a3ce929d0e0e4736") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var line string
	for _, l := range strings.Split(s.logBuf.String(), "\n") {
		if strings.Contains(l, "trace_id=4bf92f3577b34da6a3ce929d0e0e4736") {
			line = l
		}
	}
	for _, want := range []string{"level=INFO", `msg="http request"`, "method=GET", "path=/api/v1/query", "status=200", "duration_ms=", "bytes="} {
		if !strings.Contains(line, want) {
			t.Errorf("request log line %q lacks %q", line, want)
		}
	}
	// Ingest requests log at debug only.
	for _, l := range strings.Split(s.logBuf.String(), "\n") {
		if strings.Contains(l, "path=/api/v1/ingest") && !strings.Contains(l, "level=DEBUG") {
			t.Errorf("ingest request logged above debug: %q", l)
		}
	}
}

// promQuery runs an instant query and returns the first sample's value, or
// -1 when the result is empty.
func promQuery(t *testing.T, prom, q string) float64 {
	t.Helper()
	code, b := httpGet(t, "http://"+prom+"/api/v1/query?query="+url.QueryEscape(q))
	if code != 200 {
		t.Fatalf("prometheus query %q: %d %s", q, code, b)
	}
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Data.Result) == 0 {
		return -1
	}
	v, _ := strconv.ParseFloat(r.Data.Result[0].Value[1].(string), 64)
	return v
}

func waitFor(t *testing.T, what string, d time.Duration, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if fn() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", d, what)
}

func TestOpsPrometheus(t *testing.T) {
	prometheus := needTool(t, "prometheus")
	s := startServer(t, "")
	rules, err := filepath.Abs("../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: logcaster
    static_configs:
      - targets: ['%s']
`, rules, s.http)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := freePort(t)
	cmd := exec.Command(prometheus, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+prom, "--log.level=warn")
	var plog syncBuffer
	cmd.Stdout, cmd.Stderr = &plog, &plog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", tail(plog.String(), 4000))
		}
	})
	waitFor(t, "prometheus ready", 30*time.Second, func() bool {
		resp, err := http.Get("http://" + prom + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// The shipped rules loaded: 6 rules in group logcaster.
	_, b := httpGet(t, "http://"+prom+"/api/v1/rules")
	if n := strings.Count(string(b), `"type":"alerting"`); n != 6 {
		t.Fatalf("prometheus loaded %d alerting rules, want 6: %s", n, b)
	}

	var body bytes.Buffer
	for i := 0; i < 37; i++ {
		fmt.Fprintf(&body, `{"message":"p%d"}`+"\n", i)
	}
	if code, out := s.ingest("promidx", body.Bytes(), ""); code != 200 {
		t.Fatalf("ingest: %d %v", code, out)
	}
	waitFor(t, "prometheus to read 37 ingested events", 30*time.Second, func() bool {
		return promQuery(t, prom, `sum(logcaster_ingested_events_total{job="logcaster",index="promidx"})`) == 37
	})

	// LogCasterEventsDropped fires when events are dropped: an event older
	// than the 30-day retention is dropped by the store (reason too_old).
	// The first one creates the series; the second makes increase() > 0.
	old := time.Now().Add(-40 * 24 * time.Hour).UTC().Format(time.RFC3339)
	sendOld := func() {
		if code, out := s.ingest("promidx", []byte(`{"message":"ancient","timestamp":"`+old+`"}`+"\n"), ""); code != 200 {
			t.Fatalf("ingest old: %d %v", code, out)
		}
	}
	sendOld()
	waitFor(t, "dropped series in prometheus", 30*time.Second, func() bool {
		return promQuery(t, prom, `logcaster_dropped_events_total{reason="too_old"}`) == 1
	})
	if v := promQuery(t, prom, `ALERTS{alertname="LogCasterEventsDropped"}`); v != -1 {
		t.Fatalf("alert active before its condition: %v", v)
	}
	sendOld()
	waitFor(t, "LogCasterEventsDropped firing", 30*time.Second, func() bool {
		return promQuery(t, prom, `ALERTS{alertname="LogCasterEventsDropped",alertstate="firing",protocol="store",reason="too_old"}`) == 1
	})
}

func TestOpsHAProxy(t *testing.T) {
	haproxy := needTool(t, "haproxy")
	a := startServer(t, "")
	b := startServer(t, "")
	dir := t.TempDir()
	front := freePort(t)
	sock := filepath.Join(dir, "stats.sock")
	// The backend's check lines are those of deploy/haproxy/haproxy.cfg;
	// only the addresses and a faster check interval differ.
	conf := fmt.Sprintf(`global
    stats socket %s level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 1m
    timeout server 1m
frontend fe
    bind %s
    default_backend be
backend be
    mode tcp
    balance leastconn
    option tcp-check
    tcp-check connect
    tcp-check send PING\n
    tcp-check expect string PONG
    default-server inter 300ms fall 2 rise 1
    server a %s check
    server b %s check
`, sock, front, a.tcp, b.tcp)
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(haproxy, "-db", "-f", cfg)
	var hlog syncBuffer
	cmd.Stdout, cmd.Stderr = &hlog, &hlog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy log:\n%s", tail(hlog.String(), 4000))
		}
	})
	status := func() map[string]string {
		c, err := net.Dial("unix", sock)
		if err != nil {
			return nil
		}
		defer c.Close()
		c.Write([]byte("show stat\n"))
		out := map[string]string{}
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			f := strings.Split(sc.Text(), ",")
			if len(f) > 17 && f[0] == "be" && (f[1] == "a" || f[1] == "b") {
				out[f[1]] = f[17] // status column
			}
		}
		return out
	}
	waitFor(t, "both servers UP in haproxy", 15*time.Second, func() bool {
		st := status()
		return st["a"] == "UP" && st["b"] == "UP"
	})

	// One line per connection, so leastconn spreads them over both.
	send := func(prefix string, n int) {
		for i := 0; i < n; i++ {
			c, err := net.Dial("tcp", front)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(c, `{"message":"%s-%d","index":"ha"}`+"\n", prefix, i)
			c.Close()
		}
	}
	count := func(s *server, q string) int { return len(s.query(q, 1000)) }
	send("before", 20)
	waitFor(t, "20 lines stored across both servers", 15*time.Second, func() bool {
		return count(a, "before")+count(b, "before") == 20
	})
	if count(a, "before") == 0 || count(b, "before") == 0 {
		t.Fatalf("haproxy did not spread: a=%d b=%d", count(a, "before"), count(b, "before"))
	}

	b.stop()
	waitFor(t, "haproxy to mark b DOWN", 15*time.Second, func() bool { return status()["b"] == "DOWN" })
	if st := status(); st["a"] != "UP" {
		t.Fatalf("a is %q", st["a"])
	}
	send("after", 30)
	a.waitRows("after", 30)
}

// statsCount returns the number of events matching q.
func statsCount(s *server, q string) int {
	rows := s.query(q+" | stats count() as n", 10)
	if len(rows) != 1 {
		s.t.Fatalf("stats count: %v", rows)
	}
	switch v := rows[0]["n"].(type) {
	case float64:
		return int(v)
	case string:
		n, err := strconv.Atoi(v)
		if err != nil {
			s.t.Fatalf("stats count: %v", rows)
		}
		return n
	}
	s.t.Fatalf("stats count: %v", rows)
	return 0
}

func TestOpsDiskFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs (the test needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	// A filler the test deletes to give space back.
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	s := startServer(t, data)

	// Random payloads: the store compresses, and repeated text would take
	// hundreds of MB to fill 40 MiB.
	raw := make([]byte, 200)
	batch := func(tag string, n int) []byte {
		var b bytes.Buffer
		for i := 0; i < n; i++ {
			rand.Read(raw)
			fmt.Fprintf(&b, `{"message":"%s %d %s"}`+"\n", tag, i, hex.EncodeToString(raw))
		}
		return b.Bytes()
	}
	accepted, full := 0, 0
	for i := 0; i < 2000 && full == 0; i++ {
		code, body, err := postQuiet(s.http, "disk", batch("fill", 500))
		if err != nil {
			t.Fatal(err)
		}
		switch code {
		case 200:
			accepted += 500
		case 503, 429:
			full = code
		default:
			t.Fatalf("ingest answered %d %s", code, body)
		}
	}
	if full == 0 {
		t.Fatalf("disk never filled after %d events", accepted)
	}
	t.Logf("disk full after %d accepted events: %d", accepted, full)

	// Queries still answer; what was acknowledged is all there.
	before := statsCount(s, "fill")
	if before < accepted {
		t.Fatalf("stored %d, acknowledged %d", before, accepted)
	}
	// Health results are refreshed every second, so allow a few.
	waitFor(t, "/ready 503 on a full disk", 5*time.Second, func() bool {
		code, _ := httpGet(t, "http://"+s.http+"/ready")
		return code == 503
	})
	waitFor(t, "/health 503 while the store cannot write", 5*time.Second, func() bool {
		code, _ := httpGet(t, "http://"+s.http+"/health")
		return code == 503
	})
	if code, _ := httpGet(t, "http://"+s.http+"/health?probe=liveness"); code != 200 {
		t.Errorf("/health?probe=liveness on a full disk: %d, want 200 (a restart cures nothing)", code)
	}
	time.Sleep(time.Second)
	if again := statsCount(s, "fill"); again != before {
		t.Fatalf("count changed on a full disk: %d then %d", before, again)
	}

	// Space returns: ingest resumes by itself.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	resumed := false
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && !resumed {
		code, _, err := postQuiet(s.http, "disk", batch("after", 100))
		if err != nil {
			t.Fatal(err)
		}
		resumed = code == 200
		if !resumed {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !resumed {
		t.Fatal("ingest did not resume within 30s of freeing space")
	}
	if got := statsCount(s, "after"); got < 100 {
		t.Fatalf("after resuming: %d events, want >= 100", got)
	}
	if got := statsCount(s, "fill"); got != before {
		t.Fatalf("fill events after resuming: %d, want %d", got, before)
	}
	waitFor(t, "/ready 200 again", 10*time.Second, func() bool {
		code, _ := httpGet(t, "http://"+s.http+"/ready")
		return code == 200
	})
}
