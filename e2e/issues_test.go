package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
)

type issueJSON struct {
	ID            string  `json:"id"`
	ShortID       string  `json:"short_id"`
	Project       string  `json:"project"`
	Title         string  `json:"title"`
	Culprit       string  `json:"culprit"`
	Status        string  `json:"status"`
	Regressed     bool    `json:"regressed"`
	Count         int64   `json:"count"`
	Users         int     `json:"user_count"`
	LatestEventID string  `json:"latest_event_id"`
	LatestTraceID string  `json:"latest_trace_id"`
	Hourly        []int64 `json:"hourly"`
}

func (s *server) issues(query string) []issueJSON {
	s.t.Helper()
	var ans struct {
		Issues []issueJSON `json:"issues"`
	}
	if err := json.Unmarshal([]byte(s.get("/api/v1/issues?"+query)), &ans); err != nil {
		s.t.Fatal(err)
	}
	return ans.Issues
}

// waitIssues polls until the query lists want issues whose counts sum to
// wantEvents.
func (s *server) waitIssues(query string, want int, wantEvents int64) []issueJSON {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := s.issues(query)
		var n int64
		for _, is := range got {
			n += is.Count
		}
		if len(got) == want && n == wantEvents {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("issues %q: got %d issues / %d events, want %d / %d: %+v", query, len(got), n, want, wantEvents, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var errDeclined = errors.New("card declined")

func chargeOrder(id int) error { return fmt.Errorf("charge order %d: %w", id, errDeclined) }
func refundOrder(id int) error {
	return fmt.Errorf("refund order %d: %w", id, errors.New("already refunded"))
}
func captureCharge(h *sentry.Hub, id int) *sentry.EventID { return h.CaptureException(chargeOrder(id)) }
func captureRefund(h *sentry.Hub, id int) *sentry.EventID { return h.CaptureException(refundOrder(id)) }

// TestSentryGoSDK sends errors with the real sentry-go SDK to the DSN that
// `logcaster project create` prints, and checks the grouping, the counts,
// the frames and that the state survives kill -9.
func TestSentryGoSDK(t *testing.T) {
	s := startServer(t, "")
	out, err := exec.Command(binary, "project", "create", "shop", "--server", "http://"+s.http).CombinedOutput()
	if err != nil {
		t.Fatalf("project create: %v %s", err, out)
	}
	dsn := strings.TrimSpace(string(out))
	if !strings.HasPrefix(dsn, "http://") || !strings.HasSuffix(dsn, "@"+s.http+"/1") {
		t.Fatalf("DSN %q", dsn)
	}
	client, err := sentry.NewClient(sentry.ClientOptions{Dsn: dsn, Transport: sentry.NewHTTPSyncTransport(), Release: "shop@1.0", Environment: "test", ServerName: "web-1"})
	if err != nil {
		t.Fatal(err)
	}
	hub := sentry.NewHub(client, sentry.NewScope())
	hub.Scope().SetUser(sentry.User{ID: "u-1"})
	id1 := captureCharge(hub, 1)
	hub.Scope().SetUser(sentry.User{ID: "u-2"})
	id2 := captureCharge(hub, 2) // same place, other order id: same issue
	captureRefund(hub, 3)        // another function: another issue
	hub.CaptureMessage("cache miss for key 42")
	if id1 == nil || id2 == nil {
		t.Fatal("sdk gave no event id")
	}
	got := s.waitIssues("project=shop&sort=count", 3, 4)
	charge := got[0]
	if charge.Count != 2 || charge.Users != 2 || !strings.Contains(charge.Title, "charge order 1: card declined") || !strings.HasPrefix(charge.ShortID, "SHOP-") {
		t.Fatalf("charge issue %+v", charge)
	}
	if !strings.Contains(charge.Culprit, "chargeOrder") && !strings.Contains(charge.Culprit, "captureCharge") {
		t.Fatalf("culprit %q", charge.Culprit)
	}
	// The events of the issue carry the SDK's event ids and the frames.
	var evs struct {
		Events []struct {
			EventID    string `json:"event_id"`
			Release    string `json:"release"`
			Exceptions []struct {
				Type   string `json:"type"`
				Frames []struct {
					Function string `json:"function"`
					InApp    bool   `json:"in_app"`
				} `json:"frames"`
			} `json:"exceptions"`
		} `json:"events"`
	}
	json.Unmarshal([]byte(s.get("/api/v1/issues/"+charge.ShortID+"/events")), &evs)
	if len(evs.Events) != 2 || evs.Events[0].EventID != string(*id2) || evs.Events[1].EventID != string(*id1) || evs.Events[0].Release != "shop@1.0" {
		t.Fatalf("events %+v", evs)
	}
	found := false
	for _, ex := range evs.Events[0].Exceptions {
		for _, f := range ex.Frames {
			if f.Function == "captureCharge" && f.InApp {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("no in-app captureCharge frame: %+v", evs.Events[0].Exceptions)
	}
	// The error is a log event too.
	if rows := s.waitRows(`index:shop level:ERROR`, 3); len(rows) != 3 {
		t.Fatalf("log rows %v", rows)
	}
	// A wrong key is refused.
	resp, err := http.Post("http://"+s.http+"/api/shop/store/?sentry_key=nope", "application/json", strings.NewReader(`{"message":"x"}`))
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("wrong key: %v %v", err, resp)
	}
	resp.Body.Close()
	// Resolve, crash, restart: state and key survive; a recurrence regresses.
	req, _ := http.NewRequest("PATCH", "http://"+s.http+"/api/v1/issues/"+charge.ShortID, strings.NewReader(`{"status":"resolved"}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("patch: %v %v", err, resp)
	}
	s.kill9()
	s.restart()
	if got := s.issues("status=resolved"); len(got) != 1 || got[0].ShortID != charge.ShortID || got[0].Count != 2 {
		t.Fatalf("after kill -9: %+v", got)
	}
	captureCharge(hub, 4)
	got = s.waitIssues("project=shop&q=is:regressed", 1, 3)
	if got[0].Status != "unresolved" || !got[0].Regressed {
		t.Fatalf("regression %+v", got[0])
	}
	out, err = exec.Command(binary, "issues", "--server", "http://"+s.http, "--status", "").CombinedOutput()
	if err != nil || !strings.Contains(string(out), charge.ShortID) || !strings.Contains(string(out), "3 of 3 issues") {
		t.Fatalf("logcaster issues: %v\n%s", err, out)
	}
}

// TestIssueToTraceLogs sends a logback-style JSON ERROR line with a
// stack_trace and a trace_id, and request logs with the same trace id,
// over the TCP lines port; one call from the issue's event returns them.
func TestIssueToTraceLogs(t *testing.T) {
	s := startServer(t, "")
	trace := "4bf92f3577b34da6a3ce929d0e0e4736"
	// Recent times: a day past retention would be dropped.
	at := func(ms int) string {
		return time.Now().UTC().Add(time.Duration(ms-1000) * time.Millisecond).Format(time.RFC3339Nano)
	}
	lines := []string{
		`{"@timestamp":"` + at(100) + `","index":"orders","level":"INFO","message":"GET /orders/42 start","traceId":"` + trace + `"}`,
		`{"@timestamp":"` + at(200) + `","index":"orders","level":"INFO","message":"SELECT order 42","traceId":"` + trace + `"}`,
		`{"@timestamp":"` + at(250) + `","index":"orders","level":"INFO","message":"GET /orders/7 ok","traceId":"00000000000000000000000000000007"}`,
		`{"@timestamp":"` + at(300) + `","index":"orders","level":"ERROR","logger_name":"com.acme.orders.OrderController","message":"request failed","traceId":"` + trace + `","stack_trace":"java.lang.IllegalStateException: order 42 not payable\n\tat com.acme.orders.OrderService.pay(OrderService.java:88)\n\tat com.acme.orders.OrderController.get(OrderController.java:31)\n\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)\n"}`,
	}
	c, err := net.Dial("tcp", s.tcp)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, strings.Join(lines, "\n")+"\n")
	c.Close()
	got := s.waitIssues("project=orders", 1, 1)
	is := got[0]
	if is.Title != "java.lang.IllegalStateException: order 42 not payable" || is.Culprit != "com.acme.orders.OrderService in pay" || is.LatestTraceID != trace {
		t.Fatalf("issue %+v", is)
	}
	var ans struct {
		TraceID string           `json:"trace_id"`
		Logs    []map[string]any `json:"logs"`
	}
	if err := json.Unmarshal([]byte(s.get("/api/v1/issues/"+is.ShortID+"/events/"+is.LatestEventID+"/logs")), &ans); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, l := range ans.Logs {
		msgs = append(msgs, fmt.Sprint(l["message"]))
	}
	want := "request failed|SELECT order 42|GET /orders/42 start" // newest first
	if ans.TraceID != trace || strings.Join(msgs, "|") != want {
		t.Fatalf("trace logs %q, want %q", strings.Join(msgs, "|"), want)
	}
}
