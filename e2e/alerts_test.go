package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/alerts/alertstest"
)

// alertSink is a real HTTP receiver of webhook and Slack alerts.
type alertSink struct {
	mu   sync.Mutex
	got  []sinkHit
	srv  *httptest.Server
	hang chan struct{} // non-nil: requests under /hang wait for it to close
}

type sinkHit struct {
	path string
	at   time.Time
	body map[string]any
}

func newAlertSink(t *testing.T) *alertSink {
	s := &alertSink{hang: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-s.hang:
			case <-r.Context().Done():
			}
			return
		}
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("alert body %q: %v", b, err)
		}
		s.mu.Lock()
		s.got = append(s.got, sinkHit{path: r.URL.Path, at: time.Now(), body: m})
		s.mu.Unlock()
	}))
	t.Cleanup(func() { close(s.hang); s.srv.Close() })
	return s
}

// hits returns the alerts posted to path for rule.
func (s *alertSink) hits(path, rule string) []sinkHit {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sinkHit
	for _, h := range s.got {
		if h.path == path && (h.body["rule"] == rule || strings.Contains(fmt.Sprint(h.body["text"]), "] "+rule+":")) {
			out = append(out, h)
		}
	}
	return out
}

func (s *alertSink) wait(t *testing.T, path, rule string, n int, within time.Duration) []sinkHit {
	t.Helper()
	for end := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		if h := s.hits(path, rule); len(h) >= n {
			return h
		}
		if time.Now().After(end) {
			t.Fatalf("%d alerts of rule %s at %s within %v, want %d", len(s.hits(path, rule)), rule, path, within, n)
		}
	}
}

// javaError is a logback/logstash-encoder ERROR line with a stack trace.
func javaError(fn string) string {
	return `{"@timestamp":"` + time.Now().UTC().Format(time.RFC3339Nano) + `","index":"orders","level":"ERROR","logger_name":"com.acme.orders.OrderController","message":"request failed","stack_trace":"java.lang.IllegalStateException: order not payable\n\tat com.acme.orders.OrderService.` + fn + `(OrderService.java:88)\n\tat com.acme.orders.OrderController.get(OrderController.java:31)\n"}` + "\n"
}

func sendTCP(t *testing.T, addr, lines string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, lines); err != nil {
		t.Fatal(err)
	}
	c.Close()
}

type alertHistory struct {
	Deliveries []struct {
		Rule      string `json:"rule"`
		Kind      string `json:"kind"`
		State     string `json:"state"`
		Issue     string `json:"issue"`
		Status    string `json:"status"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
	} `json:"deliveries"`
}

func TestAlertsEndToEnd(t *testing.T) {
	sink := newAlertSink(t)
	mail := alertstest.NewSMTPSink(t)
	down := freePort(t) // nothing listens there
	rules := `alerts:
  - name: new
    kind: new_issue
    project: orders
    destinations:
      - {type: webhook, url: "` + sink.srv.URL + `/hook"}
      - {type: slack, url: "` + sink.srv.URL + `/slack"}
      - {type: email, smtp: "` + mail.Addr() + `", from: "logcaster@alerts.test", to: ["oncall@alerts.test"]}
  - name: back
    kind: regression
    destinations:
      - {type: webhook, url: "` + sink.srv.URL + `/hook"}
  - name: payments
    kind: query_threshold
    query: "service:payment level:ERROR | stats count()"
    window: 4s
    op: ">"
    threshold: 2
    destinations:
      - {type: webhook, url: "` + sink.srv.URL + `/hook"}
  - name: down
    kind: new_issue
    project: orders
    destinations:
      - {type: webhook, url: "http://` + down + `/x"}
  - name: hanging
    kind: new_issue
    project: hang
    destinations:
      - {type: webhook, url: "` + sink.srv.URL + `/hang"}
`
	file := filepath.Join(t.TempDir(), "alerts.yaml")
	if err := os.WriteFile(file, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--alerts.rules", file, "--alerts.interval", "500ms", "--alerts.cooldown", "1m", "--alerts.max-attempts", "3")

	// A new issue alerts once, on all three destinations.
	sent := time.Now()
	sendTCP(t, s.tcp, javaError("pay"))
	hook := sink.wait(t, "/hook", "new", 1, 10*time.Second)
	t.Logf("new issue: event sent -> webhook alert received in %v", hook[0].at.Sub(sent))
	if d := hook[0].at.Sub(sent); d > 2*time.Second {
		t.Errorf("alert took %v, target 2 s", d)
	}
	is := hook[0].body["issue"].(map[string]any)
	if hook[0].body["kind"] != "new_issue" || is["title"] != "java.lang.IllegalStateException: order not payable" ||
		is["count"] != 1.0 || hook[0].body["link"] != "http://"+s.http+"/api/v1/issues/"+is["id"].(string) {
		t.Fatalf("webhook alert %v", hook[0].body)
	}
	sid := is["short_id"].(string)
	slack := sink.wait(t, "/slack", "new", 1, 5*time.Second)
	wantText := "[LogCaster] new: new_issue " + sid + " java.lang.IllegalStateException: order not payable (count 1)"
	if slack[0].body["text"] != wantText || len(slack[0].body["blocks"].([]any)) != 2 {
		t.Fatalf("slack alert %v, want text %q", slack[0].body, wantText)
	}
	waitUntil(t, "the alert mail", 5*time.Second, func() bool { return len(mail.Messages()) == 1 })
	m := mail.Messages()[0]
	if !strings.HasPrefix(m, "logcaster@alerts.test|oncall@alerts.test|") || !strings.Contains(m, "Subject: "+wantText+"\r\n") {
		t.Fatalf("mail %q", m)
	}

	// The same issue again within the cooldown: counted, no new alert.
	sendTCP(t, s.tcp, javaError("pay"))
	s.waitIssues("project=orders", 1, 2)
	time.Sleep(1500 * time.Millisecond)
	if n := len(sink.hits("/hook", "new")); n != 1 {
		t.Fatalf("%d new-issue alerts after the same error twice, want 1", n)
	}

	// Resolved, then seen again: a regression alert.
	req, _ := http.NewRequest(http.MethodPatch, "http://"+s.http+"/api/v1/issues/"+sid, strings.NewReader(`{"status":"resolved"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("resolve: %v %v", resp, err)
	}
	resp.Body.Close()
	sent = time.Now()
	sendTCP(t, s.tcp, javaError("pay"))
	back := sink.wait(t, "/hook", "back", 1, 10*time.Second)
	t.Logf("regression: event sent -> alert in %v", back[0].at.Sub(sent))
	if bi := back[0].body["issue"].(map[string]any); back[0].body["kind"] != "regression" || bi["short_id"] != sid || bi["count"] != 3.0 {
		t.Fatalf("regression alert %v", back[0].body)
	}

	// A threshold rule fires once when 3 > 2 payment errors are in the
	// last 4 s, and resolves once when they leave the window.
	var body bytes.Buffer
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&body, `{"level":"ERROR","message":"card declined %d","service":"payment"}`+"\n", i)
	}
	body.WriteString(`{"level":"INFO","message":"card ok","service":"payment"}` + "\n")
	if code, ans := s.ingest("shop", body.Bytes(), ""); code != 200 {
		t.Fatalf("ingest %d %v", code, ans)
	}
	fired := sink.wait(t, "/hook", "payments", 1, 10*time.Second)
	q := fired[0].body["query"].(map[string]any)
	if fired[0].body["state"] != "firing" || q["value"] != 3.0 || q["threshold"] != 2.0 {
		t.Fatalf("threshold alert %v", fired[0].body)
	}
	resolved := sink.wait(t, "/hook", "payments", 2, 15*time.Second)
	if resolved[1].body["state"] != "resolved" || resolved[1].body["query"].(map[string]any)["value"] != 0.0 {
		t.Fatalf("threshold resolve %v", resolved[1].body)
	}
	time.Sleep(1200 * time.Millisecond)
	if n := len(sink.hits("/hook", "payments")); n != 2 {
		t.Fatalf("%d threshold alerts, want fire + resolve = 2", n)
	}

	// The receiver that is down was retried with backoff, then given up.
	var h alertHistory
	waitUntil(t, "the down destination to fail after 3 attempts", 15*time.Second, func() bool {
		h = alertHistory{}
		json.Unmarshal([]byte(s.get("/api/v1/alerts/history")), &h)
		for _, d := range h.Deliveries {
			if d.Rule == "down" && d.Status == "failed" && d.Attempts == 3 && strings.Contains(d.LastError, "connection refused") {
				return true
			}
		}
		return false
	})
	var sentOK int
	for _, d := range h.Deliveries {
		if d.Status == "sent" {
			sentOK++
		}
	}
	if sentOK != 6 { // new on 3 destinations, back, payments fired and resolved
		t.Errorf("%d deliveries sent, want 6: %+v", sentOK, h.Deliveries)
	}
	metricsText := s.get("/metrics")
	if !strings.Contains(metricsText, `logcaster_alerts_sent_total{result="error"} 3`) {
		t.Errorf("metrics lack 3 failed attempts: %s", grepLines(metricsText, "alerts_sent"))
	}

	// A hanging receiver: new issues alert into it while ingest stays fast.
	var lat []time.Duration
	for i := 0; i < 30; i++ {
		line := strings.Replace(javaError(fmt.Sprintf("f%d", i)), `"index":"orders"`, `"index":"hang"`, 1)
		start := time.Now()
		code, _, err := postQuiet(s.http, "hang", []byte(line))
		lat = append(lat, time.Since(start))
		if err != nil || code != 200 {
			t.Fatalf("ingest while the receiver hangs: %d %v", code, err)
		}
	}
	s.waitIssues("project=hang", 30, 30)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("ingest latency while the alert receiver hangs: median %v, max %v over %d requests", lat[len(lat)/2], lat[len(lat)-1], len(lat))
	if lat[len(lat)-1] > 500*time.Millisecond {
		t.Errorf("an ingest request took %v while the receiver hung", lat[len(lat)-1])
	}
	waitUntil(t, "a hanging delivery in the history", 10*time.Second, func() bool {
		h = alertHistory{}
		json.Unmarshal([]byte(s.get("/api/v1/alerts/history")), &h)
		for _, d := range h.Deliveries {
			if d.Rule == "hanging" && d.Status == "retrying" && d.Attempts >= 1 {
				return true
			}
		}
		return false
	})
}

func TestAlertRulesAPI(t *testing.T) {
	sink := newAlertSink(t)
	s := startServer(t, "")
	rule := `{"name":"api-new","kind":"new_issue","project":"orders","destinations":[{"type":"webhook","url":"` + sink.srv.URL + `/hook"}]}`
	resp, err := http.Post("http://"+s.http+"/api/v1/alerts/rules", "application/json", strings.NewReader(rule))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("post rule: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, _ = http.Post("http://"+s.http+"/api/v1/alerts/rules", "application/json", strings.NewReader(`{"name":"x","kind":"query_threshold","query":"a | stats count()","window":"1m","op":"=","destinations":[{"type":"webhook","url":"http://h"}]}`))
	if resp.StatusCode != 400 {
		t.Fatalf("a rule with op = answered %d", resp.StatusCode)
	}
	resp.Body.Close()
	var got struct {
		Rules []struct{ Name, Kind string } `json:"rules"`
	}
	if err := json.Unmarshal([]byte(s.get("/api/v1/alerts/rules")), &got); err != nil || len(got.Rules) != 1 || got.Rules[0].Name != "api-new" {
		t.Fatalf("rules %+v %v", got, err)
	}
	sendTCP(t, s.tcp, javaError("ship"))
	h := sink.wait(t, "/hook", "api-new", 1, 10*time.Second)
	if h[0].body["kind"] != "new_issue" {
		t.Fatalf("alert %v", h[0].body)
	}
	waitUntil(t, "the ok metric", 5*time.Second, func() bool {
		return strings.Contains(s.get("/metrics"), `logcaster_alerts_sent_total{result="ok"} 1`)
	})

	// The rule was acknowledged, so it survives a crash and still fires.
	s.kill9()
	s.restart()
	if err := json.Unmarshal([]byte(s.get("/api/v1/alerts/rules")), &got); err != nil || len(got.Rules) != 1 || got.Rules[0].Name != "api-new" {
		t.Fatalf("rules after kill -9 and restart: %+v %v", got, err)
	}
	sendTCP(t, s.tcp, javaError("refund"))
	if h := sink.wait(t, "/hook", "api-new", 2, 10*time.Second); len(h) != 2 {
		t.Fatalf("%d alerts after the restart, want 2 in all", len(h))
	}

	// Deleted, it stays deleted across a restart.
	req, _ := http.NewRequest(http.MethodDelete, "http://"+s.http+"/api/v1/alerts/rules/api-new", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete rule: %v %v", resp, err)
	}
	resp.Body.Close()
	s.stop()
	s.restart()
	got.Rules = nil
	if err := json.Unmarshal([]byte(s.get("/api/v1/alerts/rules")), &got); err != nil || len(got.Rules) != 0 {
		t.Fatalf("rules after delete and restart: %+v %v", got, err)
	}
}

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
	}
}

func grepLines(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
