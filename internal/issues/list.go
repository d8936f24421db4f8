package issues

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ListOptions select and order issues.
type ListOptions struct {
	Status  string // "" any
	Project string // "" any
	// Query is a small filter over issue fields: space-separated terms,
	// all of which must match. FIELD:VALUE compares a field (title,
	// culprit, type, level, project, status, short_id, release,
	// environment, server_name; title and culprit by substring, the rest
	// exactly, ignoring case), is:STATUS and is:regressed test the status,
	// NOT or a leading '-' negates a term, and a bare word (or "quoted
	// phrase") must occur in the title or culprit.
	Query string
	Sort  string // last_seen (default), first_seen, count
	Limit int    // 0: 100
}

// maxListLimit bounds one page of issues.
const maxListLimit = 1000

type term struct {
	field, value string
	neg          bool
}

func parseIssueQuery(q string) ([]term, error) {
	var out []term
	neg := false
	for q = strings.TrimSpace(q); q != ""; q = strings.TrimSpace(q) {
		var tok string
		if q[0] == '"' {
			end := strings.IndexByte(q[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unclosed quote in %q", q)
			}
			tok, q = q[:end+2], q[end+2:]
		} else if i := strings.IndexAny(q, " \t"); i >= 0 {
			tok, q = q[:i], q[i:]
		} else {
			tok, q = q, ""
		}
		if tok == "AND" {
			continue
		}
		if tok == "NOT" {
			neg = true
			continue
		}
		t := term{neg: neg}
		neg = false
		if strings.HasPrefix(tok, "-") && len(tok) > 1 {
			t.neg, tok = true, tok[1:]
		}
		if i := strings.IndexByte(tok, ':'); i > 0 && tok[0] != '"' {
			t.field, t.value = strings.ToLower(tok[:i]), tok[i+1:]
		} else {
			t.value = tok
		}
		t.value = strings.ToLower(strings.Trim(t.value, `"`))
		switch t.field {
		case "", "title", "culprit", "type", "level", "project", "status", "short_id", "release", "environment", "server_name", "is":
		default:
			return nil, fmt.Errorf("unknown issue field %q", t.field)
		}
		out = append(out, t)
	}
	return out, nil
}

func (t *term) match(is *issue) bool {
	m := false
	lc := strings.ToLower
	switch t.field {
	case "":
		m = strings.Contains(lc(is.Title), t.value) || strings.Contains(lc(is.Culprit), t.value)
	case "title":
		m = strings.Contains(lc(is.Title), t.value)
	case "culprit":
		m = strings.Contains(lc(is.Culprit), t.value)
	case "type":
		m = lc(is.Type) == t.value
	case "level":
		m = lc(is.Level) == t.value
	case "project":
		m = lc(is.Project) == t.value
	case "status":
		m = is.Status == t.value
	case "is":
		m = is.Status == t.value || t.value == "regressed" && is.Regressed
	case "short_id":
		m = lc(is.ShortID) == t.value
	default:
		for v := range is.Tags[t.field] {
			if lc(v) == t.value {
				m = true
				break
			}
		}
	}
	return m != t.neg
}

// List returns the issues that match, sorted, at most opts.Limit, and how
// many matched in all.
func (t *Tracker) List(opts ListOptions) ([]IssueView, int, error) {
	terms, err := parseIssueQuery(opts.Query)
	if err != nil {
		return nil, 0, err
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, maxListLimit)
	var less func(a, b *issue) bool
	switch opts.Sort {
	case "", "last_seen", "-last_seen":
		less = func(a, b *issue) bool { return a.LastSeen > b.LastSeen }
	case "first_seen":
		less = func(a, b *issue) bool { return a.FirstSeen > b.FirstSeen }
	case "count":
		less = func(a, b *issue) bool { return a.Count > b.Count }
	default:
		return nil, 0, fmt.Errorf("sort %q: want last_seen, first_seen or count", opts.Sort)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	matched := make([]*issue, 0, 256)
next:
	for _, is := range t.byID {
		if opts.Status != "" && is.Status != opts.Status || opts.Project != "" && is.Project != opts.Project {
			continue
		}
		for i := range terms {
			if !terms[i].match(is) {
				continue next
			}
		}
		matched = append(matched, is)
	}
	sort.Slice(matched, func(i, j int) bool {
		a, b := matched[i], matched[j]
		if less(a, b) != less(b, a) {
			return less(a, b)
		}
		return a.ID > b.ID
	})
	total := len(matched)
	if len(matched) > limit {
		matched = matched[:limit]
	}
	now := time.Now()
	out := make([]IssueView, len(matched))
	for i, is := range matched {
		out[i] = is.view(now, false)
	}
	return out, total, nil
}

// Get returns one issue with its tags (id is its number or short id).
func (t *Tracker) Get(id string) (IssueView, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	is := t.lookup(id)
	if is == nil {
		return IssueView{}, ErrNotFound
	}
	return is.view(time.Now(), true), nil
}

// Events returns an issue's kept events, newest first.
func (t *Tracker) Events(id string) ([]*ErrorEvent, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	is := t.lookup(id)
	if is == nil {
		return nil, ErrNotFound
	}
	out := make([]*ErrorEvent, len(is.Events))
	for i, e := range is.Events {
		out[len(out)-1-i] = e
	}
	return out, nil
}

// Event returns one kept event of an issue.
func (t *Tracker) Event(id, eventID string) (*ErrorEvent, error) {
	evs, err := t.Events(id)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		if e.EventID == eventID {
			return e, nil
		}
	}
	return nil, ErrNotFound
}
