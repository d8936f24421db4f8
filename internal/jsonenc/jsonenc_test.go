package jsonenc

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAppendString(t *testing.T) {
	for _, s := range []string{"plain", `q"b\`, "ctl\x00\x1f\n\t\r", "한글", "bad\xffutf8", "line\u2028sep\u2029"} {
		out := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, out, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if back != want {
			t.Errorf("%q -> %s -> %q", s, out, back)
		}
	}
}

func TestAppendStringEscapesLineSeparators(t *testing.T) {
	if got := string(AppendString(nil, "a\u2028b\u2029")); got != `"a\u2028b\u2029"` {
		t.Fatalf("got %s", got)
	}
}
