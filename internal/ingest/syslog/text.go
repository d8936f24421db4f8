package syslog

import (
	"bytes"
	"unicode/utf8"
	"unsafe"
)

// trimTrailer removes the LF, CR and NUL bytes framing leaves at the end of
// a message (an octet count covers a trailing LF; Python ends with NUL).
func trimTrailer(msg []byte) []byte {
	for n := len(msg); n > 0; n-- {
		if c := msg[n-1]; c != '\n' && c != '\r' && c != 0 {
			return msg[:n]
		}
	}
	return msg[:0]
}

// hasEscape reports whether text may hold an escape unescapeMessage undoes;
// most messages have neither byte, and IndexByte is vectorised.
func hasEscape(text []byte) bool {
	return bytes.IndexByte(text, '#') >= 0 || bytes.IndexByte(text, '\\') >= 0
}

// unescapeMessage appends text to dst with the escapes senders put on
// multi-line messages undone: rsyslog's octal control-character escapes
// "#012" (LF) and "#011" (tab), and a literal backslash-n. A doubled
// backslash is copied as is, so "\\n" (an escaped backslash before an n)
// stays what the sender meant.
func unescapeMessage(dst, text []byte) []byte {
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '#' && i+3 < len(text) && text[i+1] == '0' && text[i+2] == '1' && (text[i+3] == '2' || text[i+3] == '1'):
			if text[i+3] == '2' {
				dst = append(dst, '\n')
			} else {
				dst = append(dst, '\t')
			}
			i += 3
		case c == '\\' && i+1 < len(text) && text[i+1] == 'n':
			dst = append(dst, '\n')
			i++
		case c == '\\' && i+1 < len(text) && text[i+1] == '\\':
			dst = append(dst, '\\', '\\')
			i++
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// unescapeSDValue appends an RFC 5424 PARAM-VALUE to dst with its escapes
// \" \\ \] undone; a backslash before any other byte is an ordinary
// backslash (RFC 5424 section 6.3.3).
func unescapeSDValue(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\' || v[i+1] == ']') {
			i++
		}
		dst = append(dst, v[i])
	}
	return dst
}

// appendValidUTF8 appends p to dst with every invalid byte replaced by
// U+FFFD. Syslog's delimiters are ASCII, so repairing the whole message
// before parsing cannot move a field boundary.
func appendValidUTF8(dst, p []byte) []byte {
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, p[:size]...)
		}
		p = p[size:]
	}
	return dst
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// bytesView returns p as a string without copying; the string must not
// outlive p's next change.
func bytesView(p []byte) string {
	return unsafe.String(unsafe.SliceData(p), len(p))
}
