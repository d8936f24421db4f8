package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

// runTail is `logcaster tail [flags] 'QUERY'`: it follows a server's live
// tail, reconnecting and resuming with Last-Event-ID by itself.
func runTail(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return tailMain(ctx, args, os.Stdout, os.Stderr)
}

// tailBackoff bounds the wait between reconnects: quick enough to follow
// a restarting server, slow enough not to hammer one that is down.
const (
	tailBackoffMin = 500 * time.Millisecond
	tailBackoffMax = 10 * time.Second
)

func tailMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", envOr("LOGCASTER_SERVER", "http://localhost:8080"), "LogCaster server `URL` (env LOGCASTER_SERVER)")
	since := fs.String("since", "", "start with this much history from the store (5m, 1h)")
	asJSON := fs.Bool("json", false, "print each event's NDJSON row unchanged")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: logcaster tail [flags] ['QUERY']\n\nexamples:\n  logcaster tail 'level:ERROR'\n  logcaster tail --since 5m 'service:payment'\n\nflags:\n")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		fs.Usage()
		return errors.New("tail: want at most one QUERY argument (quote it)")
	}
	q := "*"
	if len(pos) == 1 {
		q = pos[0]
	}
	colour := !*asJSON && isTerminal(stdout)
	out := bufio.NewWriter(stdout)
	t := &tailer{server: strings.TrimRight(*server, "/"), q: q, since: *since, out: out, stderr: stderr, colour: colour, json: *asJSON}
	backoff := tailBackoffMin
	for {
		err := t.follow(ctx)
		out.Flush()
		if ctx.Err() != nil {
			return nil
		}
		var fatal *tailFatal
		if errors.As(err, &fatal) {
			return err
		}
		if t.progress {
			backoff = tailBackoffMin
		}
		if err != nil {
			fmt.Fprintf(stderr, "logcaster tail: %v; reconnecting in %v\n", err, backoff)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, tailBackoffMax)
	}
}

// tailFatal is an answer retrying cannot change (a bad query).
type tailFatal struct{ msg string }

func (e *tailFatal) Error() string { return e.msg }

type tailer struct {
	server, q, since string
	out              *bufio.Writer
	stderr           io.Writer
	colour, json     bool
	// cursor is the last event seen, or the resume cursor a notice gave.
	cursor string
	// progress is set when a connection delivered something.
	progress bool
}

// follow runs one connection until it ends; nil means the server ended
// the stream in order (idle, max duration, shutdown) and a reconnect
// resumes it.
func (t *tailer) follow(ctx context.Context) error {
	t.progress = false
	params := url.Values{"q": {t.q}}
	if t.cursor == "" && t.since != "" {
		params.Set("since", t.since)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", t.server+"/api/v1/tail?"+params.Encode(), nil)
	if err != nil {
		return &tailFatal{err.Error()}
	}
	if t.cursor != "" {
		req.Header.Set("Last-Event-ID", t.cursor)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		msg := fmt.Sprintf("server answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
		if resp.StatusCode == http.StatusBadRequest {
			return &tailFatal{msg}
		}
		return errors.New(msg)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var id, typ, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if typ != "" || data != "" {
				if done := t.handle(id, typ, data); done {
					return nil
				}
			}
			id, typ, data = "", "", ""
			t.out.Flush()
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "event:"):
			typ = strings.TrimSpace(line[6:])
		case strings.HasPrefix(line, "data:"):
			data = strings.TrimPrefix(line[5:], " ")
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("stream: %w", err)
	}
	return errors.New("stream closed by the server")
}

// handle acts on one event; done means this connection should be replaced
// by a resumed one.
func (t *tailer) handle(id, typ, data string) (done bool) {
	t.progress = true
	var notice struct {
		Count  int    `json:"count"`
		Resume string `json:"resume_cursor"`
		From   string `json:"from_cursor"`
		To     string `json:"to_cursor"`
		Reason string `json:"reason"`
	}
	switch typ {
	case "log", "":
		if id != "" {
			t.cursor = id
		}
		if t.json {
			t.out.WriteString(data)
			t.out.WriteByte('\n')
			return false
		}
		t.printRow(data)
		return false
	case "dropped":
		_ = json.Unmarshal([]byte(data), &notice)
		fmt.Fprintf(t.stderr, "logcaster tail: %d events did not fit this terminal's buffer; resuming from %s\n", notice.Count, notice.Resume)
		// Reconnect from the cursor: the server replays what was lost
		// from its ring or its store, in order.
		t.cursor = notice.Resume
		return true
	case "gap":
		_ = json.Unmarshal([]byte(data), &notice)
		if notice.To != "" {
			fmt.Fprintf(t.stderr, "logcaster tail: events after %s up to %s are not shown (%s)\n", notice.From, notice.To, notice.Reason)
			// A reconnect from here on need not be told again.
			t.cursor = notice.To
		} else {
			fmt.Fprintf(t.stderr, "logcaster tail: events after %s are not shown (%s)\n", notice.From, notice.Reason)
		}
	case "idle", "end":
		_ = json.Unmarshal([]byte(data), &notice)
		if notice.Resume != "" {
			t.cursor = notice.Resume
		}
		return true
	default:
		fmt.Fprintf(t.stderr, "logcaster tail: %s: %s\n", typ, data)
	}
	return false
}

// printRow prints time, level, index and message, then the other fields.
func (t *tailer) printRow(data string) {
	var row map[string]string
	if err := json.Unmarshal([]byte(data), &row); err != nil {
		t.out.WriteString(data)
		t.out.WriteByte('\n')
		return
	}
	ts := row["timestamp"]
	if tm, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		ts = tm.Local().Format("15:04:05.000")
	}
	level := row["level"]
	if level == "" {
		level = "-"
	}
	lv := fmt.Sprintf("%-5s", level)
	if c, ok := levelColours[level]; ok && t.colour {
		lv = c + lv + "\x1b[0m"
	}
	fmt.Fprintf(t.out, "%s %s [%s] %s", ts, lv, row["index"], row["message"])
	var rest []string
	for k := range row {
		switch k {
		case "timestamp", "level", "index", "message":
		default:
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		fmt.Fprintf(t.out, " %s=%s", k, row[k])
	}
	t.out.WriteByte('\n')
}
