package sentry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/logcaster/logcaster/internal/issues"
)

// sentryEvent is the part of Sentry's event payload LogCaster uses. Fields
// the SDKs send in more than one shape are json.RawMessage.
type sentryEvent struct {
	EventID     string          `json:"event_id"`
	Timestamp   json.RawMessage `json:"timestamp"`
	Level       string          `json:"level"`
	Message     json.RawMessage `json:"message"`
	LogEntry    *logEntry       `json:"logentry"`
	Exception   json.RawMessage `json:"exception"`
	Fingerprint []string        `json:"fingerprint"`
	Release     string          `json:"release"`
	Environment string          `json:"environment"`
	ServerName  string          `json:"server_name"`
	Platform    string          `json:"platform"`
	Logger      string          `json:"logger"`
	User        *struct {
		ID        json.RawMessage `json:"id"`
		IPAddress string          `json:"ip_address"`
	} `json:"user"`
	Tags     json.RawMessage `json:"tags"`
	Contexts struct {
		Trace struct {
			TraceID string `json:"trace_id"`
		} `json:"trace"`
	} `json:"contexts"`
}

type logEntry struct {
	Formatted string `json:"formatted"`
	Message   string `json:"message"`
}

type sentryException struct {
	Type       string `json:"type"`
	Value      string `json:"value"`
	Module     string `json:"module"`
	Stacktrace *struct {
		Frames []sentryFrame `json:"frames"`
	} `json:"stacktrace"`
}

type sentryFrame struct {
	Filename string `json:"filename"`
	AbsPath  string `json:"abs_path"`
	Function string `json:"function"`
	Module   string `json:"module"`
	Package  string `json:"package"`
	Lineno   int    `json:"lineno"`
	InApp    *bool  `json:"in_app"`
}

// ParseEvent decodes a Sentry event payload into an error event of
// project; now is the time used when the event carries none.
func ParseEvent(payload []byte, project string, now time.Time) (*issues.ErrorEvent, error) {
	var s sentryEvent
	if err := json.Unmarshal(payload, &s); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	e := &issues.ErrorEvent{
		EventID: strings.ReplaceAll(s.EventID, "-", ""), Project: project, Level: normLevel(s.Level),
		Fingerprint: s.Fingerprint, Release: s.Release, Environment: s.Environment, ServerName: s.ServerName,
		Platform: s.Platform, Logger: s.Logger, TraceID: s.Contexts.Trace.TraceID,
	}
	if e.EventID == "" {
		e.EventID = newID()
	}
	e.Time = parseTimestamp(s.Timestamp, now)
	e.Timestamp = time.Unix(0, e.Time).UTC().Format(time.RFC3339Nano)
	e.Message = messageOf(s.Message)
	if e.Message == "" && s.LogEntry != nil {
		e.Message = s.LogEntry.Formatted
		if e.Message == "" {
			e.Message = s.LogEntry.Message
		}
	}
	if s.User != nil {
		e.UserID = rawString(s.User.ID)
		e.UserIP = s.User.IPAddress
	}
	e.Tags = parseTags(s.Tags)
	exs, err := parseExceptions(s.Exception)
	if err != nil {
		return nil, err
	}
	e.Exceptions = exs
	return e, nil
}

// parseExceptions accepts {"values": [...]} and a bare array.
func parseExceptions(raw json.RawMessage) ([]issues.Exception, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []sentryException
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("decode exception: %w", err)
		}
	} else {
		var wrap struct {
			Values []sentryException `json:"values"`
		}
		if err := json.Unmarshal(raw, &wrap); err != nil {
			return nil, fmt.Errorf("decode exception: %w", err)
		}
		list = wrap.Values
	}
	out := make([]issues.Exception, 0, len(list))
	for _, se := range list {
		ex := issues.Exception{Type: se.Type, Value: se.Value, Module: se.Module}
		if se.Stacktrace != nil {
			for _, f := range se.Stacktrace.Frames {
				fr := issues.Frame{Module: f.Module, Function: f.Function, File: f.Filename, Line: f.Lineno}
				if fr.Module == "" {
					fr.Module = f.Package
				}
				if fr.File == "" {
					fr.File = f.AbsPath
				}
				if f.InApp != nil {
					fr.InApp = *f.InApp
				}
				ex.Frames = append(ex.Frames, fr)
			}
		}
		out = append(out, ex)
	}
	return out, nil
}

// messageOf reads "message" as a string or as {"formatted", "message"}.
func messageOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return rawString(raw)
	}
	var le logEntry
	if json.Unmarshal(raw, &le) == nil {
		if le.Formatted != "" {
			return le.Formatted
		}
		return le.Message
	}
	return ""
}

// rawString reads a JSON string or number as a string.
func rawString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	return string(raw)
}

// parseTags reads tags as an object or as an array of [key, value] pairs.
func parseTags(raw json.RawMessage) map[string]string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	out := map[string]string{}
	if raw[0] == '[' {
		var pairs [][]json.RawMessage
		if json.Unmarshal(raw, &pairs) == nil {
			for _, p := range pairs {
				if len(p) == 2 {
					out[rawString(p[0])] = rawString(p[1])
				}
			}
		}
	} else {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			for k, v := range m {
				out[k] = rawString(v)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// parseTimestamp reads RFC 3339 strings and float seconds.
func parseTimestamp(raw json.RawMessage, now time.Time) int64 {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return now.UnixNano()
	}
	if raw[0] == '"' {
		s := rawString(raw)
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UnixNano()
			}
		}
		raw = []byte(s)
	}
	if ns, ok := secondsToNs(string(raw)); ok {
		return ns
	}
	return now.UnixNano()
}

// secondsToNs reads "1763800000.25" exactly: a float64 would round the
// nanoseconds (1763800000.25 * 1e9 is ...249999872).
func secondsToNs(s string) (int64, bool) {
	intPart, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || sec <= 0 || sec >= 1e11 {
		return 0, false
	}
	var ns int64
	for i, scale := 0, int64(1e8); i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if scale > 0 {
			ns += int64(c-'0') * scale
			scale /= 10
		}
	}
	return sec*1e9 + ns, true
}

// normLevel maps Sentry's levels (debug, info, warning, error, fatal) to
// the lower-case form issues show; "" is error, as in Sentry.
func normLevel(s string) string {
	switch strings.ToLower(s) {
	case "":
		return "error"
	case "warn":
		return "warning"
	}
	return strings.ToLower(s)
}
