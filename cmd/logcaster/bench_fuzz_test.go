package main

import (
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzBenchCountRows checks the streaming row counter against a plain split
// of the whole answer, for any bytes a server could send.
func FuzzBenchCountRows(f *testing.F) {
	f.Add("{\"a\":1}\n{\"a\":2}\n", false)
	f.Add("\n\n\nx", true)
	f.Add("{\"n\":1}\n{\"error\":\"timeout\"}\n", false)
	f.Add(strings.Repeat("y", 70000)+"\nz", true)
	f.Fuzz(func(t *testing.T, in string, oneByte bool) {
		var want []string
		for _, l := range strings.Split(in, "\n") {
			if l != "" {
				want = append(want, l)
			}
		}
		r := strings.NewReader(in)
		var rows int
		var first string
		var err error
		if oneByte {
			rows, first, err = benchCountRows(iotest.OneByteReader(r))
		} else {
			rows, first, err = benchCountRows(r)
		}
		wantRows := len(want)
		endsInError := wantRows > 0 && strings.HasPrefix(want[wantRows-1], `{"error"`)
		if endsInError {
			wantRows--
		}
		if rows != wantRows || (err != nil) != endsInError {
			t.Fatalf("rows %d err %v; want %d, error line %v", rows, err, wantRows, endsInError)
		}
		wantFirst := ""
		if len(want) > 0 {
			wantFirst = want[0][:min(len(want[0]), benchFirstRowMax)]
		}
		if first != wantFirst {
			t.Fatalf("first %q, want %q", first, wantFirst)
		}
	})
}

// FuzzBenchParseProcStat feeds /proc/PID/stat parsing any text: it must not
// panic, and a value it returns is never negative.
func FuzzBenchParseProcStat(f *testing.F) {
	f.Add("4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 56 0 0 20 0 9 0 100")
	f.Add("1 (x) S")
	f.Add(")")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := benchParseProcStat([]byte(in))
		if err == nil && d < 0 {
			t.Fatalf("negative cpu %v from %q", d, in)
		}
		benchParseProcKB([]byte(in), "VmHWM")
	})
}
