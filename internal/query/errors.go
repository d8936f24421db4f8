package query

import "strconv"

// ParseError is a query the parser rejects, with the place it went wrong.
type ParseError struct {
	Pos      int    // byte offset in the query
	Column   int    // 1-based column, in characters
	Msg      string // what was found: `unexpected ")"`
	Expected string // what was wanted, or ""
}

func (e *ParseError) Error() string {
	s := e.Msg + " at column " + strconv.Itoa(e.Column)
	if e.Expected != "" {
		s += ": expected " + e.Expected
	}
	return s
}

func unexpected(t token, expected string) *ParseError {
	return &ParseError{Pos: t.pos, Msg: "unexpected " + describe(t), Expected: expected}
}
