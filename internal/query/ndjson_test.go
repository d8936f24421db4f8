package query

import (
	"encoding/json"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
)

func TestAppendNDJSONEscaping(t *testing.T) {
	r := &Row{Time: base + 1500, HasTime: true, Fields: []event.Field{
		{Name: "message", Value: "a\"b\\c\nd\te\x01f\x7f <&> \xff\xfeg ü"},
		{Name: "k\"ey", Value: "v"},
		{Name: "empty", Value: ""},
	}}
	got := string(AppendNDJSON(nil, r))
	want := `{"timestamp":"2026-11-01T00:00:00.0000015Z","message":"a\"b\\c\nd\te\u0001f` + "\x7f" + ` <&> ` + "\ufffd\ufffd" + `g ü","k\"ey":"v"}` + "\n"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
}

func FuzzAppendNDJSON(f *testing.F) {
	f.Add("plain", "x")
	f.Add("a\"\\\n\x00\xff", "\u2028")
	f.Fuzz(func(t *testing.T, k, v string) {
		out := AppendNDJSON(nil, &Row{Fields: []event.Field{{Name: k, Value: v}}})
		var m map[string]string
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%q %q: %s: %v", k, v, out, err)
		}
	})
}
