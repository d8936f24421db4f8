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
	"syscall"
	"time"
	"unicode/utf8"
	"unsafe"
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
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errors.New("query: want exactly one QUERY argument (quote it)")
	}
	params := url.Values{"q": {pos[0]}, "limit": {strconv.Itoa(*limit)}}
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

// parseInterspersed parses fs's flags wherever they stand among args, as
// users of logcli and kubectl expect (`logcaster query 'level:ERROR'
// --since 1h`), and returns the other arguments in order; the flag
// package alone stops at the first of them. After "--" every argument is
// positional (a query that starts with '-').
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// terminalWidth reads COLUMNS, as shells export it, then asks the
// terminal on stdout, falling back to 120.
func terminalWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	var ws struct{ rows, cols, x, y uint16 }
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, os.Stdout.Fd(), syscall.TIOCGWINSZ, uintptr(unsafe.Pointer(&ws)))
	if errno == 0 && ws.cols >= 40 {
		return int(ws.cols)
	}
	return queryDefaultWidth
}

// maxTableRows is how many stats rows are held to size the columns; more
// are printed in chunks of this many, each sized on its own.
const maxTableRows = 1000

// table prints rows as aligned columns that fit a width: columns are
// shrunk, widest first, and cut values end in an ellipsis.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) flush(w io.Writer, width int) {
	if len(t.rows) == 0 {
		return
	}
	n := len(t.header)
	widths := make([]int, n)
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, v := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(v))
		}
	}
	// Two spaces between columns; shrink the widest column until it fits
	// (but no column below 4, so something of each stays readable).
	for {
		total := 2 * (n - 1)
		widest := 0
		for i, c := range widths {
			total += c
			if c > widths[widest] {
				widest = i
			}
		}
		if total <= width || widths[widest] <= 4 {
			break
		}
		widths[widest] = max(4, widths[widest]-(total-width))
	}
	line := func(vals []string) {
		var b strings.Builder
		for i, v := range vals {
			v = cut(v, widths[i])
			b.WriteString(v)
			if i < n-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t.header)
	for _, r := range t.rows {
		line(r)
	}
	t.rows = t.rows[:0]
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
	var tab table
	defer func() { tab.flush(bw, width) }()
	for sc.Scan() {
		var row map[string]any
		d := json.NewDecoder(strings.NewReader(sc.Text()))
		d.UseNumber()
		if err := d.Decode(&row); err != nil {
			return fmt.Errorf("query: bad line from server: %w", err)
		}
		if e, ok := row["error"]; ok && len(row) == 1 {
			tab.flush(bw, width)
			bw.Flush()
			return fmt.Errorf("query: %v", e)
		}
		if ts, ok := row["timestamp"].(string); ok {
			printEvent(bw, row, ts, width, colour)
			continue
		}
		// A stats row: columns named by the first row's fields, in order.
		if tab.header == nil {
			tab.header = orderedKeys(sc.Text())
		}
		vals := make([]string, len(tab.header))
		for i, k := range tab.header {
			if row[k] != nil {
				vals[i] = strings.Join(strings.Fields(fmt.Sprint(row[k])), " ")
			}
		}
		tab.rows = append(tab.rows, vals)
		if len(tab.rows) == maxTableRows {
			tab.flush(bw, width)
		}
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
