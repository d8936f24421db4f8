package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/query"
	"github.com/logcaster/logcaster/internal/store"
)

type memScanner []*store.MemBlock

func (m memScanner) Scan(ctx context.Context, opts store.ScanOptions, fn func(store.Block) error) error {
	for _, b := range m {
		if err := fn(b); err != nil {
			if err == store.ErrStopScan {
				return nil
			}
			return err
		}
	}
	return nil
}

func TestQueryCommand(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	evs := []event.Event{ // sorted by time, as a block's rows are
		{Time: now.Add(-2 * time.Hour).UnixNano(), Index: "app", Level: "ERROR", Message: "old payment failure",
			Fields: []event.Field{{Name: "service", Value: "payment"}}},
		{Time: now.Add(-3 * time.Minute).UnixNano(), Index: "app", Level: "ERROR", Message: "payment failed: card declined",
			Fields: []event.Field{{Name: "service", Value: "payment"}}},
		{Time: now.Add(-2 * time.Minute).UnixNano(), Index: "app", Level: "INFO", Message: "payment ok " + strings.Repeat("x", 300),
			Fields: []event.Field{{Name: "service", Value: "payment"}}},
	}
	srv := httptest.NewServer(query.NewHandler(memScanner{store.NewMemBlock(evs)}, query.DefaultHandlerOptions()))
	defer srv.Close()
	t.Setenv("COLUMNS", "80")

	var out, errb bytes.Buffer
	if err := queryMain([]string{"--server", srv.URL, "payment"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 { // the 2-hour-old event is outside the default --since 1h
		t.Fatalf("got %d lines:\n%s", len(lines), out.String())
	}
	wantFirst := now.Add(-2*time.Minute).Format("2006-01-02 15:04:05.000") + " INFO  payment          payment ok x"
	if !strings.HasPrefix(lines[0], wantFirst) || len([]rune(lines[0])) != 80 || !strings.HasSuffix(lines[0], "…") {
		t.Errorf("line 0 = %q", lines[0])
	}
	if !strings.Contains(lines[1], "ERROR payment          payment failed: card declined") {
		t.Errorf("line 1 = %q", lines[1])
	}

	out.Reset()
	if err := queryMain([]string{"--server", srv.URL, "--since", "3h", "--json", "level:ERROR"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 2 || !strings.HasPrefix(out.String(), `{"timestamp":`) {
		t.Errorf("--json output:\n%s", out.String())
	}

	out.Reset()
	if err := queryMain([]string{"--server", srv.URL, "--since", "3h", "* | stats count() as n by (level)"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "level  n\nERROR  2\nINFO   1\n" {
		t.Errorf("stats output %q", got)
	}

	// Flags after the query, as the README's quick start writes them; a
	// query that starts with '-' after "--".
	for _, args := range [][]string{
		{"level:ERROR", "--since", "3h", "--server", srv.URL, "--json"},
		{"--server", srv.URL, "--since", "3h", "--json", "--", "-level:INFO"},
	} {
		out.Reset()
		if err := queryMain(args, &out, &errb); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if n := strings.Count(out.String(), `"level":"ERROR"`); n != 2 || strings.Count(out.String(), "\n") != 2 {
			t.Errorf("%q: output\n%s", args, out.String())
		}
	}

	err := queryMain([]string{"--server", srv.URL, "level:ERROR AND )"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), `unexpected ")" at column 17: expected a filter`) {
		t.Errorf("bad query: err = %v", err)
	}
	if err := queryMain([]string{"--server", srv.URL}, &out, &errb); err == nil {
		t.Error("no query: no error")
	}
}

// TestTableFits: stats columns are aligned and shrunk to the width, the
// widest first, cut values marked with an ellipsis.
func TestTableFits(t *testing.T) {
	in := `{"host":"web-1","path":"/api/v1/orders/12345/items?expand=all","count()":"12"}
{"host":"db-primary-0","path":"/","count()":"7"}
`
	var out strings.Builder
	if err := printTable(strings.NewReader(in), &out, 40, false); err != nil {
		t.Fatal(err)
	}
	want := "host          path               count()\n" +
		"web-1         /api/v1/orders/1…  12\n" +
		"db-primary-0  /                  7\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if n := len([]rune(l)); n > 40 {
			t.Errorf("line of %d characters: %q", n, l)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, c := range []struct {
		args  []string
		pos   string
		since string
		json  bool
	}{
		{[]string{"q"}, "[q]", "", false},
		{[]string{"--since", "1h", "q"}, "[q]", "1h", false},
		{[]string{"q", "--since", "1h", "--json"}, "[q]", "1h", true},
		{[]string{"a", "--json", "b"}, "[a b]", "", true},
		{[]string{"--json", "--", "-x", "--since"}, "[-x --since]", "", true},
		{[]string{"a", "--", "--json"}, "[a --json]", "", false},
		{nil, "[]", "", false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		since := fs.String("since", "", "")
		asJSON := fs.Bool("json", false, "")
		pos, err := parseInterspersed(fs, c.args)
		if err != nil || fmt.Sprint(pos) != c.pos || *since != c.since || *asJSON != c.json {
			t.Errorf("%q: %v since %q json %v, err %v; want %s %q %v", c.args, pos, *since, *asJSON, err, c.pos, c.since, c.json)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := parseInterspersed(fs, []string{"q", "--nope"}); err == nil {
		t.Error("an unknown flag after the query is accepted")
	}
}
