package sentry

// The encoding/json decoder ParseEvent replaced, kept as the reference the
// fastjson one is compared with (TestParseEventMatchesReference,
// FuzzParseEvent).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/logcaster/logcaster/internal/issues"
)

// refSentryEvent is the part of Sentry's event payload LogCaster uses. Fields
// the SDKs send in more than one shape are json.RawMessage.
type refSentryEvent struct {
	EventID     string          `json:"event_id"`
	Timestamp   json.RawMessage `json:"timestamp"`
	Level       string          `json:"level"`
	Message     json.RawMessage `json:"message"`
	LogEntry    *refLogEntry    `json:"logentry"`
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
	Extra    json.RawMessage `json:"extra"`
	Contexts struct {
		Trace struct {
			TraceID string `json:"trace_id"`
		} `json:"trace"`
	} `json:"contexts"`
}

type refLogEntry struct {
	Formatted string `json:"formatted"`
	Message   string `json:"message"`
}

type refSentryException struct {
	Type       string `json:"type"`
	Value      string `json:"value"`
	Module     string `json:"module"`
	Stacktrace *struct {
		Frames []refSentryFrame `json:"frames"`
	} `json:"stacktrace"`
}

type refSentryFrame struct {
	Filename string `json:"filename"`
	AbsPath  string `json:"abs_path"`
	Function string `json:"function"`
	Module   string `json:"module"`
	Package  string `json:"package"`
	Lineno   int    `json:"lineno"`
	InApp    *bool  `json:"in_app"`
}

// refParseEvent decodes a Sentry event payload into an error event of
// project; now is the time used when the event carries none.
func refParseEvent(payload []byte, project string, now time.Time) (*issues.ErrorEvent, error) {
	var s refSentryEvent
	if err := json.Unmarshal(payload, &s); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	e := &issues.ErrorEvent{
		EventID: strings.ReplaceAll(s.EventID, "-", ""), Project: project, Level: normLevel([]byte(s.Level)),
		Fingerprint: s.Fingerprint, Release: s.Release, Environment: s.Environment, ServerName: s.ServerName,
		Platform: s.Platform, Logger: s.Logger, TraceID: s.Contexts.Trace.TraceID,
	}
	if e.EventID == "" {
		e.EventID = newID()
	}
	e.Time = refParseTimestamp(s.Timestamp, now)
	e.Timestamp = time.Unix(0, e.Time).UTC().Format(time.RFC3339Nano)
	e.Message = refMessageOf(s.Message)
	if e.Message == "" && s.LogEntry != nil {
		e.Message = s.LogEntry.Formatted
		if e.Message == "" {
			e.Message = s.LogEntry.Message
		}
	}
	if s.User != nil {
		e.UserID = refRawString(s.User.ID)
		e.UserIP = s.User.IPAddress
	}
	e.Tags = refParseTags(s.Tags)
	e.Extra = refParseExtra(s.Extra)
	exs, err := refParseExceptions(s.Exception)
	if err != nil {
		return nil, err
	}
	e.Exceptions = exs
	return e, nil
}

// refParseExceptions accepts {"values": [...]} and a bare array.
func refParseExceptions(raw json.RawMessage) ([]issues.Exception, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []refSentryException
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("decode exception: %w", err)
		}
	} else {
		var wrap struct {
			Values []refSentryException `json:"values"`
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

// refMessageOf reads "message" as a string or as {"formatted", "message"}.
func refMessageOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return refRawString(raw)
	}
	var le refLogEntry
	if json.Unmarshal(raw, &le) == nil {
		if le.Formatted != "" {
			return le.Formatted
		}
		return le.Message
	}
	return ""
}

// refRawString reads a JSON string or number as a string.
func refRawString(raw json.RawMessage) string {
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

// refParseTags reads tags as an object or as an array of [key, value] pairs.
func refParseTags(raw json.RawMessage) map[string]string {
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
					out[refRawString(p[0])] = refRawString(p[1])
				}
			}
		}
	} else {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			for k, v := range m {
				out[k] = refRawString(v)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// refParseExtra reads the extra object's first 100 entries in order: a
// string as itself, another value as its compact JSON text; a key longer
// than 256 bytes is cut, a value longer than 16 KiB is cut to end in "…"
// within 16 KiB.
func refParseExtra(raw json.RawMessage) map[string]string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	out := map[string]string{}
	for n := 0; n < 100 && dec.More(); n++ {
		tok, err := dec.Token()
		k, ok := tok.(string)
		var v json.RawMessage
		if err != nil || !ok || dec.Decode(&v) != nil {
			return nil
		}
		var val string
		if v[0] == '"' {
			json.Unmarshal(v, &val)
		} else {
			var b bytes.Buffer
			json.Compact(&b, v)
			val = b.String()
		}
		if len(val) > 16384 {
			val = refCut(val, 16384-len("…")) + "…"
		}
		out[refCut(k, 256)] = val
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// refCut cuts valid UTF-8 s to at most n bytes without splitting a rune.
func refCut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// refParseTimestamp reads RFC 3339 strings and float seconds.
func refParseTimestamp(raw json.RawMessage, now time.Time) int64 {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return now.UnixNano()
	}
	if raw[0] == '"' {
		s := refRawString(raw)
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
