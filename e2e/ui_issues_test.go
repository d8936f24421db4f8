package e2e

// The Issues, issue and Status pages of the web UI, driven in headless
// Chromium against a real server fed by the real sentry-go SDK and by
// request logs over the TCP lines port.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/getsentry/sentry-go"
)

// uiTraces are the trace ids of the three Sentry events of TestUIIssues:
// the first and second charge errors and the refund error.
var uiTraces = [3]string{
	"11111111111111111111111111111111",
	"22222222222222222222222222222222",
	"33333333333333333333333333333333",
}

// uiRequestLogs is how many request logs each trace gets over TCP; the
// fourth trace belongs to no error.
var uiRequestLogs = map[string]int{
	uiTraces[0]:                        3,
	uiTraces[1]:                        2,
	uiTraces[2]:                        4,
	"44444444444444444444444444444444": 5,
}

// captureWithTrace sends err's event from fn with the scope's trace id set
// to trace, as an instrumented request handler would.
func captureWithTrace(t *testing.T, hub *sentry.Hub, trace string, capture func(*sentry.Hub, int) *sentry.EventID, n int) string {
	t.Helper()
	pc, err := sentry.PropagationContextFromHeaders(trace+"-b7ad6b7169203331-1", "")
	if err != nil {
		t.Fatal(err)
	}
	hub.Scope().SetPropagationContext(pc)
	id := capture(hub, n)
	if id == nil {
		t.Fatal("sentry-go gave no event id")
	}
	return string(*id)
}

// captureRefundThroughStdlib raises the refund error inside a standard
// library callback, so the stack has frames that are not in-app between
// in-app ones, for the issue page to fold.
func captureRefundThroughStdlib(h *sentry.Hub, id int) *sentry.EventID {
	var out *sentry.EventID
	strings.IndexFunc("x", func(rune) bool {
		out = captureRefund(h, id)
		return true
	})
	return out
}

// pageFrames compares the first (raised) exception the issue page shows
// with the API's event: in-app frames shown, the others folded behind
// "N more frames". It returns the number of folded frames.
func pageFrames(t *testing.T, b *browser, ev eventJSON) int {
	t.Helper()
	raised := ev.Exceptions[len(ev.Exceptions)-1]
	inApp, other := 0, 0
	var fns []string
	for i := len(raised.Frames) - 1; i >= 0; i-- {
		if raised.Frames[i].InApp {
			inApp++
			fns = append(fns, raised.Frames[i].Function)
		} else {
			other++
		}
	}
	if inApp == 0 {
		t.Fatalf("no in-app frame in %+v", raised)
	}
	shown := evalJS[[]string](b, `[...document.querySelectorAll('#event .exc:first-child .frames > li.inapp .fn')].map(e => e.textContent)`)
	folded := evalJS[[]string](b, `[...document.querySelectorAll('#event .exc:first-child .fold-toggle')].map(b => b.textContent)`)
	foldedN := 0
	for _, f := range folded {
		n, err := strconv.Atoi(strings.Fields(f)[0])
		if err != nil || !strings.HasSuffix(f, "more frames") && !strings.HasSuffix(f, "more frame") {
			t.Fatalf("fold button %q", f)
		}
		foldedN += n
	}
	if strings.Join(shown, " ") != strings.Join(fns, " ") || foldedN != other {
		t.Fatalf("frames: in-app %q shown and %d folded (%q); want %q and %d", shown, foldedN, folded, fns, other)
	}
	return other
}

// sendRequestLogs writes uiRequestLogs as JSON lines over the TCP port,
// each a second apart and just before now, and waits until every trace's
// logs are searchable (TCP carries no acknowledgement).
func sendRequestLogs(t *testing.T, s *server) {
	t.Helper()
	c, err := net.Dial("tcp", s.tcp)
	if err != nil {
		t.Fatal(err)
	}
	traces := make([]string, 0, len(uiRequestLogs))
	for tr := range uiRequestLogs {
		traces = append(traces, tr)
	}
	sort.Strings(traces)
	now := time.Now().UTC()
	var b strings.Builder
	for _, tr := range traces {
		for i := 0; i < uiRequestLogs[tr]; i++ {
			line, _ := json.Marshal(map[string]string{
				"@timestamp": now.Add(-time.Duration(10-i) * time.Second).Format(time.RFC3339Nano),
				"index":      "web", "level": "INFO", "traceId": tr,
				"message": fmt.Sprintf("GET /orders step %d of trace %s", i, tr[:4]),
			})
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	c.Close()
	for _, tr := range traces {
		s.waitRows(`index:web trace_id:"`+tr+`"`, uiRequestLogs[tr])
	}
}

// waitPage waits until the router has drawn route.
func waitPage(b *browser, route string) {
	b.t.Helper()
	b.Do(waitJS(`document.documentElement.dataset.ready === `+strconv.Quote(route), 10*time.Second))
}

// searchHits waits for the Search page's count and returns it.
func searchHits(b *browser) int {
	b.t.Helper()
	b.Do(waitJS(`document.querySelector('#page .search') && document.querySelector('#page').dataset.state !== 'loading' && document.getElementById('hits') && document.getElementById('hits').dataset.count !== undefined`, 10*time.Second))
	n, err := strconv.Atoi(evalJS[string](b, `document.getElementById('hits').dataset.count`))
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// TestUIIssues: two different errors from sentry-go (one twice) with trace
// ids and request logs over TCP; the list shows 2 issues with counts 2 and
// 1, the issue page shows the frames and steps through the events,
// "request logs" opens Search on exactly the events of the trace, and
// resolve and bulk ignore reach the API.
func TestUIIssues(t *testing.T) {
	s := startServer(t, "")
	dsn := createProject(t, s, "shop", 1)
	client, err := sentry.NewClient(sentry.ClientOptions{Dsn: dsn, Transport: sentry.NewHTTPSyncTransport(), Release: "shop@2.1", Environment: "e2e", ServerName: "web-7"})
	if err != nil {
		t.Fatal(err)
	}
	hub := sentry.NewHub(client, sentry.NewScope())
	hub.Scope().SetUser(sentry.User{ID: "u-1"})
	charge1 := captureWithTrace(t, hub, uiTraces[0], captureCharge, 1)
	hub.Scope().SetUser(sentry.User{ID: "u-2"})
	charge2 := captureWithTrace(t, hub, uiTraces[1], captureCharge, 2)
	captureWithTrace(t, hub, uiTraces[2], captureRefundThroughStdlib, 3)
	sendRequestLogs(t, s)

	got := s.waitIssues("project=shop&sort=count", 2, 3)
	charge, refund := got[0], got[1]
	if charge.Count != 2 || refund.Count != 1 || charge.LatestTraceID != uiTraces[1] || refund.LatestTraceID != uiTraces[2] {
		t.Fatalf("issues %+v", got)
	}
	// What the issue page must show, from the API: the frames of the
	// newest charge event, in-app and not.
	evs := issueEvents(t, s, charge.ShortID)
	if len(evs) != 2 || evs[0].EventID != charge2 || evs[1].EventID != charge1 {
		t.Fatalf("charge events %+v", evs)
	}
	// The trace of the newest charge event holds its request logs and the
	// error itself, which a Sentry event also is as a log event.
	wantTrace := uiRequestLogs[uiTraces[1]] + 1
	if rows := s.query(`trace_id:"`+uiTraces[1]+`"`, 100); len(rows) != wantTrace {
		t.Fatalf("trace %s: %d events over the API, want %d: %v", uiTraces[1], len(rows), wantTrace, rows)
	}

	b := newBrowser(t, 60*time.Second)

	// The list: 2 issues, counts 2 and 1, a sparkline with this hour's
	// events, the users.
	b.Do(chromedp.Navigate(s.uiURL("#/issues")))
	waitPage(b, "issues")
	readyMS := evalJS[float64](b, `window.lcReadyAt`)
	t.Logf("issues page ready %.0f ms after navigation", readyMS)
	if readyMS > 1000 {
		t.Errorf("issues page ready after %.0f ms, want under 1 s", readyMS)
	}
	b.Do(waitJS(`document.querySelectorAll('#issues li[data-id]').length === 2`, 5*time.Second))
	type row struct {
		Short, Count, Users, Title, Spark string
		Bars                              int
	}
	rows := evalJS[[]row](b, `[...document.querySelectorAll('#issues li[data-id]')].map(li => ({
		Short: li.dataset.shortId, Count: li.querySelector('.c-count').textContent, Users: li.querySelector('.c-users').textContent,
		Title: li.querySelector('a.title').textContent, Spark: li.querySelector('svg.spark').getAttribute('aria-label'),
		Bars: li.querySelectorAll('svg.spark rect').length}))`)
	byShort := map[string]row{}
	for _, r := range rows {
		byShort[r.Short] = r
	}
	if r := byShort[charge.ShortID]; r.Count != "2" || r.Users != "2" || r.Title != charge.Title || r.Bars != 24 || !strings.HasPrefix(r.Spark, "2 events in") {
		t.Fatalf("charge row %+v, issue %+v", r, charge)
	}
	if r := byShort[refund.ShortID]; r.Count != "1" || r.Users != "1" || r.Title != refund.Title || r.Bars != 24 || !strings.HasPrefix(r.Spark, "1 event in") {
		t.Fatalf("refund row %+v, issue %+v", r, refund)
	}
	if total := evalJS[string](b, `document.getElementById('issues-total').dataset.total`); total != "2" {
		t.Fatalf("total %q", total)
	}
	b.Screenshot("issues")

	// The issue page, opened by a click on the title.
	b.Do(chromedp.Click(`#issues li[data-short-id="` + charge.ShortID + `"] a.title`))
	waitPage(b, "issue")
	if title := evalJS[string](b, `document.getElementById('issue-title').textContent`); title != charge.Title {
		t.Fatalf("issue title %q, want %q", title, charge.Title)
	}
	if n := evalJS[string](b, `document.getElementById('issue-count').textContent`); n != "2" {
		t.Fatalf("issue count %q", n)
	}
	pageFrames(t, b, evs[0])
	if evalJS[bool](b, `!!document.getElementById('event-extra')`) {
		t.Fatal("additional data shown for an event without extra")
	}
	if evalJS[bool](b, `[...document.querySelectorAll('#page *')].some(e => [...e.childNodes].some(n => n.nodeType === 3 && /^(null|undefined)$/.test(n.textContent)))`) {
		t.Fatal("the issue page prints null or undefined")
	}
	if tags := evalJS[string](b, `document.getElementById('issue-tags').textContent`); !strings.Contains(tags, "shop@2.1") {
		t.Fatalf("tags %q", tags)
	}
	// Events one by one, newest first.
	if pos := evalJS[string](b, `document.getElementById('ev-pos').textContent`); pos != "1 of 2" {
		t.Fatalf("event position %q", pos)
	}
	if id := evalJS[string](b, `document.getElementById('ev-id').dataset.eventId`); id != charge2 {
		t.Fatalf("first event shown %s, want %s", id, charge2)
	}
	b.Do(chromedp.Click(`#ev-older`), waitJS(`document.getElementById('ev-id').dataset.eventId === `+strconv.Quote(charge1), 5*time.Second))
	b.Do(waitJS(`document.getElementById('trace-logs').dataset.count === `+strconv.Quote(strconv.Itoa(uiRequestLogs[uiTraces[0]]+1)), 5*time.Second))
	b.Do(chromedp.Click(`#ev-newer`), waitJS(`document.getElementById('ev-id').dataset.eventId === `+strconv.Quote(charge2), 5*time.Second))
	b.Do(waitJS(`document.getElementById('trace-logs').dataset.count === `+strconv.Quote(strconv.Itoa(wantTrace)), 5*time.Second))
	b.Screenshot("issue")

	// "Request logs": one click, and Search shows exactly the trace.
	b.Do(chromedp.Click(`#request-logs`))
	waitPage(b, "search")
	if n := searchHits(b); n != wantTrace {
		t.Fatalf("request logs: Search shows %d events, want %d", n, wantTrace)
	}
	hash := evalJS[string](b, `location.hash`)
	u, err := url.Parse("http://x/" + strings.TrimPrefix(hash, "#/"))
	if err != nil || u.Query().Get("q") != `trace_id:"`+uiTraces[1]+`"` {
		t.Fatalf("search hash %q", hash)
	}
	msgs := evalJS[[]string](b, `[...document.querySelectorAll('#results .row .msg')].map(e => e.textContent)`)
	if len(msgs) != wantTrace {
		t.Fatalf("search rows %q", msgs)
	}
	b.Screenshot("request-logs")

	// Resolve from the issue page; the API agrees.
	b.Do(chromedp.NavigateBack())
	waitPage(b, "issue")
	b.Do(chromedp.Click(`#act-resolve`), waitJS(`document.querySelector('#issue-head .st').dataset.status === 'resolved'`, 5*time.Second))
	if got := s.issues("status=resolved"); len(got) != 1 || got[0].ShortID != charge.ShortID {
		t.Fatalf("after resolve: %+v", got)
	}
	// The refund went through strings.IndexFunc: its page folds the
	// standard library's frames between the in-app ones, and unfolds them.
	b.Do(chromedp.Navigate(s.uiURL("#/issues/" + refund.ShortID)))
	waitPage(b, "issue")
	if folded := pageFrames(t, b, issueEvents(t, s, refund.ShortID)[0]); folded == 0 {
		t.Fatal("the refund's stack has no frame to fold")
	}
	b.Do(chromedp.Click(`#event .exc:first-child .fold-toggle`))
	if hidden := evalJS[bool](b, `document.querySelector('#event .exc:first-child li.fold ol').hidden`); hidden {
		t.Fatal("unfolding showed no frames")
	}
	b.Screenshot("issue-folded")
	// Ignore until 10 more events: the server wakes it at 1+10; then
	// Unresolve brings it back.
	evalJS[string](b, `document.getElementById('ignore-for').value = '10'`)
	b.Do(chromedp.Click(`#act-ignore`), waitJS(`document.querySelector('#issue-head .st').dataset.status === 'ignored'`, 5*time.Second))
	var ignored struct {
		Status string `json:"status"`
		Until  int64  `json:"ignore_until_count"`
	}
	json.Unmarshal([]byte(s.get("/api/v1/issues/"+refund.ShortID)), &ignored)
	if ignored.Status != "ignored" || ignored.Until != 11 {
		t.Fatalf("ignore until 10 more: %+v", ignored)
	}
	if txt := evalJS[string](b, `document.querySelector('#issue-head .st').textContent`); txt != "ignored (until 11 events)" {
		t.Fatalf("ignored badge %q", txt)
	}
	b.Do(chromedp.Click(`#act-unresolve`), waitJS(`document.querySelector('#issue-head .st').dataset.status === 'unresolved'`, 5*time.Second))
	if got := s.issues("status=unresolved"); len(got) != 1 || got[0].ShortID != refund.ShortID {
		t.Fatalf("after unresolve: %+v", got)
	}

	// Bulk ignore from the list: the resolved one is gone from the
	// default (unresolved) list, the other is selected and ignored.
	b.Do(chromedp.Navigate(s.uiURL("#/issues")))
	waitPage(b, "issues")
	b.Do(waitJS(`document.querySelectorAll('#issues li[data-id]').length === 1`, 5*time.Second))
	b.Do(chromedp.Click(`#sel-all`), chromedp.Click(`#bulk-ignore`))
	b.Do(waitJS(`document.querySelectorAll('#issues li[data-id]').length === 0`, 5*time.Second))
	if got := s.issues("status=ignored"); len(got) != 1 || got[0].ShortID != refund.ShortID {
		t.Fatalf("after bulk ignore: %+v", got)
	}

	// Keyboard only: j moves to the first issue (the charge, by count), x
	// selects it, Esc clears, o opens it; n shows the older event and l
	// opens its request logs: the first trace's 3 logs and the error.
	b.Do(chromedp.Navigate(s.uiURL("#/issues?status=all&sort=count")))
	waitPage(b, "issues")
	b.Do(waitJS(`document.querySelectorAll('#issues li[data-id]').length === 2`, 5*time.Second))
	b.Do(chromedp.KeyEvent("j"), chromedp.KeyEvent("x"))
	if sel := evalJS[string](b, `document.getElementById('sel-count').textContent + '|' + document.querySelector('#issues li.sel').dataset.shortId`); sel != "1 selected|"+charge.ShortID {
		t.Fatalf("after j x: %q", sel)
	}
	b.Do(chromedp.KeyEvent(kb.Escape), waitJS(`document.getElementById('sel-count').textContent === '' && !document.querySelector('#issues li.sel')`, 2*time.Second))
	b.Do(chromedp.KeyEvent("o"))
	waitPage(b, "issue")
	b.Do(waitJS(`document.getElementById('issue-title').textContent === `+strconv.Quote(charge.Title), 5*time.Second))
	b.Do(chromedp.KeyEvent("n"), waitJS(`document.getElementById('ev-pos').textContent === '2 of 2'`, 5*time.Second))
	b.Do(chromedp.KeyEvent("l"))
	waitPage(b, "search")
	if n := searchHits(b); n != uiRequestLogs[uiTraces[0]]+1 {
		t.Fatalf("l on the older event: Search shows %d events, want %d", n, uiRequestLogs[uiTraces[0]]+1)
	}

	// A phone: nothing wider than the screen on either page.
	b.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	for _, page := range []struct{ hash, route string }{
		{"#/issues?status=all", "issues"}, {"#/issues/" + refund.ShortID, "issue"}, {"#/status", "status"},
	} {
		b.Do(chromedp.Navigate(s.uiURL(page.hash)))
		waitPage(b, page.route)
		if w := evalJS[[]int](b, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
			t.Fatalf("%s on a phone: %d px wide in a %d px window", page.hash, w[0], w[1])
		}
		b.Screenshot("phone-" + page.route)
	}
	// By now the charge is resolved and the refund ignored.
	if txt := evalJS[string](b, `document.getElementById('st-issues').textContent`); !strings.Contains(txt, "0unresolved · 1 resolved · 1 ignored") {
		t.Fatalf("issues card %q", txt)
	}
	b.Do(chromedp.EmulateReset())

	// Errors show in place.
	b.Do(chromedp.Navigate(s.uiURL("#/issues?status=all&q=colour:red")))
	waitPage(b, "issues")
	if msg := evalJS[string](b, `document.querySelector('#issues-msg .error-box').textContent`); !strings.Contains(msg, `unknown issue field "colour"`) {
		t.Fatalf("bad issue query: %q", msg)
	}
	b.Do(chromedp.Navigate(s.uiURL("#/issues/SHOP-99999")))
	waitPage(b, "issue")
	if msg := evalJS[string](b, `document.querySelector('#page .error-box').textContent`); !strings.Contains(msg, "no such issue") {
		t.Fatalf("missing issue: %q", msg)
	}

	// Additional data (Sentry's extra) under the event, sorted by key,
	// values as text. sentry-go no longer sends extra, so the event is
	// posted to the store endpoint as the JavaScript SDK would.
	opsDSN, err := url.Parse(createProject(t, s, "ops", 2))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+s.http+"/api/2/store/?sentry_key="+opsDSN.User.Username(), "application/json",
		strings.NewReader(`{"message":"queue stuck","extra":{"queue":"mail","depth":1200,"job":{"id":7,"tries":[1,2]},"trace":"line 1\nline 2"}}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("store event with extra: %v %v", resp, err)
	}
	resp.Body.Close()
	ops := s.waitIssues("project=ops", 1, 1)
	b.Do(chromedp.Navigate(s.uiURL("#/issues/" + ops[0].ShortID)))
	waitPage(b, "issue")
	b.Do(waitJS(`document.querySelectorAll('#event-extra tr').length > 0`, 5*time.Second))
	extra := evalJS[[]string](b, `[...document.querySelectorAll('#event-extra tr')].map(tr => tr.dataset.key + '=' + tr.querySelector('td.v').textContent)`)
	if want := []string{"depth=1200", `job={"id":7,"tries":[1,2]}`, "queue=mail", "trace=line 1\nline 2"}; strings.Join(extra, "|") != strings.Join(want, "|") {
		t.Fatalf("additional data %q, want %q", extra, want)
	}
	b.Screenshot("issue-extra")
}

// TestUIStatus: the Status page lists every part /health reports with the
// same status, and shows the rate, queue, connections and storage.
func TestUIStatus(t *testing.T) {
	s := startServer(t, "")
	if code, out := s.ingest("app", []byte("{\"message\":\"one\"}\n{\"message\":\"two\"}\n"), ""); code != 200 {
		t.Fatalf("ingest %d %v", code, out)
	}
	b := newBrowser(t, 30*time.Second)
	b.Do(chromedp.Navigate(s.uiURL("#/status")))
	waitPage(b, "status")
	readyMS := evalJS[float64](b, `window.lcReadyAt`)
	t.Logf("status page ready %.0f ms after navigation", readyMS)
	if readyMS > 1000 {
		t.Errorf("status page ready after %.0f ms, want under 1 s", readyMS)
	}
	// The rate needs a second read.
	b.Do(waitJS(`document.getElementById('rate') && document.getElementById('rate').textContent !== 'measuring…'`, 5*time.Second))

	resp, err := http.Get("http://" + s.http + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Checks map[string]struct {
			Status string `json:"status"`
		} `json:"checks"`
		Store struct {
			Partitions int `json:"partitions"`
		} `json:"store"`
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || len(health.Checks) < 4 {
		t.Fatalf("health %+v %v", health, err)
	}
	shown := evalJS[map[string]string](b, `Object.fromEntries([...document.querySelectorAll('#checks tr[data-check]')].map(tr => [tr.dataset.check, tr.dataset.status]))`)
	want := map[string]string{}
	for name, c := range health.Checks {
		want[name] = c.Status
	}
	if fmt.Sprint(shown) != fmt.Sprint(want) {
		t.Fatalf("status page parts %v, /health %v", shown, want)
	}
	for _, id := range []string{"queue-fill", "conns", "disk-used", "rate"} {
		if txt := evalJS[string](b, `document.getElementById(`+strconv.Quote(id)+`).textContent`); txt == "" || txt == "—" {
			t.Fatalf("#%s empty", id)
		}
	}
	if q := evalJS[string](b, `document.getElementById('queue-fill').textContent`); !strings.HasSuffix(q, "%") {
		t.Fatalf("queue fill %q", q)
	}
	if txt := evalJS[string](b, `document.getElementById('st-storage').textContent`); !strings.Contains(txt, "2 events (") || !strings.Contains(txt, "1 day partition") {
		t.Fatalf("storage card %q", txt)
	}
	// 300 more events while the page watches: the total counts them and
	// the rate rises above 0, under the protocol that carried them.
	var lines strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&lines, "{\"message\":\"event %d\"}\n", i)
	}
	if code, out := s.ingest("app", []byte(lines.String()), ""); code != 200 {
		t.Fatalf("ingest %d %v", code, out)
	}
	b.Do(waitJS(`document.getElementById('st-rate').textContent.includes('302 events since start')`, 8*time.Second))
	b.Do(waitJS(`parseFloat(document.getElementById('rate').textContent) > 0 && document.querySelector('#st-rate [data-protocol="http"]')`, 8*time.Second))
	b.Screenshot("status")

	// The server goes away: the error shows above the last figures, which
	// stay on screen marked stale.
	s.kill9()
	b.Do(waitJS(`document.querySelector('#status-msg .error-box[data-status="0"]') && document.querySelector('.ipage.is-stale')`, 8*time.Second))
	if n := evalJS[int](b, `document.querySelectorAll('#checks tr[data-check]').length`); n != len(want) {
		t.Fatalf("after the server died the page shows %d parts, want the last %d", n, len(want))
	}
	b.Screenshot("server-down")
}

// TestUIIssueHelpers checks the pages' pure functions in the browser
// against values worked out by hand: the Prometheus text parser, the day
// count, the folding of stack frames and the Search link of a trace.
func TestUIIssueHelpers(t *testing.T) {
	s := startServer(t, "")
	b := newBrowser(t, 30*time.Second)
	b.Do(chromedp.Navigate(s.uiURL("#/status")))
	waitPage(b, "status")
	got, err := chromedp.Run(b.Ctx, chromedp.Evaluate[map[string]any](`(async () => {
		const st = await import('/static/status.js');
		const is = await import('/static/issue.js');
		const text = [
			'# HELP logcaster_ingested_events_total Events accepted.',
			'# TYPE logcaster_ingested_events_total counter',
			'logcaster_ingested_events_total{index="a",protocol="tcp"} 10',
			'logcaster_ingested_events_total{index="b",protocol="tcp"} 5',
			'logcaster_ingested_events_total{index="q\\"x\\\\y",protocol="http"} 7 1700000000000',
			'logcaster_queue_size 3',
			'go_gc_duration_seconds{quantile="0.5"} NaN',
			'broken{',
		].join('\n');
		const samples = st.parseMetrics(text);
		const folded = is.foldFrames([{function: 'a', in_app: true}, {function: 'b'}, {function: 'c'}, {function: 'd', in_app: true}, {function: 'e'}])
			.map(r => (r.fold ? 'F' : 'S') + r.frames.length).join(',');
		const none = is.foldFrames([{function: 'x'}, {function: 'y'}]).map(r => (r.fold ? 'F' : 'S') + r.frames.length).join(',');
		const link = is.searchLink('abc', [Date.parse('2026-01-02T03:00:00Z'), Date.parse('2026-01-02T03:10:00Z')]);
		return {
			n: samples.length,
			byProto: st.sumBy(samples, 'logcaster_ingested_events_total', 'protocol'),
			total: st.sumBy(samples, 'logcaster_ingested_events_total')[''],
			label: samples[2].labels.index,
			queue: samples.find(x => x.name === 'logcaster_queue_size').value,
			days: [st.days('2026-11-20', '2026-11-22'), st.days('2026-11-22', '2026-11-22'), st.days('', '')],
			bytes: [st.bytes(812), st.bytes(3 * 1024 * 1024 + 400 * 1024), st.bytes(0)],
			folded, none, link,
		};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"n":       float64(5),
		"byProto": map[string]any{"tcp": float64(15), "http": float64(7)},
		"total":   float64(22),
		"label":   `q"x\y`,
		"queue":   float64(3),
		"days":    []any{float64(3), float64(1), float64(0)},
		"bytes":   []any{"812 B", "3.39 MiB", "0 B"},
		"folded":  "S1,F2,S1,F1",
		"none":    "S2",
		"link":    "#/search?q=trace_id%3A%22abc%22&from=2026-01-02T02%3A45%3A00.000Z&to=2026-01-02T03%3A25%3A00.000Z",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("helpers:\n got %v\nwant %v", got, want)
	}
}
