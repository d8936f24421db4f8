package issues

import "testing"

func FuzzParseStackTrace(f *testing.F) {
	f.Add("java.lang.X: m\n\tat a.B.c(B.java:1)\nCaused by: y.Z\n\t... 3 more\n")
	f.Add("Traceback (most recent call last):\n  File \"a.py\", line 1, in f\n    x\nKeyError: 'k'\n")
	f.Add("panic: boom\n\ngoroutine 1 [running]:\nmain.f(0x1)\n\t/a.go:3 +0x1\n")
	f.Add("Error: x\n    at f (/a.js:1:2)\n    at /b.js:3:4\n")
	f.Add("at (\nat :1:2)")
	f.Fuzz(func(t *testing.T, s string) {
		e := &ErrorEvent{Exceptions: ParseStackTrace(s), Message: s}
		if Fingerprint(e) == "" {
			t.Fatal("empty fingerprint")
		}
		titleAndCulprit(e)
		NormalizeMessage(s)
	})
}
