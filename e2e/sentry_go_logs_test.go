package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/getsentry/sentry-go/attribute"
)

// TestSentryGoLogs sends structured logs through sentry-go's logger
// (sentry.NewLogger, batched by the SDK's default transport) and checks
// they are stored as ordinary log events of the project's index with
// their exact bodies, levels, attributes and the scope's trace id; and
// that CaptureMessage with the same text but other numbers is one issue.
func TestSentryGoLogs(t *testing.T) {
	s := startServer(t, "")
	dsn := createProject(t, s, "billing", 1)
	const trace = "0af7651916cd43dd8448eb211c80319c"

	// The default transport, not the sync one: logs go through the SDK's
	// batching as they do in an application, and Flush sends them.
	client, err := sentry.NewClient(sentry.ClientOptions{Dsn: dsn, Release: "billing@3.0.0", Environment: "e2e", ServerName: "go-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	hub := sentry.NewHub(client, sentry.NewScope())
	pc, err := sentry.PropagationContextFromHeaders(trace+"-b7ad6b7169203331-1", "")
	if err != nil {
		t.Fatal(err)
	}
	hub.Scope().SetPropagationContext(pc)
	hub.Scope().SetUser(sentry.User{ID: "u-9"})
	ctx := sentry.SetHubOnContext(context.Background(), hub)

	logger := sentry.NewLogger(ctx)
	logger.SetAttributes(attribute.String("component", "invoicer"))
	logger.Info().String("customer", "c-17").Int("items", 3).Emit("invoice created")
	logger.Warn().Float64("ratio", 0.75).Bool("retry", true).Emitf("quota at %d%% for %s", 75, "c-17")
	logger.Error().Emit("invoice upload failed")
	logger.Debug().Emit("cache warm")
	// Same text but for the number: one issue of two events.
	hub.CaptureMessage("cache miss for key 42")
	hub.CaptureMessage("cache miss for key 7")
	if !client.Flush(5 * time.Second) {
		t.Fatal("sentry-go did not flush within 5s")
	}

	got := s.waitIssues("project=billing", 1, 2)
	evs := issueEvents(t, s, got[0].ShortID)
	// The first event to arrive names the issue (newest is listed first).
	if len(evs) != 2 || evs[0].Message+"|"+evs[1].Message != "cache miss for key 7|cache miss for key 42" &&
		evs[0].Message+"|"+evs[1].Message != "cache miss for key 42|cache miss for key 7" {
		t.Fatalf("message events %+v", evs)
	}
	if got[0].Title != evs[1].Message || got[0].LatestTraceID != trace || evs[0].Release != "billing@3.0.0" || evs[0].Level != "info" {
		t.Fatalf("message issue %+v, events %+v", got[0], evs)
	}

	rows := s.waitRows("index:billing", 6)
	logs := map[string]map[string]any{}
	for _, r := range rows {
		if _, ok := r["sentry.event_id"]; !ok {
			logs[fmt.Sprint(r["message"])] = r
		}
	}
	common := map[string]string{
		"trace_id": trace, "component": "invoicer", "user.id": "u-9",
		"sentry.release": "billing@3.0.0", "sentry.environment": "e2e", "sentry.server.address": "go-1", "sentry.sdk.name": "sentry.go",
	}
	want := map[string]map[string]string{
		"invoice created": {"level": "INFO", "customer": "c-17", "items": "3"},
		"quota at 75% for c-17": {"level": "WARN", "ratio": "0.75", "retry": "true",
			"sentry.message.template": "quota at %d%% for %s", "sentry.message.parameters.0": "75", "sentry.message.parameters.1": "c-17"},
		"invoice upload failed": {"level": "ERROR"},
		"cache warm":            {"level": "DEBUG"},
	}
	if len(logs) != len(want) {
		t.Fatalf("logger records %d, want %d: %v", len(logs), len(want), logs)
	}
	for body, fields := range want {
		r, ok := logs[body]
		if !ok {
			t.Fatalf("no log event %q; have %v", body, logs)
		}
		for _, m := range []map[string]string{common, fields} {
			for k, v := range m {
				if fmt.Sprint(r[k]) != v {
					t.Fatalf("log %q: %s = %v, want %q; row %v", body, k, r[k], v, r)
				}
			}
		}
	}
	// The records are searchable as any log is.
	if rows := s.waitRows(`index:billing level:WARN retry:true`, 1); !strings.HasPrefix(fmt.Sprint(rows[0]["message"]), "quota at 75%") {
		t.Fatalf("search: %v", rows)
	}
}
