package issues

import (
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// maxFingerprintFrames bounds the frames hashed: deep recursion would make
// every depth its own issue, and the top frames decide the group anyway.
const maxFingerprintFrames = 50

// Fingerprint returns the grouping key of e, as Sentry's default grouping
// does it, first rule that applies:
//
//  1. the SDK's own fingerprint, with "{{ default }}" standing for rule 2-4;
//  2. the exception types and the in-app frames (module and function, never
//     line numbers, so a redeploy that moves code keeps the issue);
//  3. the exception types and all frames;
//  4. the exception type and the message, with numbers, hex, UUIDs and
//     quoted values normalised away.
func Fingerprint(e *ErrorEvent) string {
	if len(e.Fingerprint) > 0 {
		h := xxhash.New()
		for _, part := range e.Fingerprint {
			if part == "{{ default }}" || part == "{{default}}" {
				part = defaultFingerprint(e)
			}
			h.WriteString(part)
			h.WriteString("\x00")
		}
		return "sdk:" + strconv.FormatUint(h.Sum64(), 16)
	}
	return defaultFingerprint(e)
}

func defaultFingerprint(e *ErrorEvent) string {
	h := xxhash.New()
	for _, inAppOnly := range []bool{true, false} {
		h.Reset()
		frames := 0
		for i := range e.Exceptions {
			ex := &e.Exceptions[i]
			h.WriteString(ex.Type)
			h.WriteString("\x00")
			n := 0
			for j := len(ex.Frames) - 1; j >= 0 && n < maxFingerprintFrames; j-- {
				f := &ex.Frames[j]
				if inAppOnly && !f.InApp {
					continue
				}
				n++
				h.WriteString(f.Module)
				h.WriteString("\x01")
				h.WriteString(f.Function)
				h.WriteString("\x00")
			}
			frames += n
		}
		if frames > 0 {
			if inAppOnly {
				return "app:" + strconv.FormatUint(h.Sum64(), 16)
			}
			return "stack:" + strconv.FormatUint(h.Sum64(), 16)
		}
	}
	h.Reset()
	msg := e.Message
	if ex := e.mainException(); ex != nil {
		h.WriteString(ex.Type)
		if msg == "" {
			msg = ex.Value
		}
	}
	h.WriteString("\x00")
	h.WriteString(NormalizeMessage(msg))
	return "msg:" + strconv.FormatUint(h.Sum64(), 16)
}

// NormalizeMessage replaces the parts of a message that change from one
// occurrence to the next with placeholders: UUIDs become <uuid>, hex
// numbers (0x.. or 8+ hex digits with a digit) <hex>, numbers <n>, quoted
// values '<q>' or "<q>". "user 42 not found in 'eu-1'" and "user 7 not
// found in 'us-2'" normalise alike.
func NormalizeMessage(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			if j := strings.IndexByte(s[i+1:], c); j >= 0 && j < 256 {
				b.WriteByte(c)
				b.WriteString("<q>")
				b.WriteByte(c)
				i += j + 2
				continue
			}
		case isHexDigit(c) && (i == 0 || !isWordByte(s[i-1])):
			end := i
			for end < len(s) && (isHexDigit(s[end]) || s[end] == '-') {
				end++
			}
			if end < len(s) && isWordByte(s[end]) && !(c == '0' && end == i+1 && (s[end] == 'x' || s[end] == 'X')) {
				break // a word that starts like hex: "deadline", "face2face"
			}
			tok := s[i:end]
			switch {
			case isUUID(tok):
				b.WriteString("<uuid>")
				i = end
				continue
			case c == '0' && end == i+1 && end < len(s) && (s[end] == 'x' || s[end] == 'X'):
				j := end + 1
				for j < len(s) && isHexDigit(s[j]) {
					j++
				}
				if j > end+1 {
					b.WriteString("<hex>")
					i = j
					continue
				}
			case !strings.Contains(tok, "-") && len(tok) >= 8 && hasDigit(tok):
				b.WriteString("<hex>")
				i = end
				continue
			}
			if c >= '0' && c <= '9' {
				j := i
				for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9') {
					j++
				}
				if j == len(s) || !isWordByte(s[j]) {
					b.WriteString("<n>")
					i = j
					continue
				}
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			return true
		}
	}
	return false
}

// isUUID tells whether s is 8-4-4-4-12 hex digits.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return false
			}
		} else if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}
