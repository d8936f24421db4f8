package query

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// refHasToken is the matchers' reference: tokenize the value and compare
// each token, ignoring case.
func refHasToken(s, word string, prefix bool) bool {
	for _, t := range refTokens(s) {
		if t == strings.ToLower(word) || prefix && strings.HasPrefix(t, strings.ToLower(word)) {
			return true
		}
	}
	return false
}

func TestMatchers(t *testing.T) {
	vals := []string{
		"", "from", "FROM", "xfrom", "fromx", "a from b", "a-From-b", "ffrom from", "frfrom", "fro",
		"BlockManager", "ockMana", "oockManaa", "ockManockMana", "xxxxxxxockMan", "M", "MM",
		"blk_123 of blk_1234", "ERROR: forbidden", "forbiddenforbidden forbidden.",
	}
	words := []string{"from", "forbidden", "blk_123", "ockmana", "m", "error"}
	for _, v := range vals {
		for _, w := range words {
			for _, prefix := range []bool{false, true} {
				m := newTokenMatcher(w, prefix)
				if got, want := m.match(v), refHasToken(v, w, prefix); got != want {
					t.Errorf("token %q prefix=%v in %q: got %v, want %v", w, prefix, v, got, want)
				}
			}
		}
		for _, n := range []string{"ockMana", "M", "from", "om", "k_1"} {
			m := newSubstrMatcher(n)
			if got, want := m.match(v), strings.Contains(v, n); got != want {
				t.Errorf("substring %q in %q: got %v, want %v", n, v, got, want)
			}
		}
	}
}

// FuzzMatchers checks the rare-byte searches against their references.
func FuzzMatchers(f *testing.F) {
	f.Add("a from b FROM", "from")
	f.Add("BlockManager stored", "ockMana")
	f.Add("xx_1 x_12", "x_1")
	f.Fuzz(func(t *testing.T, s, w string) {
		if len(w) == 0 || len(w) > 20 || !utf8.ValidString(w) {
			return
		}
		sm := newSubstrMatcher(w)
		if got, want := sm.match(s), strings.Contains(s, w); got != want {
			t.Fatalf("substring %q in %q: got %v, want %v", w, s, got, want)
		}
		toks := refTokens(w)
		if len(toks) != 1 || toks[0] != strings.ToLower(w) {
			return // the word filter is given single tokens only
		}
		for _, prefix := range []bool{false, true} {
			m := newTokenMatcher(w, prefix)
			if got, want := m.match(s), refHasToken(s, w, prefix); got != want && utf8.ValidString(s) {
				t.Fatalf("token %q prefix=%v in %q: got %v, want %v", w, prefix, s, got, want)
			}
		}
	})
}
