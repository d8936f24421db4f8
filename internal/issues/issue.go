package issues

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Issue statuses.
const (
	StatusUnresolved = "unresolved"
	StatusResolved   = "resolved"
	StatusIgnored    = "ignored"
)

// sparkHours is how many hours of counts an issue keeps for its sparkline.
const sparkHours = 48

// issue is the tracker's state of one issue. Every field is exported to
// the snapshot through its JSON tags; the API shows an IssueView.
type issue struct {
	ID          int64  `json:"id"`
	ShortID     string `json:"short_id"`
	Project     string `json:"project"`
	Fingerprint string `json:"fingerprint"`
	Title       string `json:"title"`
	Culprit     string `json:"culprit"`
	Type        string `json:"type"`
	Level       string `json:"level"`
	FirstSeen   int64  `json:"first_seen"`
	LastSeen    int64  `json:"last_seen"`
	Count       int64  `json:"count"`

	// Users is an exact set capped at Options.MaxUsers: past the cap the
	// count stops growing and UsersCapped says it is a lower bound.
	Users       map[string]struct{} `json:"users"`
	UsersCapped bool                `json:"users_capped"`

	// Hours[i] is the count of hour HourOf[i] (unix hours), i = hour % sparkHours.
	Hours  [sparkHours]int64 `json:"hours"`
	HourOf [sparkHours]int64 `json:"hour_of"`

	// Tags counts values per tag key, at most Options.MaxTagValues values
	// each (later new values are counted under "other").
	Tags map[string]map[string]int64 `json:"tags"`

	Status          string `json:"status"`
	InNextRelease   bool   `json:"in_next_release,omitempty"`
	ResolvedRelease string `json:"resolved_release,omitempty"`
	IgnoreUntil     int64  `json:"ignore_until,omitempty"` // count at which an ignored issue wakes up; 0 forever
	Regressed       bool   `json:"regressed,omitempty"`
	Regressions     int64  `json:"regressions,omitempty"`
	LastRelease     string `json:"last_release,omitempty"`

	// Events are the newest events, oldest first, at most Options.EventsPerIssue.
	Events []*ErrorEvent `json:"events"`
}

// IssueView is an issue as the API shows it.
type IssueView struct {
	ID              string              `json:"id"`
	ShortID         string              `json:"short_id"`
	Project         string              `json:"project"`
	Title           string              `json:"title"`
	Culprit         string              `json:"culprit"`
	Type            string              `json:"type,omitempty"`
	Level           string              `json:"level"`
	Status          string              `json:"status"`
	InNextRelease   bool                `json:"in_next_release,omitempty"`
	IgnoreUntil     int64               `json:"ignore_until_count,omitempty"`
	Regressed       bool                `json:"regressed"`
	FirstSeen       string              `json:"first_seen"`
	LastSeen        string              `json:"last_seen"`
	Count           int64               `json:"count"`
	Users           int                 `json:"user_count"`
	UsersCapped     bool                `json:"user_count_capped,omitempty"`
	Fingerprint     string              `json:"fingerprint"`
	Hourly          []int64             `json:"hourly,omitempty"` // last 24 h, oldest first
	Tags            map[string][]TagTop `json:"tags,omitempty"`
	LatestEventID   string              `json:"latest_event_id,omitempty"`
	LatestTraceID   string              `json:"latest_trace_id,omitempty"`
	RegressionCount int64               `json:"regressions,omitempty"`
}

// TagTop is one value of a tag and how often it was seen.
type TagTop struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// maxTagTop is how many values of a tag the detail view lists.
const maxTagTop = 10

func formatNs(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

func (is *issue) view(now time.Time, detail bool) IssueView {
	v := IssueView{
		ID: strconv.FormatInt(is.ID, 10), ShortID: is.ShortID, Project: is.Project, Title: is.Title,
		Culprit: is.Culprit, Type: is.Type, Level: is.Level, Status: is.Status, InNextRelease: is.InNextRelease,
		IgnoreUntil: is.IgnoreUntil, Regressed: is.Regressed, FirstSeen: formatNs(is.FirstSeen),
		LastSeen: formatNs(is.LastSeen), Count: is.Count, Users: len(is.Users), UsersCapped: is.UsersCapped,
		Fingerprint: is.Fingerprint, RegressionCount: is.Regressions,
	}
	if n := len(is.Events); n > 0 {
		v.LatestEventID = is.Events[n-1].EventID
		v.LatestTraceID = is.Events[n-1].TraceID
	}
	nowH := now.Unix() / 3600
	v.Hourly = make([]int64, 24)
	for k := 0; k < 24; k++ {
		h := nowH - 23 + int64(k)
		if i := h % sparkHours; is.HourOf[i] == h {
			v.Hourly[k] = is.Hours[i]
		}
	}
	if detail {
		v.Tags = make(map[string][]TagTop, len(is.Tags))
		for k, vals := range is.Tags {
			top := make([]TagTop, 0, len(vals))
			for val, c := range vals {
				top = append(top, TagTop{val, c})
			}
			sort.Slice(top, func(a, b int) bool {
				if top[a].Count != top[b].Count {
					return top[a].Count > top[b].Count
				}
				return top[a].Value < top[b].Value
			})
			if len(top) > maxTagTop {
				top = top[:maxTagTop]
			}
			v.Tags[k] = top
		}
	}
	return v
}

// titleAndCulprit names an issue as Sentry does: "Type: value" of the
// raised exception (or the message), and the top in-app frame.
func titleAndCulprit(e *ErrorEvent) (title, culprit, typ string) {
	if ex := e.mainException(); ex != nil {
		typ = ex.Type
		title = ex.Type
		if ex.Value != "" {
			if title != "" {
				title += ": "
			}
			title += firstLine(ex.Value)
		}
		for i := len(e.Exceptions) - 1; i >= 0 && culprit == ""; i-- {
			fs := e.Exceptions[i].Frames
			for j := len(fs) - 1; j >= 0; j-- {
				if fs[j].InApp {
					culprit = frameName(&fs[j])
					break
				}
			}
		}
		if culprit == "" && len(ex.Frames) > 0 {
			culprit = frameName(&ex.Frames[len(ex.Frames)-1])
		}
	}
	if title == "" {
		title = firstLine(e.Message)
	}
	if title == "" {
		title = "<unlabeled event>"
	}
	if len(title) > maxTitleLen {
		title = title[:maxTitleLen]
	}
	return title, culprit, typ
}

// maxTitleLen keeps a title to what fits a list row.
const maxTitleLen = 200

func frameName(f *Frame) string {
	switch {
	case f.Module != "" && f.Function != "":
		return f.Module + " in " + f.Function
	case f.Function != "":
		return f.Function
	}
	return f.File
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
