package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/logcaster/logcaster/internal/query"
)

// Rule kinds.
const (
	KindNewIssue       = "new_issue"
	KindRegression     = "regression"
	KindIssueFrequency = "issue_frequency"
	KindQueryThreshold = "query_threshold"
)

// Destination types.
const (
	DestWebhook = "webhook"
	DestSlack   = "slack"
	DestEmail   = "email"
)

// Duration is a time.Duration written as text ("30s", "5m", "1d") in YAML
// and JSON.
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "5m" (or a number of seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return fmt.Errorf("duration: %w", err)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	return d.set(s)
}

// UnmarshalYAML reads "5m" (or a number of seconds).
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if secs, err := strconv.ParseFloat(n.Value, 64); err == nil {
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	return d.set(n.Value)
}

func (d *Duration) set(s string) error {
	v, err := query.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// Destination is where an alert goes.
type Destination struct {
	// Type is webhook (generic JSON), slack (incoming webhook payload) or
	// email.
	Type string `yaml:"type" json:"type"`
	// URL receives the POST of webhook and slack.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// SMTP is the mail server's host:port for email; From and To the
	// envelope and header addresses.
	SMTP string   `yaml:"smtp,omitempty" json:"smtp,omitempty"`
	From string   `yaml:"from,omitempty" json:"from,omitempty"`
	To   []string `yaml:"to,omitempty" json:"to,omitempty"`
}

func (d Destination) target() string {
	if d.Type == DestEmail {
		return d.SMTP
	}
	return d.URL
}

// Rule says when to alert and where.
type Rule struct {
	Name string `yaml:"name" json:"name"`
	Kind string `yaml:"kind" json:"kind"`
	// Project limits the issue kinds to one project; empty: all.
	Project string `yaml:"project,omitempty" json:"project,omitempty"`
	// Count (issue_frequency): alert when an issue gets more than Count
	// events within Window, timed as the tracker records them (a burst of
	// old events sent late counts as a burst now).
	Count int64 `yaml:"count,omitempty" json:"count,omitempty"`
	// Window is the span issue_frequency counts and query_threshold queries.
	Window Duration `yaml:"window,omitempty" json:"window,omitempty"`
	// Query (query_threshold) is a query with a stats pipe; its first
	// row's last numeric field is compared with Threshold by Op (">" or "<").
	Query     string  `yaml:"query,omitempty" json:"query,omitempty"`
	Op        string  `yaml:"op,omitempty" json:"op,omitempty"`
	Threshold float64 `yaml:"threshold,omitempty" json:"threshold,omitempty"`
	// Cooldown is the least time between two alerts of this rule for one
	// issue; 0: Options.Cooldown.
	Cooldown     Duration      `yaml:"cooldown,omitempty" json:"cooldown,omitempty"`
	Destinations []Destination `yaml:"destinations" json:"destinations"`

	q *query.Query // parsed Query
}

// Validate reports a rule that cannot work, and parses its query.
func (r *Rule) Validate() error {
	if r.Name == "" {
		return errors.New("alert rule: name is empty")
	}
	switch r.Kind {
	case KindNewIssue, KindRegression:
	case KindIssueFrequency:
		if r.Count <= 0 || r.Window <= 0 {
			return fmt.Errorf("alert rule %q: issue_frequency needs count > 0 and a window", r.Name)
		}
	case KindQueryThreshold:
		if r.Window <= 0 || (r.Op != ">" && r.Op != "<") {
			return fmt.Errorf("alert rule %q: query_threshold needs a window and op > or <", r.Name)
		}
		q, err := query.Parse(r.Query)
		if err != nil {
			return fmt.Errorf("alert rule %q: query: %w", r.Name, err)
		}
		r.q = q
	default:
		return fmt.Errorf("alert rule %q: kind %q: want new_issue, regression, issue_frequency or query_threshold", r.Name, r.Kind)
	}
	if len(r.Destinations) == 0 {
		return fmt.Errorf("alert rule %q: no destinations", r.Name)
	}
	for _, d := range r.Destinations {
		switch {
		case (d.Type == DestWebhook || d.Type == DestSlack) && d.URL != "":
		case d.Type == DestEmail && d.SMTP != "" && d.From != "" && len(d.To) > 0:
		default:
			return fmt.Errorf("alert rule %q: destination %q: webhook and slack need url, email needs smtp, from and to", r.Name, d.Type)
		}
	}
	return nil
}

// rulesFile is the YAML file of --alerts.rules.
type rulesFile struct {
	Alerts []Rule `yaml:"alerts"`
}

// LoadRules reads a YAML file with a list of rules under "alerts:".
func LoadRules(path string) ([]Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read alert rules: %w", err)
	}
	return ParseRules(data)
}

// ParseRules decodes and validates the YAML of a rules file.
func ParseRules(data []byte) ([]Rule, error) {
	var f rulesFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decode alert rules: %w", err)
	}
	seen := map[string]bool{}
	for i := range f.Alerts {
		if err := f.Alerts[i].Validate(); err != nil {
			return nil, err
		}
		if seen[f.Alerts[i].Name] {
			return nil, fmt.Errorf("alert rule %q: name used twice", f.Alerts[i].Name)
		}
		seen[f.Alerts[i].Name] = true
	}
	return f.Alerts, nil
}
