package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logcaster/logcaster/internal/alerts/alertstest"
	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/issues"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/store"
)

// receiver records the JSON bodies posted to it; fail makes it answer 500.
type receiver struct {
	mu     sync.Mutex
	bodies []map[string]any
	fail   int // answer 500 to this many requests first
	srv    *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fail > 0 {
			r.fail--
			w.WriteHeader(500)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("body %q: %v", b, err)
		}
		r.bodies = append(r.bodies, m)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.bodies...)
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func testOptions() Options {
	o := DefaultOptions()
	o.Backoff, o.MaxBackoff, o.Timeout = 10*time.Millisecond, 40*time.Millisecond, time.Second
	o.PublicURL = "http://logs.example:8080"
	return o
}

func view(id, sid string, count int64) issues.IssueView {
	return issues.IssueView{ID: id, ShortID: sid, Project: "shop", Title: "java.lang.IllegalStateException: boom", Count: count, Status: "unresolved"}
}

func TestIssueRulesOncePerCooldownAndRegression(t *testing.T) {
	rc := newReceiver(t)
	m := metrics.New()
	o := testOptions()
	o.Metrics = m
	hook := []Destination{{Type: DestWebhook, URL: rc.srv.URL}}
	e, err := New(o, []Rule{
		{Name: "new", Kind: KindNewIssue, Destinations: hook},
		{Name: "back", Kind: KindRegression, Destinations: hook},
		{Name: "burst", Kind: KindIssueFrequency, Count: 3, Window: Duration(time.Minute), Destinations: hook},
		{Name: "other-project", Kind: KindNewIssue, Project: "billing", Destinations: hook},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.OnIssue(view("1", "SHOP-1", 1), issues.ChangeNew)
	e.OnIssue(view("1", "SHOP-1", 2), issues.ChangeCount)
	e.OnIssue(view("1", "SHOP-1", 3), issues.ChangeCount)
	e.OnIssue(view("1", "SHOP-1", 4), issues.ChangeRegression) // 4th event in a minute: burst too
	e.OnIssue(view("1", "SHOP-1", 5), issues.ChangeRegression) // within the cooldown: nothing
	e.OnIssue(view("1", "SHOP-1", 6), issues.ChangeCount)      // burst again within the cooldown: nothing
	waitFor(t, "3 alerts", func() bool { return len(rc.got()) >= 3 })
	time.Sleep(50 * time.Millisecond)
	got := rc.got()
	var rules []string
	for _, b := range got {
		is := b["issue"].(map[string]any)
		rules = append(rules, b["rule"].(string)+"/"+b["kind"].(string)+"/"+is["short_id"].(string)+"/"+b["link"].(string))
	}
	want := "new/new_issue/SHOP-1/http://logs.example:8080/api/v1/issues/1|" +
		"back/regression/SHOP-1/http://logs.example:8080/api/v1/issues/1|" +
		"burst/issue_frequency/SHOP-1/http://logs.example:8080/api/v1/issues/1"
	if strings.Join(rules, "|") != want {
		t.Fatalf("alerts %q\nwant %q", strings.Join(rules, "|"), want)
	}
	if v := testutil.ToFloat64(m.AlertsSent.WithLabelValues("ok")); v != 3 {
		t.Fatalf("alerts sent ok = %v", v)
	}
	h := e.History()
	if len(h) != 3 || h[0].Rule != "burst" || h[0].Status != StatusSent || h[0].Attempts != 1 || h[2].Rule != "new" {
		t.Fatalf("history %+v", h)
	}
}

func TestRetryWithBackoffThenFail(t *testing.T) {
	rc := newReceiver(t)
	rc.fail = 2
	m := metrics.New()
	o := testOptions()
	o.Metrics, o.MaxAttempts = m, 3
	e, err := New(o, []Rule{{Name: "new", Kind: KindNewIssue, Destinations: []Destination{{Type: DestWebhook, URL: rc.srv.URL}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.OnIssue(view("1", "SHOP-1", 1), issues.ChangeNew)
	waitFor(t, "a delivery after 2 failures", func() bool { return len(rc.got()) == 1 })
	waitFor(t, "history sent", func() bool { h := e.History(); return h[0].Status == StatusSent })
	if h := e.History()[0]; h.Attempts != 3 || h.LastError != "" {
		t.Fatalf("history %+v", h)
	}
	if ok, bad := testutil.ToFloat64(m.AlertsSent.WithLabelValues("ok")), testutil.ToFloat64(m.AlertsSent.WithLabelValues("error")); ok != 1 || bad != 2 {
		t.Fatalf("ok %v error %v", ok, bad)
	}

	rc.mu.Lock()
	rc.fail = 10
	rc.mu.Unlock()
	e.OnIssue(view("2", "SHOP-2", 1), issues.ChangeNew)
	waitFor(t, "history failed", func() bool { h := e.History(); return h[0].Status == StatusFailed })
	if h := e.History()[0]; h.Attempts != 3 || h.LastError != "webhook answered 500" || h.Issue != "SHOP-2" {
		t.Fatalf("history %+v", h)
	}
}

func TestHangingDestinationDoesNotBlock(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hang.Close()
	defer close(release)
	rc := newReceiver(t)
	o := testOptions()
	o.Timeout, o.QueueSize = 200*time.Millisecond, 4
	e, err := New(o, []Rule{
		{Name: "hang", Kind: KindNewIssue, Destinations: []Destination{{Type: DestWebhook, URL: hang.URL}}},
		{Name: "ok", Kind: KindNewIssue, Destinations: []Destination{{Type: DestSlack, URL: rc.srv.URL}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var spent time.Duration
	for i := 0; i < 20; i++ {
		id := string(rune('a' + i))
		start := time.Now()
		e.OnIssue(view(id, "SHOP-"+id, 1), issues.ChangeNew)
		spent += time.Since(start)
		time.Sleep(2 * time.Millisecond) // let the issue loop take it
	}
	if spent > 20*time.Millisecond || e.Dropped() != 0 {
		t.Fatalf("20 OnIssue calls took %v, %d dropped", spent, e.Dropped())
	}
	waitFor(t, "slack deliveries", func() bool { return len(rc.got()) >= 1 })
	b := rc.got()[0]
	blocks, _ := b["blocks"].([]any)
	if !strings.HasPrefix(b["text"].(string), "[LogCaster] ok: new_issue SHOP-") || len(blocks) != 2 {
		t.Fatalf("slack payload %v", b)
	}
	var dropped, retrying int
	for _, h := range e.History() {
		switch {
		case h.Rule == "hang" && h.Status == StatusDropped:
			dropped++
		case h.Rule == "hang" && h.Status == StatusRetrying:
			retrying++
		}
	}
	if dropped == 0 {
		t.Fatalf("no dropped deliveries with a queue of 4 and a hanging destination")
	}
	waitFor(t, "a retry of the hanging destination", func() bool {
		for _, h := range e.History() {
			if h.Rule == "hang" && h.Attempts >= 1 && h.Status == StatusRetrying && strings.Contains(h.LastError, "deadline") {
				return true
			}
		}
		return false
	})
}

// scanner is a store.Scanner over events held in memory.
type scanner struct {
	mu     sync.Mutex
	events []event.Event
}

func (s *scanner) add(e event.Event) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.mu.Unlock()
}

func (s *scanner) Scan(ctx context.Context, opts store.ScanOptions, fn func(store.Block) error) error {
	s.mu.Lock()
	evs := append([]event.Event(nil), s.events...)
	s.mu.Unlock()
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time < evs[j].Time }) // a MemBlock is sorted
	if len(evs) == 0 {
		return nil
	}
	if err := fn(store.NewMemBlock(evs)); err != nil && !errors.Is(err, store.ErrStopScan) {
		return err
	}
	return nil
}

func TestQueryThresholdFiresAndResolvesOnce(t *testing.T) {
	rc := newReceiver(t)
	sc := &scanner{}
	o := testOptions()
	o.Store, o.Interval = sc, time.Hour // evaluated by hand below
	e, err := New(o, []Rule{{Name: "payment-errors", Kind: KindQueryThreshold, Query: "service:payment level:ERROR | stats count()",
		Window: Duration(time.Minute), Op: ">", Threshold: 2, Destinations: []Destination{{Type: DestWebhook, URL: rc.srv.URL}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := time.Now().Truncate(time.Second)
	for i := 0; i < 3; i++ {
		sc.add(event.Event{Time: base.Add(time.Duration(i) * time.Second).UnixNano(), Index: "app", Level: "ERROR", Message: "card declined",
			Fields: []event.Field{{Name: "service", Value: "payment"}}})
	}
	sc.add(event.Event{Time: base.Add(3 * time.Second).UnixNano(), Index: "app", Level: "INFO", Message: "ok",
		Fields: []event.Field{{Name: "service", Value: "payment"}}})
	e.evalThresholds(base.Add(5 * time.Second))  // 3 > 2: fires
	e.evalThresholds(base.Add(6 * time.Second))  // still over: nothing
	e.evalThresholds(base.Add(90 * time.Second)) // window empty: 0, resolves
	e.evalThresholds(base.Add(91 * time.Second)) // nothing
	payErr := func(at time.Duration) {
		sc.add(event.Event{Time: base.Add(at).UnixNano(), Index: "app", Level: "ERROR", Message: "card declined",
			Fields: []event.Field{{Name: "service", Value: "payment"}}})
	}
	for i := 0; i < 3; i++ {
		payErr(100 * time.Second)
		payErr(400 * time.Second)
	}
	e.evalThresholds(base.Add(110 * time.Second)) // over again within the 5m cooldown: nothing
	e.evalThresholds(base.Add(140 * time.Second)) // back under: nothing to resolve
	waitFor(t, "2 alerts", func() bool { return len(rc.got()) >= 2 })
	time.Sleep(30 * time.Millisecond)
	got := rc.got()
	if len(got) != 2 {
		t.Fatalf("alerts %v", got)
	}
	for i, want := range []struct {
		state string
		value float64
	}{{"firing", 3}, {"resolved", 0}} {
		q := got[i]["query"].(map[string]any)
		if got[i]["state"] != want.state || q["value"] != want.value || q["threshold"] != 2.0 || q["window"] != "1m0s" {
			t.Fatalf("alert %d: %v", i, got[i])
		}
	}
	e.evalThresholds(base.Add(410 * time.Second)) // 405 s after the first firing: fires again
	waitFor(t, "the third alert", func() bool { return len(rc.got()) >= 3 })
	if g := rc.got()[2]; g["state"] != "firing" || g["query"].(map[string]any)["value"] != 3.0 {
		t.Fatalf("third alert %v", g)
	}
}

func TestEmailDelivery(t *testing.T) {
	f := alertstest.NewSMTPSink(t)
	e, err := New(testOptions(), []Rule{{Name: "mail", Kind: KindNewIssue, Destinations: []Destination{
		{Type: DestEmail, SMTP: f.Addr(), From: "alerts@logcaster.test", To: []string{"oncall@example.test", "dev@example.test"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.OnIssue(view("7", "SHOP-7", 1), issues.ChangeNew)
	waitFor(t, "mail", func() bool { return len(f.Messages()) == 1 })
	msg := f.Messages()[0]
	parts := strings.SplitN(msg, "|", 3)
	if parts[0] != "alerts@logcaster.test" || parts[1] != "oncall@example.test,dev@example.test" ||
		!strings.Contains(parts[2], "Subject: [LogCaster] mail: new_issue SHOP-7 java.lang.IllegalStateException: boom (count 1)\r\n") ||
		!strings.Contains(parts[2], "\r\nhttp://logs.example:8080/api/v1/issues/7\r\n") {
		t.Fatalf("mail %q", msg)
	}
	waitFor(t, "history sent", func() bool { return e.History()[0].Status == StatusSent })
}

func TestParseRules(t *testing.T) {
	rules, err := ParseRules([]byte(`
alerts:
  - name: errors
    kind: query_threshold
    query: "service:payment level:ERROR | stats count()"
    window: 5m
    op: ">"
    threshold: 50
    destinations:
      - {type: slack, url: "http://hooks/x"}
  - name: burst
    kind: issue_frequency
    count: 100
    window: 1h
    cooldown: 30m
    destinations:
      - {type: email, smtp: "mail:25", from: a@b, to: [c@d]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].Window != Duration(5*time.Minute) || rules[0].Threshold != 50 || rules[0].q == nil ||
		rules[1].Count != 100 || rules[1].Cooldown != Duration(30*time.Minute) || rules[1].Destinations[0].To[0] != "c@d" {
		t.Fatalf("rules %+v", rules)
	}
	for _, bad := range []string{
		"alerts: [{name: a, kind: nope, destinations: [{type: webhook, url: x}]}]",
		"alerts: [{name: a, kind: new_issue}]",
		"alerts: [{name: a, kind: new_issue, destinations: [{type: email, smtp: x}]}]",
		"alerts: [{name: a, kind: issue_frequency, window: 1m, destinations: [{type: webhook, url: x}]}]",
		"alerts: [{name: a, kind: query_threshold, query: 'a | stats count()', window: 1m, op: '=', destinations: [{type: webhook, url: x}]}]",
		"alerts: [{name: a, kind: query_threshold, query: '(', window: 1m, op: '>', destinations: [{type: webhook, url: x}]}]",
		"alerts: [{name: a, kind: new_issue, destinations: [{type: webhook, url: x}]}, {name: a, kind: regression, destinations: [{type: webhook, url: x}]}]",
	} {
		if _, err := ParseRules([]byte(bad)); err == nil {
			t.Errorf("no error for %s", bad)
		}
	}
}

func TestHTTPRulesAndHistory(t *testing.T) {
	e, err := New(testOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mux := http.NewServeMux()
	e.Register(func(p string, h http.Handler) { mux.Handle(p, h) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/v1/alerts/rules", "application/json",
		strings.NewReader(`{"name":"n","kind":"new_issue","destinations":[{"type":"webhook","url":"http://127.0.0.1:1/x"}]}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("post %v %v", resp, err)
	}
	resp, _ = http.Post(srv.URL+"/api/v1/alerts/rules", "application/json", strings.NewReader(`{"name":"n","kind":"bad"}`))
	if resp.StatusCode != 400 {
		t.Fatalf("bad rule: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/api/v1/alerts/rules")
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Rules []Rule }
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if len(out.Rules) != 1 || out.Rules[0].Name != "n" || out.Rules[0].Destinations[0].URL != "http://127.0.0.1:1/x" {
		t.Fatalf("rules %+v", out)
	}
}

func TestHistoryRingKeepsNewest(t *testing.T) {
	h := newHistory(3)
	for i := 0; i < 5; i++ {
		h.add(&Delivery{Rule: string(rune('a' + i))})
	}
	l := h.list()
	if len(l) != 3 || l[0].Rule != "e" || l[2].Rule != "c" || l[0].ID != 5 {
		t.Fatalf("ring %+v", l)
	}
}

func TestPruneForgetsPassedCooldownsAndWindows(t *testing.T) {
	rc := newReceiver(t)
	o := testOptions()
	o.Cooldown = time.Minute
	hook := []Destination{{Type: DestWebhook, URL: rc.srv.URL}}
	e, err := New(o, []Rule{
		{Name: "new", Kind: KindNewIssue, Destinations: hook},
		{Name: "burst", Kind: KindIssueFrequency, Count: 5, Window: Duration(10 * time.Second), Destinations: hook},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	now := time.Now()
	e.evalIssue(change{v: view("1", "SHOP-1", 1), c: issues.ChangeNew, at: now})
	e.evalIssue(change{v: view("2", "SHOP-2", 1), c: issues.ChangeNew, at: now.Add(50 * time.Second)})
	e.prune(now.Add(55 * time.Second)) // issue 2's burst window still holds its event
	e.mu.Lock()
	if _, ok := e.seen["burst\x002"]; !ok || len(e.seen) != 1 || len(e.last) != 2 {
		t.Fatalf("after the first prune: last %v, seen %v", e.last, e.seen)
	}
	e.mu.Unlock()
	e.prune(now.Add(70 * time.Second)) // issue 1: cooldown over, window empty; issue 2: cooldown on
	e.mu.Lock()
	defer e.mu.Unlock()
	_, last1 := e.last["new\x001"]
	_, last2 := e.last["new\x002"]
	if last1 || !last2 || len(e.last) != 1 || len(e.seen) != 0 {
		t.Fatalf("after prune: last %v, seen %v", e.last, e.seen)
	}
}

func BenchmarkOnIssue(b *testing.B) {
	o := testOptions()
	o.QueueSize = 1 << 16
	e, err := New(o, []Rule{{Name: "burst", Kind: KindIssueFrequency, Count: 1000, Window: Duration(time.Minute),
		Destinations: []Destination{{Type: DestWebhook, URL: "http://127.0.0.1:1/"}}}})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	v := view("1", "SHOP-1", 1)
	b.ReportAllocs()
	for b.Loop() {
		e.OnIssue(v, issues.ChangeCount)
	}
}

func TestRuleJSONRoundTrip(t *testing.T) {
	in := Rule{Name: "r", Kind: KindQueryThreshold, Query: "level:ERROR | stats count()", Window: Duration(90 * time.Second),
		Op: "<", Threshold: 1.5, Cooldown: Duration(time.Hour), Destinations: []Destination{{Type: DestWebhook, URL: "http://x"}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"window":"1m30s"`) || !strings.Contains(string(b), `"cooldown":"1h0m0s"`) {
		t.Fatalf("json %s", b)
	}
	var out Rule
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if err := out.Validate(); err != nil || out.Window != in.Window || out.Cooldown != in.Cooldown || out.Threshold != 1.5 {
		t.Fatalf("round trip %+v %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"window": 30}`), &out); err != nil || out.Window != Duration(30*time.Second) {
		t.Fatalf("seconds: %v %v", out.Window, err)
	}
}
