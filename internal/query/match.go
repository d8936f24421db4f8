package query

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/logcaster/logcaster/internal/tokenize"
)

// The matchers below find whole tokens (tokenize semantics) ignoring case,
// on the block's strings as they are: lower-casing every value first would
// allocate and copy per row, which is most of a scan's cost.

// tokenMatcher finds a token equal to word, ignoring case; with prefix set,
// a token that starts with word.
type tokenMatcher struct {
	word   string
	prefix bool
	ascii  bool
	k      int  // the offset of the byte searched for: the rarest
	lo, up byte // that byte in lower and upper case
}

func newTokenMatcher(word string, prefix bool) tokenMatcher {
	m := tokenMatcher{word: word, prefix: prefix, ascii: true}
	for i := 0; i < len(word); i++ {
		if word[i] >= utf8.RuneSelf {
			m.ascii = false
			break
		}
	}
	if len(word) > 0 && m.ascii {
		m.k = rarestByte(word, true)
		m.lo, m.up = lowerASCII(word[m.k]), upperASCII(word[m.k])
	}
	return m
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// equalFoldASCII compares s and t (same length, t ASCII) ignoring ASCII case.
func equalFoldASCII(s, t string) bool {
	for i := 0; i < len(t); i++ {
		a, b := s[i], t[i]
		if a != b && lowerASCII(a) != lowerASCII(b) {
			return false
		}
	}
	return true
}

// tokenStartAt reports whether no token continues across offset i from the left.
func tokenStartAt(s string, i int) bool {
	if i == 0 {
		return true
	}
	c := s[i-1]
	if c < utf8.RuneSelf {
		return !tokenize.IsTokenByte(c)
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// tokenEndAt reports whether no token continues across offset i to the right.
func tokenEndAt(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	c := s[i]
	if c < utf8.RuneSelf {
		return !tokenize.IsTokenByte(c)
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// match reports whether s holds the token.
func (m *tokenMatcher) match(s string) bool {
	_, _, ok := m.index(s, 0)
	return ok
}

// index returns the offset of the first match at or after from and the
// offset just past it.
func (m *tokenMatcher) index(s string, from int) (start, end int, ok bool) {
	if len(m.word) == 0 {
		return 0, 0, false
	}
	if !m.ascii {
		return m.indexUnicode(s, from)
	}
	w, k := m.word, m.k
	// Find candidates with IndexByte (vectorised) for each case of the
	// word's rarest byte, keeping the next position of each so neither is
	// searched twice; a candidate at j is a match starting at j-k.
	nextLo, nextUp := -2, -2
	if m.lo == m.up {
		nextUp = -1
	}
	for from <= len(s)-len(w) {
		at := from + k
		if nextLo != -1 && nextLo < at {
			nextLo = strings.IndexByte(s[at:], m.lo)
			if nextLo >= 0 {
				nextLo += at
			}
		}
		if nextUp != -1 && nextUp < at {
			nextUp = strings.IndexByte(s[at:], m.up)
			if nextUp >= 0 {
				nextUp += at
			}
		}
		j := nextLo
		if j < 0 || (nextUp >= 0 && nextUp < j) {
			j = nextUp
		}
		if j < 0 || j-k > len(s)-len(w) {
			return 0, 0, false
		}
		j -= k
		if equalFoldASCII(s[j:j+len(w)], w) && tokenStartAt(s, j) {
			e := j + len(w)
			if m.prefix {
				for e < len(s) && !tokenEndAt(s, e) {
					_, size := utf8.DecodeRuneInString(s[e:])
					e += size
				}
				return j, e, true
			}
			if tokenEndAt(s, e) {
				return j, e, true
			}
		}
		from = j + 1
	}
	return 0, 0, false
}

// indexUnicode handles words with non-ASCII letters by walking the tokens;
// such words are rare enough in queries not to deserve a faster path.
func (m *tokenMatcher) indexUnicode(s string, from int) (start, end int, ok bool) {
	start = -1
	prevTok := !tokenStartAt(s, from)
	for i := from; i <= len(s); {
		inTok := false
		size := 1
		if i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				inTok = tokenize.IsTokenByte(c)
			} else {
				var r rune
				r, size = utf8.DecodeRuneInString(s[i:])
				inTok = unicode.IsLetter(r) || unicode.IsDigit(r)
			}
		}
		if inTok && !prevTok {
			start = i
		}
		if !inTok && start >= 0 {
			tok := s[start:i]
			if strings.EqualFold(tok, m.word) ||
				m.prefix && len(tok) >= len(m.word) && strings.EqualFold(prefixRunes(tok, m.word), m.word) {
				return start, i, true
			}
			start = -1
		}
		prevTok = inTok
		if i == len(s) {
			break
		}
		i += size
	}
	return 0, 0, false
}

// prefixRunes returns the start of tok with as many runes as word has.
func prefixRunes(tok, word string) string {
	n := utf8.RuneCountInString(word)
	i := 0
	for k := 0; k < n && i < len(tok); k++ {
		_, size := utf8.DecodeRuneInString(tok[i:])
		i += size
	}
	return tok[:i]
}

// skipNonToken returns the offset of the next token start at or after i.
func skipNonToken(s string, i int) int {
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if tokenize.IsTokenByte(c) {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return i
		}
		i += size
	}
	return i
}

// phraseMatcher finds consecutive tokens in order, with only non-token
// characters between them, ignoring case.
type phraseMatcher struct {
	first tokenMatcher
	rest  []string
}

func newPhraseMatcher(tokens []string) phraseMatcher {
	return phraseMatcher{first: newTokenMatcher(tokens[0], false), rest: tokens[1:]}
}

func (m *phraseMatcher) match(s string) bool {
	from := 0
	for {
		start, end, ok := m.first.index(s, from)
		if !ok {
			return false
		}
		if m.restAt(s, end) {
			return true
		}
		from = start + 1
	}
}

func (m *phraseMatcher) restAt(s string, p int) bool {
	for _, t := range m.rest {
		p = skipNonToken(s, p)
		if len(s)-p < len(t) {
			return false
		}
		cand := s[p : p+len(t)]
		if !(cand == t || strings.EqualFold(cand, t)) {
			// A non-ASCII fold can change byte lengths; compare by token.
			e := p
			for e < len(s) && !tokenEndAt(s, e) {
				_, size := utf8.DecodeRuneInString(s[e:])
				e += size
			}
			if !strings.EqualFold(s[p:e], t) {
				return false
			}
			p = e
			continue
		}
		p += len(t)
		if !tokenEndAt(s, p) {
			return false
		}
	}
	return true
}
