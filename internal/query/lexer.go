package query

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind int

const (
	tkEOF      tokKind = iota
	tkWord             // a bare word: web-1, 500, 2026-11-01, error*
	tkString           // a quoted string, unquoted in text
	tkLParen           // (
	tkRParen           // )
	tkLBracket         // [
	tkRBracket         // ]
	tkColon            // :
	tkPipe             // |
	tkComma            // ,
	tkMinus            // - in front of a term: NOT
	tkOp               // >, >=, <, <=, =, ~ (only right after a colon)
)

// token is one lexical token with the byte offset it starts at.
type token struct {
	kind tokKind
	text string // the word, the unquoted string, or the operator
	pos  int
	raw  string // the source text of the token, for error messages
}

// lexer splits a query into tokens on demand. Operators are recognised only
// right after a colon, so `a>b` elsewhere stays one word.
type lexer struct {
	src    string
	pos    int
	prev   tokKind
	peeked *token
}

// isSpecial reports the bytes that end a bare word.
func isSpecial(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '(', ')', '[', ']', ':', '|', ',', '"', '\'':
		return true
	}
	return false
}

func (lx *lexer) peek() (token, error) {
	if lx.peeked != nil {
		return *lx.peeked, nil
	}
	t, err := lx.scan()
	if err != nil {
		return t, err
	}
	lx.peeked = &t
	return t, nil
}

func (lx *lexer) next() (token, error) {
	t, err := lx.peek()
	lx.peeked = nil
	if err == nil {
		lx.prev = t.kind
	}
	return t, err
}

func (lx *lexer) scan() (token, error) {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		lx.pos++
	}
	start := lx.pos
	if start >= len(lx.src) {
		return token{kind: tkEOF, pos: start}, nil
	}
	c := lx.src[start]
	single := func(k tokKind) (token, error) {
		lx.pos++
		return token{kind: k, text: lx.src[start:lx.pos], pos: start, raw: lx.src[start:lx.pos]}, nil
	}
	switch c {
	case '(':
		return single(tkLParen)
	case ')':
		return single(tkRParen)
	case '[':
		return single(tkLBracket)
	case ']':
		return single(tkRBracket)
	case ':':
		return single(tkColon)
	case '|':
		return single(tkPipe)
	case ',':
		return single(tkComma)
	case '"', '\'':
		return lx.scanString(c)
	}
	if c == '~' && start+1 < len(lx.src) && (lx.src[start+1] == '"' || lx.src[start+1] == '\'') {
		// ~"re" without a field: a regular expression on the message.
		return single(tkOp)
	}
	if lx.prev == tkColon {
		switch c {
		case '>', '<':
			lx.pos++
			if lx.pos < len(lx.src) && lx.src[lx.pos] == '=' {
				lx.pos++
			}
			return token{kind: tkOp, text: lx.src[start:lx.pos], pos: start, raw: lx.src[start:lx.pos]}, nil
		case '=', '~':
			return single(tkOp)
		}
	}
	if c == '-' && lx.prev != tkColon && lx.prev != tkOp && start+1 < len(lx.src) && !isSpecial(lx.src[start+1]) {
		return single(tkMinus)
	}
	for lx.pos < len(lx.src) && !isSpecial(lx.src[lx.pos]) {
		lx.pos++
	}
	w := lx.src[start:lx.pos]
	return token{kind: tkWord, text: w, pos: start, raw: w}, nil
}

// scanString reads a quoted string with Go-like escapes (\" \' \\ \n \t \uXXXX).
func (lx *lexer) scanString(q byte) (token, error) {
	start := lx.pos
	i := start + 1
	var b strings.Builder
	plain := true
	for i < len(lx.src) {
		c := lx.src[i]
		if c == q {
			lx.pos = i + 1
			text := lx.src[start+1 : i]
			if !plain {
				text = b.String()
			}
			return token{kind: tkString, text: text, pos: start, raw: lx.src[start:lx.pos]}, nil
		}
		if c == '\\' {
			if plain {
				b.WriteString(lx.src[start+1 : i])
				plain = false
			}
			if i+1 >= len(lx.src) {
				break
			}
			r, multibyte, tail, err := strconv.UnquoteChar(lx.src[i:], q)
			if err != nil {
				return token{}, &ParseError{Pos: i, Msg: "invalid escape in string"}
			}
			if multibyte || r < utf8.RuneSelf {
				b.WriteRune(r)
			} else {
				b.WriteByte(byte(r)) // hex and octal escapes are bytes
			}
			i = len(lx.src) - len(tail)
			continue
		}
		if !plain {
			b.WriteByte(c)
		}
		i++
	}
	return token{}, &ParseError{Pos: start, Msg: "unterminated string"}
}

// column turns a byte offset into a 1-based column counted in characters.
func column(src string, pos int) int {
	if pos > len(src) {
		pos = len(src)
	}
	return utf8.RuneCountInString(src[:pos]) + 1
}

// describe names a token the way an error message shows it.
func describe(t token) string {
	if t.kind == tkEOF {
		return "end of query"
	}
	return strconv.Quote(t.raw)
}
