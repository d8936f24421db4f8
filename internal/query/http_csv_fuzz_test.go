package query

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

// FuzzAppendCSVField reads what appendCSVField writes back with
// encoding/csv (an independent RFC 4180 reader): any value, beside a second
// field, must come back whole, except that the reader turns a quoted CR LF
// into LF, as it documents.
func FuzzAppendCSVField(f *testing.F) {
	for _, s := range []string{"", "a", "a,b", `q"q`, "two\nlines", "cr\r\nlf", " lead", "trail ", `"`, "한국어,\"x\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		line := appendCSVField(nil, v)
		line = append(line, ",x\r\n"...)
		recs, err := csv.NewReader(strings.NewReader(string(line))).ReadAll()
		if err != nil {
			t.Fatalf("%q written as %q: %v", v, line, err)
		}
		want := []string{strings.ReplaceAll(v, "\r\n", "\n"), "x"}
		if len(recs) != 1 || !slices.Equal(recs[0], want) {
			t.Fatalf("%q written as %q read back as %q", v, line, recs)
		}
	})
}
