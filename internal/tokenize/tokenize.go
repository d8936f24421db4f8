// Package tokenize splits text into the words the store indexes in its bloom
// filters and the query language matches: maximal runs of letters, digits and
// '_' (Unicode letters included), compared case-insensitively. The store and
// the query engine must agree on this exactly, which is why it lives apart.
package tokenize

import (
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// MaxTokenLen bounds the tokens that are hashed into bloom filters; a longer
// run (a base64 blob, a long hex dump) is still matched by scanning but is
// not indexed, so it cannot fill a filter on its own.
const MaxTokenLen = 64

// IsTokenByte reports whether the ASCII byte c belongs to a token.
func IsTokenByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// Each calls fn with every token of s, in order, as a substring of s (not
// lower-cased). It does not allocate.
func Each(s string, fn func(tok string)) {
	for i := 0; ; {
		start, end := Next(s, i)
		if start < 0 {
			return
		}
		fn(s[start:end])
		i = end
	}
}

// Next returns the bounds of the first token of s at or after byte from
// (which must not fall inside a token), or -1, -1 when there is none. It
// is Each without the callback, for callers that also need the text
// between the tokens.
func Next(s string, from int) (start, end int) {
	start = -1
	for i := from; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if IsTokenByte(c) {
				if start < 0 {
					start = i
				}
			} else if start >= 0 {
				return start, i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			return start, i
		}
		i += size
	}
	if start >= 0 {
		return start, len(s)
	}
	return -1, -1
}

// Hash returns the hash of a token, case folded: Hash("Error") ==
// Hash("ERROR"). Tokens of ASCII letters fold without allocating.
func Hash(tok string) uint64 {
	var buf [MaxTokenLen]byte
	if len(tok) <= MaxTokenLen {
		ascii := true
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if c >= utf8.RuneSelf {
				ascii = false
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if ascii {
			return xxhash.Sum64(buf[:len(tok)])
		}
	}
	return xxhash.Sum64String(foldString(tok))
}

func foldString(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = utf8.AppendRune(b, unicode.ToLower(r))
	}
	return string(b)
}

// AppendHashes appends the hashes of the indexable tokens of s to dst.
func AppendHashes(dst []uint64, s string) []uint64 {
	Each(s, func(tok string) {
		if len(tok) <= MaxTokenLen {
			dst = append(dst, Hash(tok))
		}
	})
	return dst
}
