package syslog

import (
	"testing"
	"unicode/utf8"

	"github.com/logcaster/logcaster/internal/event"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] msg`,
		`<11>1 2024-05-01T14:00:00+02:00 web-1 payment 42 - [req a="say \"hi\"" c="x\]y"][trace trace_id="4bf9"] 결제 실패`,
		"<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
		"<30>Apr  5 07:08:09 web-1 nginx[1234]: GET / 200",
		"<12>Jan 15 2019 10:11:12.345 host app: year",
		"<11>myapp: hi\x00",
		"<14>1 - h app - - - a#012b\\nc",
		"plain \xff text",
		"<14>1 - h app - - [id a=\"1\"][id b=\"2 msg",
		"<78>2024-05-01T13:00:00.25+01:00 db-2 CRON[9]: x",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		b := &event.Batch{}
		Parse(b, msg, ParseOptions{Now: testNow})
		if b.Len() > 1 {
			t.Fatalf("%d events from one message", b.Len())
		}
		if b.Len() == 0 {
			if len(trimTrailer(msg)) != 0 {
				t.Fatalf("no event from a non-empty message")
			}
			return
		}
		e := &b.Events[0]
		if e.Index == "" {
			t.Fatal("event without index")
		}
		for _, s := range []string{e.Message, e.Index, e.TraceID, e.Level} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q", s)
			}
		}
		for _, fl := range e.Fields {
			if !utf8.ValidString(fl.Name) || !utf8.ValidString(fl.Value) || fl.Name == "" {
				t.Fatalf("bad field %q=%q", fl.Name, fl.Value)
			}
		}
	})
}
