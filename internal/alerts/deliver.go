package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/logcaster/logcaster/internal/issues"
)

// Alert is what a rule found; the webhook destination posts it as JSON.
type Alert struct {
	Rule  string            `json:"rule"`
	Kind  string            `json:"kind"`
	State string            `json:"state"` // firing, or resolved for query_threshold
	Time  time.Time         `json:"time"`
	Issue *issues.IssueView `json:"issue,omitempty"`
	Query *QueryResult      `json:"query,omitempty"`
	Link  string            `json:"link,omitempty"`
}

// QueryResult is the evaluation of a query_threshold rule.
type QueryResult struct {
	Query     string  `json:"query"`
	Window    string  `json:"window"`
	Op        string  `json:"op"`
	Threshold float64 `json:"threshold"`
	Value     float64 `json:"value"`
}

// summary is the one line Slack and email show.
func (a *Alert) summary() string {
	var b strings.Builder
	b.WriteString("[LogCaster] ")
	b.WriteString(a.Rule)
	b.WriteString(": ")
	switch {
	case a.Issue != nil:
		b.WriteString(a.Kind)
		b.WriteString(" ")
		b.WriteString(a.Issue.ShortID)
		b.WriteString(" ")
		b.WriteString(a.Issue.Title)
		b.WriteString(" (count ")
		b.WriteString(strconv.FormatInt(a.Issue.Count, 10))
		b.WriteString(")")
	case a.Query != nil:
		b.WriteString(a.State)
		b.WriteString(": ")
		b.WriteString(a.Query.Query)
		b.WriteString(" over ")
		b.WriteString(a.Query.Window)
		b.WriteString(" = ")
		b.WriteString(strconv.FormatFloat(a.Query.Value, 'g', -1, 64))
		b.WriteString(" ")
		b.WriteString(a.Query.Op)
		b.WriteString(" ")
		b.WriteString(strconv.FormatFloat(a.Query.Threshold, 'g', -1, 64))
	}
	return b.String()
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type string     `json:"type"`
	Text *slackText `json:"text,omitempty"`
}

type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

func (a *Alert) slack() slackPayload {
	s := a.summary()
	p := slackPayload{Text: s, Blocks: []slackBlock{{Type: "section", Text: &slackText{Type: "mrkdwn", Text: "*" + s + "*"}}}}
	if a.Link != "" {
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: "<" + a.Link + "|Open in LogCaster>"}})
	}
	return p
}

// send makes one attempt to deliver a to d, bounded by timeout.
func send(ctx context.Context, client *http.Client, d Destination, a *Alert, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch d.Type {
	case DestWebhook:
		return postJSON(ctx, client, d.URL, a)
	case DestSlack:
		return postJSON(ctx, client, d.URL, a.slack())
	case DestEmail:
		return sendMail(ctx, d, a)
	}
	return fmt.Errorf("unknown destination type %q", d.Type)
}

func postJSON(ctx context.Context, client *http.Client, url string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return nil
}

// sendMail speaks SMTP without auth to d.SMTP; the deadline bounds the
// whole conversation so a server that hangs cannot hold the worker.
func sendMail(ctx context.Context, d Destination, a *Alert) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", d.SMTP)
	if err != nil {
		return fmt.Errorf("dial smtp: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(d.SMTP)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer c.Close()
	if err := c.Mail(d.From); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	for _, to := range d.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("smtp rcpt %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	subject := a.summary()
	var msg strings.Builder
	msg.WriteString("From: " + d.From + "\r\n")
	msg.WriteString("To: " + strings.Join(d.To, ", ") + "\r\n")
	msg.WriteString("Subject: " + strings.NewReplacer("\r", " ", "\n", " ").Replace(subject) + "\r\n")
	msg.WriteString("Date: " + a.Time.Format(time.RFC1123Z) + "\r\n")
	msg.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
	msg.WriteString(subject + "\r\n")
	if a.Link != "" {
		msg.WriteString("\r\n" + a.Link + "\r\n")
	}
	if _, err := io.WriteString(w, msg.String()); err != nil {
		return fmt.Errorf("smtp body: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	return c.Quit()
}
