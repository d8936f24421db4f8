package event

import "testing"

func TestCanonicalName(t *testing.T) {
	cases := map[string]string{
		"@timestamp": "timestamp", "time": "timestamp", "ts": "timestamp", "timestamp": "timestamp",
		"msg": "message", "log": "message", "message": "message",
		"severity": "level", "lvl": "level", "level_value": "level", "level": "level",
		"traceId": "trace_id", "traceid": "trace_id", "X-B3-TraceId": "trace_id",
		"trace.id": "trace_id", "traceID": "trace_id", "trace_id": "trace_id",
		"index": "index", "_index": "index",
		// Not aliases: kept as given.
		"Time": "Time", "service": "service", "request.url": "request.url",
		"": "", "trace": "trace", "levels": "levels", "x-b3-traceid": "x-b3-traceid",
	}
	for in, want := range cases {
		if got := CanonicalName(in); got != want {
			t.Errorf("CanonicalName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalNameAllocs(t *testing.T) {
	name := string([]byte("@timestamp"))
	if n := testing.AllocsPerRun(100, func() { _ = CanonicalName(name) }); n != 0 {
		t.Fatalf("CanonicalName allocates %v times", n)
	}
}
