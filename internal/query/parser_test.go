package query

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestParseData runs the cases of testdata/parse.txt: each query's
// canonical form or error, and that the canonical form parses back to
// itself.
func TestParseData(t *testing.T) {
	data, err := os.ReadFile("testdata/parse.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	cases := 0
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if !strings.HasPrefix(line, ">") {
			continue
		}
		query := strings.TrimPrefix(strings.TrimPrefix(line, ">"), " ")
		if i+1 >= len(lines) {
			t.Fatalf("line %d: query without expectation", i+1)
		}
		want := lines[i+1]
		i++
		cases++
		q, err := Parse(query)
		got := ""
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("line %d: %q: error %v is not a *ParseError", i, query, err)
			}
			got = "error: " + err.Error()
		} else {
			got = q.String()
			q2, err := Parse(got)
			if err != nil {
				t.Errorf("line %d: canonical %q does not parse: %v", i, got, err)
			} else if q2.String() != got {
				t.Errorf("line %d: canonical %q parses to %q", i, got, q2.String())
			}
		}
		if got != want {
			t.Errorf("line %d: %q\n got: %s\nwant: %s", i, query, got, want)
		}
	}
	if cases < 40 {
		t.Fatalf("only %d cases read", cases)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"timeout", `"connection refused"`, "level:(ERROR OR FATAL) AND NOT host:db-1",
		"status:>=500", "latency_ms:[100, 250)", `message:~"time(d)? ?out"`, "host:web-*",
		"_time:[2026-11-01, 2026-11-02)", "* | stats count() by (level, _time:1h)",
		"* | top 10 (host)", "a | sort by (x desc) | limit 3 | fields a, b", `"a \" b"`, "-x:*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%q: error %v is not a *ParseError", s, err)
			}
			if pe.Pos < 0 || pe.Pos > len(s) {
				t.Fatalf("%q: error position %d out of range", s, pe.Pos)
			}
			return
		}
		c := q.String()
		q2, err := Parse(c)
		if err != nil {
			t.Fatalf("%q: canonical %q does not parse: %v", s, c, err)
		}
		if q2.String() != c {
			t.Fatalf("%q: canonical %q parses to %q", s, c, q2.String())
		}
	})
}
