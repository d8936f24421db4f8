package query

import "testing"

func TestExactMatch(t *testing.T) {
	for _, tc := range []struct {
		q            string
		field, value string
		ok           bool
	}{
		{`service:=s0`, "service", "s0", true},
		{`service:="S 0"`, "service", "S 0", true},
		{`service:=""`, "service", "", true},
		{`(service:=s0)`, "service", "s0", true},
		{`_msg:=hello`, "message", "hello", true},
		{`level:=ERROR`, "level", "ERROR", true},
		{`service:=s0 | limit 5`, "", "", false},
		{`service:=s0 level:=ERROR`, "", "", false},
		{`service:=s0 OR service:=s1`, "", "", false},
		{`NOT service:=s0`, "", "", false},
		{`service:s0`, "", "", false},
		{`service:=s0*`, "service", "s0*", true},
		{`s0`, "", "", false},
		{`*`, "", "", false},
	} {
		q, err := Parse(tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		f, v, ok := q.ExactMatch()
		if f != tc.field || v != tc.value || ok != tc.ok {
			t.Errorf("%s: ExactMatch = %q, %q, %v; want %q, %q, %v", tc.q, f, v, ok, tc.field, tc.value, tc.ok)
		}
	}
}
