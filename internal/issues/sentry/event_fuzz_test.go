package sentry

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/logcaster/logcaster/internal/issues"
)

// eventShapes are payloads in the shapes the SDKs send (sentry-go,
// @sentry/node, sentry-python, sentry-java) and the odd ones the parser
// must accept.
var eventShapes = []string{
	string(sdkEvent(7, 12345)),
	`{"event_id":"aa","timestamp":1763800000.5,"level":"fatal","exception":[{"type":"E","value":"v","stacktrace":{"frames":[{"function":"f","module":"m","in_app":true,"lineno":3}]}}],"user":{"id":42},"tags":[["k","v"]],"contexts":{"trace":{"trace_id":"tt"}}}`,
	`{"timestamp":"2025-11-22T10:00:00.250Z","exception":{"values":[{"type":"E","value":"v"}]},"message":{"formatted":"hello"},"tags":{"k":"v"}}`,
	`{"logentry":{"message":"m %s","formatted":"m x"}}`,
	`{"logentry":{"message":"only message"},"message":""}`,
	`{"event_id":"9ec79c33-ec99-42ab-8353-589fcb2e04dc","level":"WARN","platform":"node","timestamp":"1763800000.125","exception":{"values":[{"type":"TypeError","value":"Cannot read properties of undefined (reading 'id')","mechanism":{"type":"onuncaughtexception","handled":false},"stacktrace":{"frames":[{"filename":"node:internal/process/task_queues","function":"process.processTicksAndRejections","lineno":95,"colno":5,"in_app":false},{"filename":"/app/src/orders.js","abs_path":"/app/src/orders.js","function":"loadOrder","lineno":17,"colno":22,"in_app":true,"pre_context":["a"],"context_line":"x"}]}}]},"user":{"ip_address":"{{auto}}"},"fingerprint":["{{ default }}","orders"],"sdk":{"name":"sentry.javascript.node","version":"9.1.0"}}`,
	`{"event_id":"b1","platform":"python","level":"error","logger":"app.views","server_name":"h1","release":"r@2","environment":"staging","exception":{"values":[{"module":"builtins","type":"ValueError","value":"bad \"quoted\" \u00e9 \ud83d\ude00","stacktrace":{"frames":[{"module":"app.views","function":"create","abs_path":"/srv/app/views.py","lineno":40,"in_app":true,"vars":{"x":"1"}}]}}]},"tags":{"n":3,"b":true,"z":null,"o":{"a":1}},"user":{"id":"u-7","email":"a@b"}}`,
	`{"exception":[{"type":"java.lang.IllegalStateException","value":"x","module":"java.lang","stacktrace":{"frames":[{"package":"com.acme","function":"run","filename":"Main.java","lineno":9,"in_app":true}]}}],"timestamp":"2025-11-22T10:00:00"}`,
	`{"message":"m","extra":{"order":{ "id": 7, "items": ["a","b\"c", 2.50]},"attempt":3,"note":"x\u00e9\n","ok":false,"gone":null,"list":[],"empty":""},"tags":{"k":"v"}}`,
	`{"extra":null}`,
	`{"extra":["x"],"message":"m"}`,
	`{"message":"plain","timestamp":null,"user":null,"tags":null,"exception":null,"fingerprint":null}`,
	`{}`,
}

// sameEvent compares two parses of payload; an event id the parsers made
// up (the payload has none) is random in each.
func sameEvent(t *testing.T, payload []byte, got, want *issues.ErrorEvent) {
	t.Helper()
	g, w := *got, *want
	if !bytes.Contains(payload, []byte(`"event_id"`)) {
		if len(g.EventID) != 32 || len(w.EventID) != 32 {
			t.Fatalf("made-up event ids %q %q", g.EventID, w.EventID)
		}
		g.EventID, w.EventID = "", ""
	}
	// An empty frames array: nil for one, empty for the other means the same.
	for _, e := range []*issues.ErrorEvent{&g, &w} {
		for i := range e.Exceptions {
			if len(e.Exceptions[i].Frames) == 0 {
				e.Exceptions[i].Frames = nil
			}
		}
		if len(e.Exceptions) == 0 {
			e.Exceptions = nil
		}
		if len(e.Tags) == 0 {
			e.Tags = nil
		}
		if len(e.Extra) == 0 {
			e.Extra = nil
		}
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("payload %s\n got %+v\nwant %+v", payload, g, w)
	}
}

func TestParseEventMatchesReference(t *testing.T) {
	now := time.Unix(1700000000, 5)
	for _, p := range eventShapes {
		want, err := refParseEvent([]byte(p), "p", now)
		if err != nil {
			t.Fatalf("reference refused %s: %v", p, err)
		}
		got, err := ParseEvent([]byte(p), "p", now)
		if err != nil {
			t.Fatalf("ParseEvent(%s): %v", p, err)
		}
		sameEvent(t, []byte(p), got, want)
	}
	// The values the reference is trusted for, checked by hand on the
	// node event: dashes dropped from the id, WARN read as warning, string
	// seconds, abs_path unused when filename is set, SDK fingerprint kept.
	e, _ := ParseEvent([]byte(eventShapes[5]), "p", now)
	f := e.Exceptions[0].Frames[1]
	if e.EventID != "9ec79c33ec9942ab8353589fcb2e04dc" || e.Level != "warning" || e.Time != 1763800000125000000 ||
		f != (issues.Frame{File: "/app/src/orders.js", Function: "loadOrder", Line: 17, InApp: true}) ||
		strings.Join(e.Fingerprint, "|") != "{{ default }}|orders" || e.UserIP != "{{auto}}" {
		t.Fatalf("%+v", e)
	}
}

// TestParseEventLenient: a field of an unexpected type is skipped, where
// encoding/json refused the whole event.
func TestParseEventLenient(t *testing.T) {
	e, err := ParseEvent([]byte(`{"level":5,"release":["x"],"message":"m","exception":[{"type":"E","stacktrace":{"frames":[{"function":"f","lineno":"7"},"junk"]}}]}`), "p", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if e.Level != "error" || e.Release != "" || e.Message != "m" || len(e.Exceptions) != 1 ||
		len(e.Exceptions[0].Frames) != 1 || e.Exceptions[0].Frames[0] != (issues.Frame{Function: "f"}) {
		t.Fatalf("%+v", e)
	}
	for _, bad := range []string{"", "[]", `"x"`, "{", `{"a":}`} {
		if _, err := ParseEvent([]byte(bad), "p", time.Now()); err == nil {
			t.Errorf("ParseEvent(%q) accepted", bad)
		}
	}
}

// TestParseEventOwnsItsStrings: the parser's buffer is reused by the next
// payload, so nothing of an event may point into it.
func TestParseEventOwnsItsStrings(t *testing.T) {
	a, _ := ParseEvent([]byte(eventShapes[6]), "p", time.Now())
	want := *a
	wantEx := a.Exceptions[0]
	for i := 0; i < 10; i++ {
		ParseEvent(bytes.Repeat([]byte(`{"message":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`), 1), "p", time.Now())
		ParseEvent([]byte(eventShapes[0]), "p", time.Now())
	}
	if a.Logger != want.Logger || a.Logger != "app.views" || a.Exceptions[0].Value != wantEx.Value ||
		a.Exceptions[0].Value != "bad \"quoted\" \u00e9 \U0001F600" || a.Tags["o"] != `{"a":1}` || a.Tags["n"] != "3" {
		t.Fatalf("%+v", a)
	}
}

// FuzzParseEvent checks that no payload crashes the parser and that,
// wherever the encoding/json reference accepts a payload, both agree.
// Invalid UTF-8 (which encoding/json replaces and fastjson keeps),
// duplicate keys (the first wins in fastjson, the last in encoding/json)
// and keys other than [a-z0-9_] (encoding/json matches "tAgs" to tags,
// the SDKs send lower case) are left out of the comparison.
func FuzzParseEvent(f *testing.F) {
	for _, p := range eventShapes {
		f.Add([]byte(p))
	}
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseEvent(data, "p", now)
		want, rerr := refParseEvent(data, "p", now)
		if rerr != nil || !utf8.Valid(data) || oddKeys(data) {
			return
		}
		if err != nil {
			t.Fatalf("reference accepted %q, ParseEvent: %v", data, err)
		}
		sameEvent(t, data, got, want)
	})
}

// oddKeys tells whether some object of the JSON text repeats a key
// (compared after unescaping) or has a key with a byte outside [a-z0-9_].
func oddKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		keys  map[string]bool
		isObj bool
		key   bool // the next string token is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.isObj {
				if s, ok := tok.(string); ok && top.key {
					if top.keys[s] || strings.IndexFunc(s, func(r rune) bool {
						return !(r == '_' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9')
					}) >= 0 {
						return true
					}
					top.keys[s] = true
					top.key = false
					continue
				}
				if d, ok := tok.(json.Delim); !ok || d != '}' {
					top.key = true // a value ends; a key comes next
				}
			}
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, frame{keys: map[string]bool{}, isObj: true, key: true})
			case '[':
				stack = append(stack, frame{})
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		}
	}
}
