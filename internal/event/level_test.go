package event

import "testing"

func TestDetectLevel(t *testing.T) {
	for _, c := range []struct{ msg, want string }{
		{"2026-11-22 10:00:01 ERROR payment failed", LevelError},
		{"[warn] disk almost full, error budget fine", LevelWarn}, // first level word wins
		{"INFO starting; later an ERROR", LevelInfo},
		{"Errors were counted", ""}, // not a whole word
		{"errorless run", ""},       // not a whole word
		{"kernel: PANIC at cpu 1", LevelFatal},
		{"debug: x=1", LevelDebug},
		{"no level here", ""},
		{"Warning: mixed case is not a level word", ""},
	} {
		if got := DetectLevel(c.msg); got != c.want {
			t.Errorf("DetectLevel(%q) = %q, want %q", c.msg, got, c.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { DetectLevel("2026-11-22 10:00:01 something WARN happened") }); n != 0 {
		t.Errorf("DetectLevel allocates %v times", n)
	}
}

func TestNormalizeLevel(t *testing.T) {
	for in, want := range map[string]string{
		"error": LevelError, "Err": LevelError, "40000": LevelError, "warning": LevelWarn, "W": LevelWarn,
		"notice": LevelInfo, "CRITICAL": LevelFatal, "trace": LevelTrace, "fine": LevelDebug, "bogus": "", "": "",
	} {
		if got := NormalizeLevel(in); got != want {
			t.Errorf("NormalizeLevel(%q) = %q, want %q", in, got, want)
		}
	}
}
