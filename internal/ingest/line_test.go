package ingest

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/logcaster/logcaster/internal/event"
)

const testNow = 1714564800e9 // 2024-05-01T12:00:00Z

// render writes an event as one comparable line:
// time|index|level|message|trace_id|name=value;name=value
func render(e *event.Event) string {
	var sb strings.Builder
	sb.WriteString(strconv.FormatInt(e.Time, 10))
	for _, s := range []string{e.Index, e.Level, e.Message, e.TraceID} {
		sb.WriteByte('|')
		sb.WriteString(s)
	}
	sb.WriteByte('|')
	for i, f := range e.Fields {
		if i > 0 {
			sb.WriteByte(';')
		}
		sb.WriteString(f.Name + "=" + f.Value)
	}
	return sb.String()
}

func TestParseLine(t *testing.T) {
	opts := LineOptions{DefaultIndex: "app", MaxLineBytes: 100, Now: testNow}
	cases := []struct {
		name, line string
		want       string // "" means no event
		err        bool
	}{
		{"text", "hello world\n", "1714564800000000000|app||hello world||", false},
		{"text crlf", "hello\r\n", "1714564800000000000|app||hello||", false},
		{"text level", "2024 ERROR db down", "1714564800000000000|app|ERROR|2024 ERROR db down||", false},
		{"empty", "\n", "", false},
		{"blank", " \t\r\n", "", false},
		{"json basic", `{"msg":"hi","level":"warning","ts":"2024-05-01T12:00:01Z"}`,
			"1714564801000000000|app|WARN|hi||", false},
		{"json aliases", `{"@timestamp":1714564802,"log":"x","severity":"E","traceId":"abc","_index":"pay"}`,
			"1714564802000000000|pay|ERROR|x|abc|", false},
		{"json nested", `{"request":{"url":"/x","h":{"a":1}},"trace":{"id":"t1"}}`,
			"1714564800000000000|app|||t1|request.url=/x;request.h.a=1", false},
		{"json types", `{"n":1.50,"b":true,"f":false,"z":null,"a":[1,"x",{"k":2}],"o":{}}`,
			`1714564800000000000|app||||n=1.50;b=true;f=false;a=[1,"x",{"k":2}]`, false},
		{"json level_value", `{"level_value":40000,"message":"m"}`, "1714564800000000000|app|ERROR|m||", false},
		{"json unknown level", `{"level":"verbose"}`, "1714564800000000000|app||||level_raw=verbose", false},
		{"json bad time", `{"time":"yesterday"}`, "1714564800000000000|app||||timestamp_raw=yesterday", false},
		{"json duplicate", `{"msg":"a","message":"b","level":"info","lvl":"error"}`,
			"1714564800000000000|app|INFO|a||message=b;lvl=error", false},
		{"json no detect", `{"msg":"ERROR here"}`, "1714564800000000000|app||ERROR here||", false},
		{"json escapes", `{"msg":"a\nb\u00e9\"","k\u0031":"v"}`, "1714564800000000000|app||a\nbé\"||k1=v", false},
		{"json leading blanks", ` 	{"msg":"x"}`, "1714564800000000000|app||x||", false},
		{"bad json kept", `{"msg":"x"`, "1714564800000000000|app||{\"msg\":\"x\"||", true},
		{"trailing garbage", `{"a":1} x`, "1714564800000000000|app||{\"a\":1} x||", true},
		{"not object", `[1,2]`, "1714564800000000000|app||[1,2]||", false},
		{"invalid utf8", "a\xffb\xc3", "1714564800000000000|app||a\uFFFDb\uFFFD||", false},
		{"invalid utf8 json", "{\"msg\":\"a\xffb\"}", "1714564800000000000|app||a\uFFFDb||", false},
		{"truncated", strings.Repeat("x", 110), "1714564800000000000|app||" + strings.Repeat("x", 100) + "||truncated=true", false},
		{"truncated rune", strings.Repeat("x", 99) + "éé", "1714564800000000000|app||" + strings.Repeat("x", 99) + "||truncated=true", false},
		{"at limit", strings.Repeat("x", 100) + "\n", "1714564800000000000|app||" + strings.Repeat("x", 100) + "||", false},
		{"truncated json is text", `{"msg":"` + strings.Repeat("y", 100) + `"}`,
			`1714564800000000000|app||{"msg":"` + strings.Repeat("y", 92) + "||truncated=true", false},
		{"empty key", `{"":"v","a":"b"}`, "1714564800000000000|app||||a=b", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b event.Batch
			err := ParseLine(&b, []byte(c.line), opts)
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if c.want == "" {
				if b.Len() != 0 {
					t.Fatalf("got %d events, want none", b.Len())
				}
				return
			}
			if b.Len() != 1 {
				t.Fatalf("got %d events, want 1", b.Len())
			}
			if got := render(&b.Events[0]); got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestParseLineRejectMode(t *testing.T) {
	var b event.Batch
	opts := LineOptions{BadJSON: BadJSONReject, Now: testNow}
	err := ParseLine(&b, []byte(`{"a":`), opts)
	var le *LineError
	if !errors.As(err, &le) || le.Kept {
		t.Fatalf("err = %#v, want a *LineError not kept", err)
	}
	if b.Len() != 0 {
		t.Fatalf("rejected line added %d events", b.Len())
	}
	if err := ParseLine(&b, []byte("plain"), opts); err != nil || b.Len() != 1 || b.Events[0].Index != event.DefaultIndex {
		t.Fatalf("plain line: err %v, %d events", err, b.Len())
	}
}

// TestParseLineReusesLine checks that events do not alias the input.
func TestParseLineReusesLine(t *testing.T) {
	var b event.Batch
	line := []byte(`{"msg":"one","service":"svc","x":"1"}`)
	if err := ParseLine(&b, line, LineOptions{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	for i := range line {
		line[i] = '#'
	}
	if got := render(&b.Events[0]); got != "1714564800000000000|default||one||service=svc;x=1" {
		t.Fatalf("event changed with its input: %q", got)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"hello", `{"msg":"x","a":{"b":[1,2]}}`, "{\"\xff\":1}", `{"ts":"2024-05-01T12:00:00Z"}`, `{"a":"\ud800"}`, "x\r\n"} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, line []byte, reject bool) {
		opts := LineOptions{MaxLineBytes: 64, Now: testNow}
		if reject {
			opts.BadJSON = BadJSONReject
		}
		var b event.Batch
		err := ParseLine(&b, line, opts)
		if b.Len() > 1 {
			t.Fatalf("%d events from one line", b.Len())
		}
		var le *LineError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("unexpected error type %T", err)
		}
		if reject && err != nil && b.Len() != 0 {
			t.Fatal("rejected line was stored")
		}
		for _, e := range b.Events {
			for _, s := range []string{e.Index, e.Level, e.Message, e.TraceID} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 in %q", s)
				}
			}
			for _, fl := range e.Fields {
				if !utf8.ValidString(fl.Name) || !utf8.ValidString(fl.Value) {
					t.Fatalf("invalid UTF-8 in field %q=%q", fl.Name, fl.Value)
				}
			}
			if e.Index == "" {
				t.Fatal("event without index")
			}
			if len(e.Message) > 64+len("\uFFFD")*64 {
				t.Fatalf("message of %d bytes beyond the limit", len(e.Message))
			}
		}
	})
}

// corpusLines returns lines of the shared benchmark corpus, generating it
// once into testdata/ (ignored by git) when the generator is there.
func corpusLines(tb testing.TB, n int) [][]byte {
	path := filepath.Join(tb.TempDir(), "corpus.jsonl")
	gen := "/work/shared/bench/gencorpus/main.go"
	if _, err := os.Stat(gen); err != nil {
		tb.Skip("gencorpus not available")
	}
	out, err := exec.Command("go", "run", gen, "-n", strconv.Itoa(n), "-format", "jsonl").Output()
	if err != nil {
		tb.Skipf("gencorpus: %v", err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		tb.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines
}

func BenchmarkParseLineCorpus(b *testing.B) {
	lines := corpusLines(b, 100000)
	var bytes int
	for _, l := range lines {
		bytes += len(l) + 1
	}
	opts := LineOptions{MaxLineBytes: DefaultMaxLineBytes, Now: testNow}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	batch := &event.Batch{}
	for b.Loop() {
		for _, l := range lines {
			if err := ParseLine(batch, l, opts); err != nil {
				b.Fatal(err)
			}
			if batch.Len() == 4096 { // what a listener hands the pipeline
				batch = &event.Batch{}
			}
		}
		n += len(lines)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(b.N)*float64(bytes)/b.Elapsed().Seconds()/1e6, "MB/s")
}
