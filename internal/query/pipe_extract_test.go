package query

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/logcaster/logcaster/internal/event"
)

// extractEvents are access-log-like messages, some not matching the
// pattern, and JSON payloads in a field, some broken.
func extractEvents(n int) []event.Event {
	rng := rand.New(rand.NewSource(11))
	users := []string{"alice", "bob", "carol", "dave"}
	evs := make([]event.Event, n)
	for i := range evs {
		e := &evs[i]
		e.Time = base + int64(i)*int64(time.Second)
		e.Index = "app"
		e.Level = "INFO"
		u, ms, code := users[rng.Intn(len(users))], rng.Intn(500), 200+100*rng.Intn(4)
		switch rng.Intn(4) {
		case 0:
			e.Message = fmt.Sprintf("GET /x user=%s took %dms code=%d", u, ms, code)
		case 1:
			e.Message = fmt.Sprintf("user=%s took %dms", u, ms) // no code
		case 2:
			e.Message = fmt.Sprintf("prefix user=%s then user=zed took %dms code=%d tail", u, ms, code)
		default:
			e.Message = "nothing to see here"
		}
		var payload string
		switch rng.Intn(4) {
		case 0:
			payload = fmt.Sprintf(`{"user":%q,"req":{"ms":%d,"path":"/a/%d","deep":{"x":true}},"tags":["t%d",1],"none":null}`, u, ms, i%7, i%3)
		case 1:
			payload = fmt.Sprintf(`{"user":%q,"code":%d,"user_agent":"curl/8 \"q\""}`, u, code)
		case 2:
			payload = `{"user": broken`
		default:
			payload = `[1,2,3]`
		}
		e.Fields = []event.Field{{Name: "payload", Value: payload}, {Name: "code", Value: "old"}}
	}
	return evs
}

// refExtract is extract's reference, with a regular expression built from
// the pattern: leftmost start of the first text, each capture as short as
// possible, the last to the end.
func refExtract(evs []event.Event, re *regexp.Regexp, src func(e *event.Event) string) []map[string]string {
	out := make([]map[string]string, len(evs))
	for i := range evs {
		m := map[string]string{}
		for _, f := range evs[i].Fields {
			m[f.Name] = f.Value
		}
		if sub := re.FindStringSubmatch(src(&evs[i])); sub != nil {
			for k, name := range re.SubexpNames() {
				if k > 0 && name != "" && sub[k] != "" {
					m[name] = sub[k]
				}
			}
		}
		out[i] = m
	}
	return out
}

func TestExtract(t *testing.T) {
	evs := extractEvents(3000)
	sc := newFakeScanner(evs, 256)
	msg := func(e *event.Event) string { return e.Message }
	cases := []struct {
		q   string
		re  string
		src func(e *event.Event) string
	}{
		{`* | extract "user=<user> took <ms>ms code=<code>"`, `user=(?P<user>.*?) took (?P<ms>.*?)ms code=(?P<code>.*)`, msg},
		{`* | extract "user=<user> took <ms>ms"`, `user=(?P<user>.*?) took (?P<ms>.*?)ms`, msg},
		{`* | extract "<verb> /<_> user=<user> "`, `^(?P<verb>.*?) /(?:.*?) user=(?P<user>.*?) `, msg},
		{`* | extract from payload "\"user\":\"<user>\""`, `"user":"(?P<user>.*?)"`, func(e *event.Event) string { return get(e, "payload") }},
	}
	for _, c := range cases {
		want := refExtract(evs, regexp.MustCompile(c.re), c.src)
		rows := runAll(t, sc, c.q, RunOptions{})
		if len(rows) != len(evs) {
			t.Fatalf("%s: %d rows", c.q, len(rows))
		}
		matched := 0
		for _, r := range rows {
			i := int((r.Time - base) / int64(time.Second))
			got := rowMap(r)
			for k, v := range want[i] {
				if got[k] != v {
					t.Fatalf("%s: row %d (%q): %s=%q, want %q", c.q, i, evs[i].Message, k, got[k], v)
				}
			}
			if got["user"] != "" {
				matched++
			}
		}
		if matched == 0 || matched == len(rows) {
			t.Errorf("%s: %d of %d rows matched; the case tests too little", c.q, matched, len(rows))
		}
	}
	// Extracted fields feed later pipes: the sum of ms per user.
	re := regexp.MustCompile(`user=(.*?) took (.*?)ms`)
	sums := map[string]int{}
	for i := range evs {
		if m := re.FindStringSubmatch(evs[i].Message); m != nil {
			n, _ := strconv.Atoi(m[2])
			sums[m[1]] += n
		}
	}
	rows := runAll(t, sc, `* | extract "user=<user> took <ms>ms" | where ms:* | stats sum(ms) as total by (user)`, RunOptions{})
	if len(rows) != len(sums) {
		t.Fatalf("stats after extract: %d groups, want %d", len(rows), len(sums))
	}
	for _, r := range rows {
		m := rowMap(r)
		if m["total"] != strconv.Itoa(sums[m["user"]]) {
			t.Errorf("user %s: sum %s, want %d", m["user"], m["total"], sums[m["user"]])
		}
	}
}

// flattenRef flattens decoded JSON as unpack_json promises, with
// encoding/json as the independent parser.
func flattenRef(prefix string, v any, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			flattenRef(name, x, out)
		}
	case string:
		if v != "" {
			out[prefix] = v
		}
	case nil:
	case json.Number:
		out[prefix] = v.String()
	case bool:
		out[prefix] = strconv.FormatBool(v)
	default:
		b, _ := json.Marshal(v)
		out[prefix] = string(b)
	}
}

func TestUnpackJSON(t *testing.T) {
	evs := extractEvents(2000)
	sc := newFakeScanner(evs, 256)
	rows := runAll(t, sc, `* | unpack_json from payload`, RunOptions{})
	unpacked := 0
	for _, r := range rows {
		i := int((r.Time - base) / int64(time.Second))
		want := map[string]string{}
		for _, f := range evs[i].Fields {
			want[f.Name] = f.Value
		}
		dec := json.NewDecoder(stringsReader(get(&evs[i], "payload")))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			if _, ok := v.(map[string]any); ok {
				flattenRef("", v, want)
				unpacked++
			}
		}
		got := rowMap(r)
		delete(got, "index")
		delete(got, "level")
		delete(got, "message")
		if fmt.Sprint(sortedMap(got)) != fmt.Sprint(sortedMap(want)) {
			t.Fatalf("row %d payload %s:\n got %v\nwant %v", i, get(&evs[i], "payload"), sortedMap(got), sortedMap(want))
		}
	}
	if unpacked == 0 || unpacked == len(rows) {
		t.Fatalf("%d of %d payloads unpacked; the test covers too little", unpacked, len(rows))
	}
	// Unpacked fields filter and group.
	want := map[string]int{}
	for i := range evs {
		p := get(&evs[i], "payload")
		var v struct {
			User string
			Req  *struct{ Ms int }
		}
		if json.Unmarshal([]byte(p), &v) == nil && v.Req != nil && v.Req.Ms > 250 {
			want[v.User]++
		}
	}
	rows = runAll(t, sc, `* | unpack_json from payload | where req.ms:>250 | stats count() as n by (user)`, RunOptions{})
	if len(rows) != len(want) {
		t.Fatalf("%d groups, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		m := rowMap(r)
		if m["n"] != strconv.Itoa(want[m["user"]]) {
			t.Errorf("user %s: %s, want %d", m["user"], m["n"], want[m["user"]])
		}
	}
}

func sortedMap(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

// FuzzExtract: a pattern either fails to parse or matches without
// panicking, and a match rebuilds, texts and captures in order, into a
// piece of the value.
func FuzzExtract(f *testing.F) {
	f.Add("user=<user> took <ms>ms", "GET user=bob took 12ms code=200")
	f.Add("<a>-<b>", "web-12")
	f.Add("<_> x=<x>", "a x=1")
	f.Fuzz(func(t *testing.T, pat, v string) {
		steps, err := parseExtractPattern(pat)
		if err != nil {
			return
		}
		p := &pipeExtract{pattern: pat, from: event.FieldMessage, steps: steps}
		caps, ok := p.match(v, nil)
		if !ok {
			return
		}
		var b strings.Builder
		for k, st := range steps {
			b.WriteString(st.text)
			if k < len(caps) {
				b.WriteString(caps[k])
			}
		}
		if !strings.Contains(v, b.String()) {
			t.Fatalf("pattern %q on %q: rebuilt %q is not in the value", pat, v, b.String())
		}
		r := &Row{Fields: []event.Field{{Name: event.FieldMessage, Value: v}}}
		p.run(nil, []*Row{r})
	})
}

// FuzzUnpackJSON compares unpack_json with encoding/json on any input
// both parse as an object of valid UTF-8.
func FuzzUnpackJSON(f *testing.F) {
	f.Add(`{"a":1,"b":{"c":"x","d":[1,{"e":2}]},"n":null,"t":true}`)
	f.Add(`{"a":"\u00e9\n","":"empty key"}`)
	f.Add(`{"a":{"b":{}}}`)
	f.Fuzz(func(t *testing.T, s string) {
		r := &Row{Fields: []event.Field{{Name: "p", Value: s}}}
		(&pipeUnpackJSON{from: "p"}).run(nil, []*Row{r})
		if !utf8.ValidString(s) || strings.Count(s, "{") > maxUnpackDepth {
			return
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil || strings.TrimSpace(s[dec.InputOffset():]) != "" {
			return
		}
		if _, ok := v.(map[string]any); !ok {
			return
		}
		want := map[string]string{"p": s}
		flattenRef("", v, want)
		if got := rowMap(r); fmt.Sprint(sortedMap(got)) != fmt.Sprint(sortedMap(want)) {
			// Duplicate keys and names that flatten alike ({"a.b":1,"a":{"b":2}})
			// resolve by order, which a map cannot show: skip those.
			if len(got) == len(want) || strings.Contains(s, ".") || hasDupKeys(s) {
				return
			}
			t.Fatalf("%s:\n got %v\nwant %v", s, sortedMap(got), sortedMap(want))
		}
	})
}

// hasDupKeys is a rough check for repeated object keys.
func hasDupKeys(s string) bool {
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`"((?:[^"\\]|\\.)*)"\s*:`).FindAllStringSubmatch(s, -1) {
		if seen[m[1]] {
			return true
		}
		seen[m[1]] = true
	}
	return false
}
