package syslog

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// testNow is 2024-05-01T12:00:00Z, the arrival time in parser tests.
const testNow int64 = 1714564800e9

// utc returns the unix nanoseconds of a UTC date, computed by the standard
// library rather than by the parser under test.
func utc(y int, mo time.Month, d, h, mi, s, ns int) int64 {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC).UnixNano()
}

// want is an expected event; fields are "name=value" in order.
type want struct {
	time                         int64
	index, level, message, trace string
	fields                       []string
}

func checkEvent(t *testing.T, in string, e *event.Event, w want) {
	t.Helper()
	if e.Time != w.time {
		t.Errorf("%q: time %s, want %s", in, time.Unix(0, e.Time).UTC(), time.Unix(0, w.time).UTC())
	}
	if e.Index != w.index {
		t.Errorf("%q: index %q, want %q", in, e.Index, w.index)
	}
	if e.Level != w.level {
		t.Errorf("%q: level %q, want %q", in, e.Level, w.level)
	}
	if e.Message != w.message {
		t.Errorf("%q: message %q, want %q", in, e.Message, w.message)
	}
	if e.TraceID != w.trace {
		t.Errorf("%q: trace_id %q, want %q", in, e.TraceID, w.trace)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Name+"="+f.Value)
	}
	if strings.Join(got, "|") != strings.Join(w.fields, "|") {
		t.Errorf("%q: fields\n got %q\nwant %q", in, got, w.fields)
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		opts ParseOptions
		err  error
		want want
	}{
		// RFC 5424 section 6.5, example 1 (no structured data, BOM-less).
		{in: "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8",
			want: want{time: utc(2003, 10, 11, 22, 14, 15, 3e6), index: "su", level: "FATAL",
				message: "'su root' failed for lonvick on /dev/pts/8",
				fields:  []string{"facility=auth", "service=su", "host=mymachine.example.com", "msgid=ID47"}}},
		// Example 2: offset, microseconds, BOM before MSG.
		{in: "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - \xEF\xBB\xBF%% It's time to make the do-nuts.",
			want: want{time: utc(2003, 8, 24, 12, 14, 15, 3000), index: "myproc", level: "INFO",
				message: "%% It's time to make the do-nuts.",
				fields:  []string{"facility=local4", "service=myproc", "host=192.0.2.1", "pid=8710"}}},
		// Example 3: structured data and a message.
		{in: `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...`,
			want: want{time: utc(2003, 10, 11, 22, 14, 15, 3e6), index: "evntslog", level: "INFO",
				message: "An application event log entry...",
				fields: []string{"facility=local4", "service=evntslog", "host=mymachine.example.com", "msgid=ID47",
					"sd.exampleSDID@32473.iut=3", "sd.exampleSDID@32473.eventSource=Application", "sd.exampleSDID@32473.eventID=1011"}}},
		// Example 4: two SD elements, no message.
		{in: `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"][examplePriority@32473 class="high"]`,
			want: want{time: utc(2003, 10, 11, 22, 14, 15, 3e6), index: "evntslog", level: "INFO",
				fields: []string{"facility=local4", "service=evntslog", "host=mymachine.example.com", "msgid=ID47",
					"sd.exampleSDID@32473.iut=3", "sd.examplePriority@32473.class=high"}}},
		// Escapes in SD values; a backslash before another byte stays; a trace id in SD.
		{in: `<11>1 2024-05-01T14:00:00+02:00 web-1 payment 42 - [req a="say \"hi\"" b="c:\\dir" c="x\]y" d="\q"][trace trace_id="4bf92f3577b34da6a3ce929d0e0e4736"] 결제 실패: 카드 한도 초과`,
			want: want{time: testNow, index: "payment", level: "ERROR", message: "결제 실패: 카드 한도 초과",
				trace: "4bf92f3577b34da6a3ce929d0e0e4736",
				fields: []string{"facility=user", "service=payment", "host=web-1", "pid=42",
					`sd.req.a=say "hi"`, `sd.req.b=c:\dir`, `sd.req.c=x]y`, `sd.req.d=\q`}}},
		// traceId and trace-id spellings; only the first is the trace id, a second stays a field.
		{in: `<14>1 - h a - - [x traceId="aaa"][y trace-id="bbb"] m`,
			want: want{time: testNow, index: "a", level: "INFO", message: "m", trace: "aaa",
				fields: []string{"facility=user", "service=a", "host=h", "sd.y.trace-id=bbb"}}},
		// All NILVALUE: arrival time, default index, no message.
		{in: "<13>1 - - - - - -",
			want: want{time: testNow, index: "default", level: "INFO", fields: []string{"facility=user"}}},
		// Trailing LF and NUL from framing; options name the index.
		{in: "<15>1 2024-05-01T12:00:00Z h app - - - debug line\n\x00", opts: ParseOptions{DefaultIndex: "fixed"},
			want: want{time: testNow, index: "fixed", level: "DEBUG", message: "debug line",
				fields: []string{"facility=user", "service=app", "host=h"}}},
		// Multi-line escapes: rsyslog's #012 and #011, a literal \n, an escaped backslash kept.
		{in: `<11>1 - h app - - - Exception: boom#012#011at A.b(A.java:1)\nnext \\n kept # not #01x`,
			want: want{time: testNow, index: "app", level: "ERROR",
				message: "Exception: boom\n\tat A.b(A.java:1)\nnext \\\\n kept # not #01x",
				fields:  []string{"facility=user", "service=app", "host=h"}}},
		// KeepEscapes leaves them.
		{in: `<11>1 - h app - - - a#012b\nc`, opts: ParseOptions{KeepEscapes: true},
			want: want{time: testNow, index: "app", level: "ERROR", message: `a#012b\nc`,
				fields: []string{"facility=user", "service=app", "host=h"}}},
		// Missing SD (lenient): the rest is the message.
		{in: "<14>1 2024-05-01T12:00:00Z h app 1 - hello world",
			want: want{time: testNow, index: "app", level: "INFO", message: "hello world",
				fields: []string{"facility=user", "service=app", "host=h", "pid=1"}}},
		// Bad timestamp: kept raw, arrival time, error.
		{in: "<14>1 2024-13-45T00:00:00Z h app - - - msg", err: ErrBadTimestamp,
			want: want{time: testNow, index: "app", level: "INFO", message: "msg",
				fields: []string{"facility=user", "service=app", "host=h", "timestamp_raw=2024-13-45T00:00:00Z"}}},
		// Unterminated SD: no sd fields, the message is everything from the SD on.
		{in: `<14>1 - h app - - [id a="1"][id b="2 msg`, err: ErrBadStructuredData,
			want: want{time: testNow, index: "app", level: "INFO", message: `[id a="1"][id b="2 msg`,
				fields: []string{"facility=user", "service=app", "host=h"}}},
		// Unquoted SD value.
		{in: `<14>1 - h app - - [id a=1] msg`, err: ErrBadStructuredData,
			want: want{time: testNow, index: "app", level: "INFO", message: `[id a=1] msg`,
				fields: []string{"facility=user", "service=app", "host=h"}}},
		// Header cut short.
		{in: "<14>1 2024-05-01T12:00:00Z host",
			want: want{time: testNow, index: "default", level: "INFO", fields: []string{"facility=user", "host=host"}}},
		// Invalid UTF-8 repaired.
		{in: "<14>1 - h app - - - bad \xff byte \xc3",
			want: want{time: testNow, index: "app", level: "INFO", message: "bad \uFFFD byte \uFFFD",
				fields: []string{"facility=user", "service=app", "host=h"}}},

		// RFC 3164, section 5.4 example.
		{in: "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
			want: want{time: utc(2023, 10, 11, 22, 14, 15, 0), index: "su", level: "FATAL",
				message: "'su root' failed for lonvick on /dev/pts/8",
				fields:  []string{"facility=auth", "service=su", "host=mymachine"}}},
		// TAG[pid], space-padded day, this year.
		{in: "<30>Apr  5 07:08:09 web-1 nginx[1234]: GET / 200",
			want: want{time: utc(2024, 4, 5, 7, 8, 9, 0), index: "nginx", level: "INFO", message: "GET / 200",
				fields: []string{"facility=daemon", "service=nginx", "host=web-1", "pid=1234"}}},
		// More than a day in the future: last year. Less than a day: this year.
		{in: "<14>May  2 12:00:01 h app: x",
			want: want{time: utc(2023, 5, 2, 12, 0, 1, 0), index: "app", level: "INFO", message: "x",
				fields: []string{"facility=user", "service=app", "host=h"}}},
		{in: "<14>May  2 11:59:59 h app: x",
			want: want{time: utc(2024, 5, 2, 11, 59, 59, 0), index: "app", level: "INFO", message: "x",
				fields: []string{"facility=user", "service=app", "host=h"}}},
		// Fractional seconds; year after the day; year after the time.
		{in: "<12>Jan 15 10:11:12.345678 host app: frac",
			want: want{time: utc(2024, 1, 15, 10, 11, 12, 345678000), index: "app", level: "WARN", message: "frac",
				fields: []string{"facility=user", "service=app", "host=host"}}},
		{in: "<12>Jan 15 2019 10:11:12 host app: year",
			want: want{time: utc(2019, 1, 15, 10, 11, 12, 0), index: "app", level: "WARN", message: "year",
				fields: []string{"facility=user", "service=app", "host=host"}}},
		{in: "<12>Jan 15 10:11:12.5 2019 host app: year2",
			want: want{time: utc(2019, 1, 15, 10, 11, 12, 5e8), index: "app", level: "WARN", message: "year2",
				fields: []string{"facility=user", "service=app", "host=host"}}},
		// No hostname: the word after the time is the tag.
		{in: "<13>Feb  3 04:05:06 cron[77]: job ran",
			want: want{time: utc(2024, 2, 3, 4, 5, 6, 0), index: "cron", level: "INFO", message: "job ran",
				fields: []string{"facility=user", "service=cron", "pid=77"}}},
		// Python's SysLogHandler: no timestamp, no host, NUL at the end.
		{in: "<11>myapp: 결제 실패: 카드 한도 초과\x00",
			want: want{time: testNow, index: "myapp", level: "ERROR", message: "결제 실패: 카드 한도 초과",
				fields: []string{"facility=user", "service=myapp"}}},
		{in: "<14>just a message",
			want: want{time: testNow, index: "default", level: "INFO", message: "just a message", fields: []string{"facility=user"}}},
		// "word:word" is not a tag.
		{in: "<14>http://x/y done",
			want: want{time: testNow, index: "default", level: "INFO", message: "http://x/y done", fields: []string{"facility=user"}}},
		// RFC 3339 timestamp in 3164 form (rsyslog's forward format).
		{in: "<78>2024-05-01T13:00:00.25+01:00 db-2 CRON[9]: (root) CMD (x)",
			want: want{time: testNow + 25e7, index: "CRON", level: "INFO", message: "(root) CMD (x)",
				fields: []string{"facility=cron", "service=CRON", "host=db-2", "pid=9"}}},
		// Location for 3164 times.
		{in: "<14>Mar 10 09:00:00 h app: tz", opts: ParseOptions{Location: time.FixedZone("KST", 9*3600)},
			want: want{time: utc(2024, 3, 10, 0, 0, 0, 0), index: "app", level: "INFO", message: "tz",
				fields: []string{"facility=user", "service=app", "host=h"}}},
		// Feb 29 of a common year is no timestamp: all of it is the message.
		{in: "<14>Feb 29 01:00:00 2023 h app: x",
			want: want{time: testNow, index: "default", level: "INFO", message: "Feb 29 01:00:00 2023 h app: x",
				fields: []string{"facility=user"}}},

		// No PRI: a plain message, level guessed.
		{in: "ERROR could not connect\r\n",
			want: want{time: testNow, index: "default", level: "ERROR", message: "ERROR could not connect"}},
		// Bad PRIs are not PRIs.
		{in: "<192>1 - - - - - - x", want: want{time: testNow, index: "default", message: "<192>1 - - - - - - x"}},
		{in: "<014>x", want: want{time: testNow, index: "default", message: "<014>x"}},
		{in: "<>x", want: want{time: testNow, index: "default", message: "<>x"}},
		{in: "<1234>x", want: want{time: testNow, index: "default", message: "<1234>x"}},
		{in: "<0>1 - - - - - - emerg", want: want{time: testNow, index: "default", level: "FATAL", message: "emerg", fields: []string{"facility=kern"}}},
		{in: "<191>x", want: want{time: testNow, index: "default", level: "DEBUG", message: "x", fields: []string{"facility=local7"}}},
		// "1 apple" after PRI is not RFC 5424.
		{in: "<14>1 apple", want: want{time: testNow, index: "default", level: "INFO", message: "1 apple", fields: []string{"facility=user"}}},
	}
	for _, c := range cases {
		c.opts.Now = testNow
		b := &event.Batch{}
		err := Parse(b, []byte(c.in), c.opts)
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%q: error %v, want %v", c.in, err, c.err)
		}
		if b.Len() != 1 {
			t.Fatalf("%q: %d events, want 1", c.in, b.Len())
		}
		checkEvent(t, c.in, &b.Events[0], c.want)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "\x00", "\r\n\x00"} {
		b := &event.Batch{}
		if err := Parse(b, []byte(in), ParseOptions{Now: testNow}); err != nil || b.Len() != 0 {
			t.Errorf("%q: %d events, err %v; want none", in, b.Len(), err)
		}
	}
}

// TestParseReusesInput checks the event does not alias the input buffer.
func TestParseReusesInput(t *testing.T) {
	msg := []byte(`<14>1 - host app 1 id [a b="c"] text`)
	b := &event.Batch{}
	if err := Parse(b, msg, ParseOptions{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	for i := range msg {
		msg[i] = 'X'
	}
	checkEvent(t, "reuse", &b.Events[0], want{time: testNow, index: "app", level: "INFO", message: "text",
		fields: []string{"facility=user", "service=app", "host=host", "pid=1", "msgid=id", "sd.a.b=c"}})
}

// TestParseFieldsDoNotOverlap checks that appending to one event's fields
// cannot overwrite the next event's (they share a slab).
func TestParseFieldsDoNotOverlap(t *testing.T) {
	p := NewParser()
	b := &event.Batch{}
	for i := 0; i < 3; i++ {
		if err := p.Parse(b, []byte("<14>1 - h app - - - m"), ParseOptions{Now: testNow}); err != nil {
			t.Fatal(err)
		}
	}
	b.Events[0].Fields = append(b.Events[0].Fields, event.Field{Name: "x", Value: "y"})
	if got := b.Events[1].Fields[0].Name; got != FieldFacility {
		t.Fatalf("second event's first field is %q after appending to the first", got)
	}
}

func TestParseAllocs(t *testing.T) {
	msg := []byte(`<14>1 2024-05-01T12:00:00.123Z web-3 api - - [trace trace_id="4bf92f3577b34da6a3ce929d0e0e4736"] GET /users 200 12ms`)
	p := NewParser()
	b := &event.Batch{Events: make([]event.Event, 0, 2000)}
	p.Parse(b, msg, ParseOptions{Now: testNow}) // warm the intern table and slab
	allocs := testing.AllocsPerRun(1000, func() {
		p.Parse(b, msg, ParseOptions{Now: testNow})
	})
	// The arena and the field slab grow in chunks: well under one
	// allocation an event on average.
	if allocs > 0.1 {
		t.Fatalf("%v allocations per message", allocs)
	}
}
