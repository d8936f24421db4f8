package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/getsentry/sentry-go"
)

// TestUIIssuesRefresh: the Issues list refreshes itself and shows a new
// event's count without a reload, while the reader's selection, keyboard
// focus (on a first/last seen time, reached with Tab) and scroll stay as
// they were; the focused time says its absolute time.
func TestUIIssuesRefresh(t *testing.T) {
	s := startServer(t, "")
	dsn := createProject(t, s, "shop", 1)
	client, err := sentry.NewClient(sentry.ClientOptions{Dsn: dsn, Transport: sentry.NewHTTPSyncTransport()})
	if err != nil {
		t.Fatal(err)
	}
	hub := sentry.NewHub(client, sentry.NewScope())
	captureWithTrace(t, hub, uiTraces[0], captureCharge, 1)
	captureWithTrace(t, hub, uiTraces[2], captureRefundThroughStdlib, 2)
	got := s.waitIssues("project=shop&sort=count", 2, 2)
	charge, refund := got[0], got[1]
	if charge.LatestTraceID != uiTraces[0] {
		charge, refund = got[1], got[0]
	}

	b := newBrowser(t, 60*time.Second)
	b.Do(chromedp.Navigate(s.uiURL("#/status")))
	waitPage(b, "status")
	// A short period for the test; the page reads it when it renders. The
	// padding makes the page scroll, to check the scroll is kept.
	evalJS[bool](b, `window.lcIssuesRefreshMs = 300; document.body.style.paddingBottom = '3000px'; location.hash = '#/issues'; true`)
	waitPage(b, "issues")
	b.Do(waitJS(`document.querySelectorAll('#issues li[data-id]').length === 2`, 5*time.Second))

	rowSel := func(shortID string) string { return `#issues li[data-short-id="` + shortID + `"]` }
	// Select the refund; Tab from the charge's title to its times.
	b.Do(chromedp.Click(rowSel(refund.ShortID) + ` input[type=checkbox]`))
	b.Do(chromedp.Focus(rowSel(charge.ShortID) + ` a.title`))
	for i := 0; i < 5 && !evalJS[bool](b, `document.activeElement.tagName === 'TIME'`); i++ {
		b.Do(chromedp.KeyEvent(kb.Tab))
	}
	type focus struct {
		Tag, Row, Label, Title, After, DateTime string
		Abs                                     string
	}
	readFocus := func() focus {
		return evalJS[focus](b, `(() => {
			const a = document.activeElement;
			const li = a.closest('li[data-id]');
			return {Tag: a.tagName, Row: li ? li.dataset.shortId : '', Label: a.getAttribute('aria-label') || '', Title: a.title,
				After: getComputedStyle(a, '::after').content, DateTime: a.getAttribute('datetime') || '',
				Abs: new Date(Date.parse(a.getAttribute('datetime'))).toLocaleString()};
		})()`)
	}
	f := readFocus()
	if f.Tag != "TIME" || f.Row != charge.ShortID {
		t.Fatalf("Tab from the title reached %+v, want a time of %s", f, charge.ShortID)
	}
	if !strings.HasPrefix(f.Label, "last seen ") || !strings.HasSuffix(f.Label, ", "+f.Abs) || f.Title != f.Abs || f.After != `"`+f.Abs+`"` {
		t.Fatalf("focused time %+v: want aria-label \"last seen …, %s\", the title and ::after showing it", f, f.Abs)
	}
	b.Screenshot("focused-time")
	evalJS[bool](b, `window.scrollTo(0, 40); true`)
	refreshes := evalJS[string](b, `document.getElementById('issues').dataset.refreshes`)

	// A second charge event arrives; the list shows it on its own.
	captureWithTrace(t, hub, uiTraces[1], captureCharge, 3)
	if got := s.waitIssues("project=shop", 2, 3); len(got) != 2 {
		t.Fatalf("issues after the new event: %+v", got)
	}
	b.Do(waitJS(`document.querySelector('`+rowSel(charge.ShortID)+` .c-count').textContent === '2'`, 10*time.Second))
	if after := evalJS[string](b, `document.getElementById('issues').dataset.refreshes`); after == refreshes {
		t.Fatalf("refreshes %s before and after", after)
	}
	if g := readFocus(); g.Tag != "TIME" || g.Row != charge.ShortID || !strings.HasPrefix(g.Label, "last seen ") {
		t.Fatalf("focus after the refresh: %+v, want the charge's last seen time", g)
	}
	if sel := evalJS[string](b, `document.getElementById('sel-count').textContent + '|' + [...document.querySelectorAll('#issues li.sel')].map(li => li.dataset.shortId).join(',')`); sel != "1 selected|"+refund.ShortID {
		t.Fatalf("selection after the refresh: %q, want the refund", sel)
	}
	if y := evalJS[float64](b, `window.scrollY`); y != 40 {
		t.Fatalf("scroll after the refresh: %v, want 40", y)
	}
	// The next refresh leaves the page as it is.
	b.Do(waitJS(`document.getElementById('issues').dataset.refreshes > `+refreshes+` + 1`, 5*time.Second))
	if y := evalJS[float64](b, `window.scrollY`); y != 40 {
		t.Fatalf("scroll after two refreshes: %v", y)
	}
}
