package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// runIssues lists a server's issues in a terminal table, or shows one.
func runIssues(args []string) error {
	fs := flag.NewFlagSet("issues", flag.ContinueOnError)
	server := fs.String("server", envOr("LOGCASTER_SERVER", "http://localhost:8080"), "server URL")
	status := fs.String("status", "unresolved", "unresolved, resolved, ignored, or empty for all")
	project := fs.String("project", "", "only this project")
	q := fs.String("q", "", "filter over issue fields (title:, culprit:, level:, release:, is:regressed, words)")
	sortBy := fs.String("sort", "last_seen", "last_seen, first_seen or count")
	limit := fs.Int("limit", 50, "most issues listed")
	asJSON := fs.Bool("json", false, "print the server's JSON")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: logcaster issues [flags] [ISSUE-ID]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	base := strings.TrimRight(*server, "/")
	if fs.NArg() == 1 {
		body, err := httpGet(base + "/api/v1/issues/" + url.PathEscape(fs.Arg(0)))
		if err != nil {
			return err
		}
		var out bytes.Buffer
		json.Indent(&out, body, "", "  ")
		_, err = os.Stdout.Write(out.Bytes())
		return err
	}
	v := url.Values{"status": {*status}, "project": {*project}, "q": {*q}, "sort": {*sortBy}, "limit": {fmt.Sprint(*limit)}}
	body, err := httpGet(base + "/api/v1/issues?" + v.Encode())
	if err != nil {
		return err
	}
	if *asJSON {
		_, err = os.Stdout.Write(body)
		return err
	}
	var ans struct {
		Issues []struct {
			ShortID   string  `json:"short_id"`
			Title     string  `json:"title"`
			Culprit   string  `json:"culprit"`
			Status    string  `json:"status"`
			Regressed bool    `json:"regressed"`
			Count     int64   `json:"count"`
			Users     int     `json:"user_count"`
			LastSeen  string  `json:"last_seen"`
			Hourly    []int64 `json:"hourly"`
		} `json:"issues"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tEVENTS\tUSERS\tLAST SEEN\tLAST 24H\tTITLE")
	for _, is := range ans.Issues {
		st := is.Status
		if is.Regressed {
			st += " (regressed)"
		}
		title := is.Title
		if is.Culprit != "" {
			title += "  — " + is.Culprit
		}
		if len(title) > 100 {
			title = title[:97] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", is.ShortID, st, is.Count, is.Users, ago(is.LastSeen), sparkline(is.Hourly), title)
	}
	tw.Flush()
	fmt.Printf("%d of %d issues\n", len(ans.Issues), ans.Total)
	return nil
}

// runProject handles "logcaster project create NAME".
func runProject(args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: logcaster project create NAME [--server URL]")
	}
	fs := flag.NewFlagSet("project create", flag.ContinueOnError)
	server := fs.String("server", envOr("LOGCASTER_SERVER", "http://localhost:8080"), "server URL")
	// Accept the name before or after the flags.
	rest := args[1:]
	name := ""
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	if name == "" {
		return fmt.Errorf("usage: logcaster project create NAME [--server URL]")
	}
	payload, _ := json.Marshal(map[string]string{"name": name})
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(strings.TrimRight(*server, "/")+"/api/v1/projects", "application/json", bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("cannot reach server at %s: %w", *server, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var p struct {
		DSN string `json:"dsn"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	fmt.Println(p.DSN)
	return nil
}

func httpGet(u string) ([]byte, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		return nil, fmt.Errorf("cannot reach server: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

func ago(rfc string) string {
	t, err := time.Parse(time.RFC3339Nano, rfc)
	if err != nil {
		return rfc
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return t.Format("2006-01-02")
}

// sparkline draws counts with the eight block heights.
func sparkline(counts []int64) string {
	const bars = "▁▂▃▄▅▆▇█"
	var max int64
	for _, c := range counts {
		max = maxInt64(max, c)
	}
	var b strings.Builder
	for _, c := range counts {
		if c == 0 {
			b.WriteRune(' ')
			continue
		}
		i := int(c * 7 / max)
		b.WriteRune([]rune(bars)[i])
	}
	return b.String()
}

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
