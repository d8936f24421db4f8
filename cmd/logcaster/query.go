package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// queryDefaultSince is how far back `logcaster query` looks without
// --since or --from: an hour rather than 15 minutes, because a person
// running a query by hand is usually looking for something that happened
// "a little while ago", and an hour of an indexed store is still fast.
const queryDefaultSince = "1h"

// queryDefaultWidth is the table width when the terminal's is unknown.
const queryDefaultWidth = 120

// runQuery is `logcaster query [flags] 'QUERY'`.
func runQuery(args []string) error {
	return queryMain(args, os.Stdout, os.Stderr)
}

func queryMain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", envOr("LOGCASTER_SERVER", "http://localhost:8080"), "LogCaster server `URL` (env LOGCASTER_SERVER)")
	since := fs.String("since", queryDefaultSince, "look back this far (15m, 1h, 7d); ignored with --from")
	from := fs.String("from", "", "start `time`, RFC 3339 or relative (2h)")
	to := fs.String("to", "", "end `time`, RFC 3339 or relative; default now")
	limit := fs.Int("limit", 100, "at most this many rows")
	asJSON := fs.Bool("json", false, "print the server's NDJSON unchanged")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: logcaster query [flags] 'QUERY'\n\nexamples:\n  logcaster query 'level:ERROR service:payment'\n  logcaster query --since 24h '* | stats count() by (level)'\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("query: want exactly one QUERY argument (quote it)")
	}
	params := url.Values{"q": {fs.Arg(0)}, "limit": {strconv.Itoa(*limit)}}
	if *from != "" {
		params.Set("start", *from)
	} else if *since != "" {
		params.Set("start", *since)
	}
	if *to != "" {
		params.Set("end", *to)
	}
	u := strings.TrimRight(*server, "/") + "/api/v1/query?" + params.Encode()
	resp, err := http.Get(u)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("query: %s", e.Error)
		}
		return fmt.Errorf("query: server answered %s", resp.Status)
	}
	if *asJSON {
		_, err := io.Copy(stdout, resp.Body)
		return err
	}
	return printTable(resp.Body, stdout, terminalWidth(), isTerminal(stdout))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// terminalWidth reads COLUMNS, as shells export it, falling back to 120.
func terminalWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	return queryDefaultWidth
}

// isTerminal reports whether w is a character device (colour only then).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == ""
}

var levelColours = map[string]string{
	"FATAL": "\x1b[1;31m", "ERROR": "\x1b[31m", "WARN": "\x1b[33m",
	"INFO": "\x1b[32m", "DEBUG": "\x1b[36m", "TRACE": "\x1b[90m",
}

// printTable prints events as time, level, source and message, cut to the
// width; rows without a timestamp (stats) as columns of their fields.
func printTable(r io.Reader, w io.Writer, width int, colour bool) error {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var header []string
	for sc.Scan() {
		var row map[string]any
		d := json.NewDecoder(strings.NewReader(sc.Text()))
		d.UseNumber()
		if err := d.Decode(&row); err != nil {
			return fmt.Errorf("query: bad line from server: %w", err)
		}
		if e, ok := row["error"]; ok && len(row) == 1 {
			bw.Flush()
			return fmt.Errorf("query: %v", e)
		}
		if ts, ok := row["timestamp"].(string); ok {
			printEvent(bw, row, ts, width, colour)
			continue
		}
		// A stats row: print the field names once, then values in order.
		if header == nil {
			header = orderedKeys(sc.Text())
			fmt.Fprintln(bw, strings.Join(header, "\t"))
		}
		vals := make([]string, len(header))
		for i, k := range header {
			vals[i] = fmt.Sprint(row[k])
			if row[k] == nil {
				vals[i] = ""
			}
		}
		fmt.Fprintln(bw, strings.Join(vals, "\t"))
	}
	return sc.Err()
}

func printEvent(w io.Writer, row map[string]any, ts string, width int, colour bool) {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err == nil {
		ts = t.UTC().Format("2006-01-02 15:04:05.000")
	}
	level, _ := row["level"].(string)
	src, _ := row["service"].(string)
	if src == "" {
		src, _ = row["index"].(string)
	}
	msg, _ := row["message"].(string)
	msg = strings.Join(strings.Fields(msg), " ")
	src = cut(src, 16)
	lv := fmt.Sprintf("%-5s", level)
	if c, ok := levelColours[level]; ok && colour {
		lv = c + lv + "\x1b[0m"
	}
	prefix := len(ts) + 1 + 5 + 1 + 16 + 1
	fmt.Fprintf(w, "%s %s %-16s %s\n", ts, lv, src, cut(msg, width-prefix))
}

// cut shortens s to n characters, marking the cut with an ellipsis.
func cut(s string, n int) string {
	if n < 1 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// orderedKeys returns the keys of a JSON object in the order they appear.
func orderedKeys(line string) []string {
	d := json.NewDecoder(strings.NewReader(line))
	var keys []string
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			break
		}
		keys = append(keys, t.(string))
		var v json.RawMessage
		if d.Decode(&v) != nil {
			break
		}
	}
	return keys
}
