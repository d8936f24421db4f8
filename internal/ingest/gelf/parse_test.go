package gelf

import (
	"errors"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

const testNow = int64(1700000000000000000)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{
			name: "spec example",
			in:   `{"version":"1.1","host":"example.org","short_message":"A short message that helps you identify what is going on","full_message":"Backtrace here\n\nmore stuff","timestamp":1385053862.3072,"level":1,"_user_id":9001,"_some_info":"foo","_some_env_var":"bar"}`,
			want: `time=1385053862307200000 index=default level=FATAL msg="A short message that helps you identify what is going on" host="example.org" full_message="Backtrace here\n\nmore stuff" user_id="9001" some_info="foo" some_env_var="bar"`,
		},
		{
			name: "trace id, index, korean, nested extra",
			in:   `{"version":"1.1","host":"pay-1","short_message":"결제 실패: 카드 한도 초과","timestamp":1700000001.5,"level":3,"_trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","_index":"payment","_http":{"status":502,"ok":false},"_tags":["a","b"],"_nothing":null}`,
			want: `time=1700000001500000000 index=payment level=ERROR msg="결제 실패: 카드 한도 초과" trace=4bf92f3577b34da6a3ce929d0e0e4736 host="pay-1" http.status="502" http.ok="false" tags="[\"a\",\"b\"]"`,
		},
		{
			name: "no timestamp, no level: arrival time, level unknown",
			in:   `{"short_message":"hi"}`,
			want: `time=1700000000000000000 index=default level= msg="hi"`,
		},
		{
			name: "every severity number",
			in:   `{"short_message":"w","level":4}`,
			want: `time=1700000000000000000 index=default level=WARN msg="w"`,
		},
		{
			name: "level 7 is DEBUG, 5 INFO",
			in:   `{"short_message":"d","level":7,"_x":{"level":5}}`,
			want: `time=1700000000000000000 index=default level=DEBUG msg="d" x.level="5"`,
		},
		{
			name: "level as a name, timestamp as a string",
			in:   `{"short_message":"s","level":"warning","timestamp":"1700000002.25"}`,
			want: `time=1700000002250000000 index=default level=WARN msg="s"`,
		},
		{
			name: "exponent timestamp (float encoders)",
			in:   `{"short_message":"e","timestamp":1.7000000035e9}`,
			want: `time=1700000003500000000 index=default level= msg="e"`,
		},
		{
			name: "unknown level and bad timestamp kept raw",
			in:   `{"short_message":"r","level":42,"timestamp":"yesterday"}`,
			want: `time=1700000000000000000 index=default level= msg="r" level_raw="42" timestamp_raw="yesterday"`,
		},
		{
			name: "deprecated facility, file, line kept; second trace id kept as a field",
			in:   `{"short_message":"f","facility":"billing","file":"/a.go","line":12,"_trace_id":"t1","_traceId":"t2"}`,
			want: `time=1700000000000000000 index=default level= msg="f" trace=t1 facility="billing" file="/a.go" line="12" traceId="t2"`,
		},
		{
			name: "invalid UTF-8 repaired",
			in:   "{\"short_message\":\"a\xffb\"}",
			want: "time=1700000000000000000 index=default level= msg=\"a\uFFFDb\"",
		},
		{
			name: "empty short_message is kept",
			in:   `{"short_message":"","host":"h"}`,
			want: `time=1700000000000000000 index=default level= msg="" host="h"`,
		},
		{name: "not JSON", in: `hello`, err: ErrNotObject},
		{name: "truncated JSON", in: `{"short_message":"x"`, err: ErrNotObject},
		{name: "JSON array", in: `[{"short_message":"x"}]`, err: ErrNotObject},
		{name: "no short_message", in: `{"version":"1.1","host":"h","message":"m"}`, err: ErrNoShortMessage},
		{name: "short_message not a string", in: `{"short_message":12}`, err: ErrNoShortMessage},
		{name: "empty", in: ``, err: ErrNotObject},
	}
	p := NewParser()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &event.Batch{}
			err := p.Parse(b, []byte(tt.in), ParseOptions{Now: testNow})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if b.Len() != 0 {
					t.Fatalf("a refused message added %d events", b.Len())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Len() != 1 {
				t.Fatalf("%d events, want 1", b.Len())
			}
			if got := ingesttest.Render(&b.Events[0]); got != tt.want {
				t.Errorf("got\n %s\nwant\n %s", got, tt.want)
			}
		})
	}
}

// TestParseReusesNothing checks that events of one batch do not share
// field storage (a later message must not overwrite an earlier one).
func TestParseKeepsEarlierEvents(t *testing.T) {
	p := NewParser()
	b := &event.Batch{}
	msg := []byte(`{"short_message":"one","_k":"v1"}`)
	if err := p.Parse(b, msg, ParseOptions{Now: 1}); err != nil {
		t.Fatal(err)
	}
	copy(msg, `{"short_message":"two","_k":"v2"}`)
	if err := p.Parse(b, msg, ParseOptions{Now: 2}); err != nil {
		t.Fatal(err)
	}
	want := []string{`time=1 index=default level= msg="one" k="v1"`, `time=2 index=default level= msg="two" k="v2"`}
	for i, w := range want {
		if got := ingesttest.Render(&b.Events[i]); got != w {
			t.Errorf("event %d = %s, want %s", i, got, w)
		}
	}
}
