package e2e

// The web UI tests drive the real server's pages in headless Chromium
// (Debian package chromium) through the DevTools protocol. This file is the
// shared setup: a browser per test with a fresh profile, and screenshots
// saved as test artifacts.

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian installs the browser.
const chromiumPath = "/usr/bin/chromium"

// browser is one headless Chromium with a fresh profile; Ctx runs actions
// in its first tab.
type browser struct {
	t   *testing.T
	Ctx context.Context
}

// newBrowser starts Chromium for the test (scripts/test.sh installs it; a
// missing browser fails the test, it is not skipped). The browser is
// closed when the test ends; timeout bounds everything the test does with
// it. A start that fails is tried again twice: with other tests starting
// browsers and servers on the same two cores, Chromium once failed to
// start ("chrome failed to start") and started at the next try.
func newBrowser(t *testing.T, timeout time.Duration) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("no Chromium at %s: install Debian's chromium (scripts/test.sh does): %v", chromiumPath, err)
	}
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var b *browser
		if b, err = startBrowser(t, timeout); err == nil {
			return b
		}
		t.Logf("start chromium, attempt %d: %v", attempt, err)
	}
	t.Fatalf("start chromium: %v", err)
	return nil
}

func startBrowser(t *testing.T, timeout time.Duration) (*browser, error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Live mode runs timers in a tab nobody looks at.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	stop := func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	}
	// Start the browser now, so a broken install fails here, clearly.
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, err
	}
	t.Cleanup(stop)
	return &browser{t: t, Ctx: ctx}, nil
}

// For returns the browser reporting to t, for subtests that share it.
func (b *browser) For(t *testing.T) *browser { return &browser{t: t, Ctx: b.Ctx} }

// Do runs actions in the browser's tab and fails the test on error,
// saving a screenshot of the moment it failed.
func (b *browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.Screenshot("failed")
		b.t.Fatalf("browser: %v", err)
	}
}

// artifactsDir is where screenshots go: $LOGCASTER_ARTIFACTS, or
// e2e/artifacts (ignored by git) so they outlive the test's temp folders.
func artifactsDir() string {
	if d := os.Getenv("LOGCASTER_ARTIFACTS"); d != "" {
		return d
	}
	return "artifacts"
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Screenshot saves a full-page PNG named after the test and name into the
// artifacts folder and returns its path. A failure to save is logged, not
// fatal: a screenshot is evidence, not the test.
func (b *browser) Screenshot(name string) string {
	b.t.Helper()
	dir := artifactsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("screenshot: %v", err)
		return ""
	}
	// A fresh short deadline: the test's own may be what just ran out.
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(dir, unsafeName.ReplaceAllString(b.t.Name()+"-"+name, "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot: %v", err)
		return ""
	}
	b.t.Logf("screenshot %s", path)
	return path
}

// uiURL is the address of a page of the server's web UI, hash route
// included ("#/search?q=...").
func (s *server) uiURL(hash string) string {
	return "http://" + s.http + "/" + hash
}

// waitJS polls a JavaScript expression in the page until it is truthy, for
// at most d.
func waitJS(expr string, d time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(d))
}

// evalJS evaluates a JavaScript expression in the page and returns its
// value (a promise's, awaited) decoded into T; it fails the test on error.
func evalJS[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.Screenshot("failed")
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}
