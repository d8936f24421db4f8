package loki

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// parseLabels reads a stream's labels in Prometheus's text form, as the
// protobuf push carries them: {name="value", name2="value2"}, values
// quoted with Go escapes. It calls fn for each pair; value may point into
// scratch, which fn must copy before the next call. It returns the grown
// scratch buffer.
func parseLabels(s []byte, scratch []byte, fn func(name, value []byte)) ([]byte, error) {
	s = trimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return scratch, errors.New("labels must be {name=\"value\", ...}")
	}
	s = trimSpace(s[1 : len(s)-1])
	for len(s) > 0 {
		i := 0
		for i < len(s) && isNameByte(s[i], i == 0) {
			i++
		}
		if i == 0 {
			return scratch, errors.New("labels: expected a label name")
		}
		name := s[:i]
		s = trimSpace(s[i:])
		if len(s) == 0 || s[0] != '=' {
			return scratch, errors.New("labels: expected = after " + strconv.Quote(string(name)))
		}
		s = trimSpace(s[1:])
		if len(s) == 0 || s[0] != '"' {
			return scratch, errors.New("labels: expected a quoted value")
		}
		var err error
		var value []byte
		value, s, scratch, err = unquote(s, scratch)
		if err != nil {
			return scratch, err
		}
		fn(name, value)
		s = trimSpace(s)
		if len(s) > 0 {
			if s[0] != ',' {
				return scratch, errors.New("labels: expected , between labels")
			}
			s = trimSpace(s[1:])
		}
	}
	return scratch, nil
}

// unquote reads the quoted string at the start of s (s[0] == '"') and
// returns its value and the rest of s. Without escapes the value is a part
// of s; with them it is built in scratch.
func unquote(s []byte, scratch []byte) (value, rest, scratchOut []byte, err error) {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return s[1:i], s[i+1:], scratch, nil
		case '\\':
			return unquoteSlow(s, scratch)
		}
	}
	return nil, nil, scratch, errors.New("labels: unterminated quoted value")
}

func unquoteSlow(s []byte, scratch []byte) (value, rest, scratchOut []byte, err error) {
	out := scratch[:0]
	str := bytesView(s[1:])
	for len(str) > 0 {
		if str[0] == '"' {
			return out, s[len(s)-len(str)+1:], out, nil
		}
		r, multibyte, tail, err := strconv.UnquoteChar(str, '"')
		if err != nil {
			return nil, nil, out, errors.New("labels: bad escape in quoted value")
		}
		if multibyte || r >= utf8.RuneSelf {
			out = utf8.AppendRune(out, r)
		} else {
			out = append(out, byte(r))
		}
		str = tail
	}
	return nil, nil, out, errors.New("labels: unterminated quoted value")
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9' || !first && c == '.'
}

func trimSpace(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\n') {
		s = s[:len(s)-1]
	}
	return s
}
