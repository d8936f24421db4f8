package query

import (
	"strconv"
	"strings"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/tokenize"
)

// Grammar (keywords AND, OR, NOT in any case):
//
//	query   = or { "|" pipe }
//	or      = and { OR and }
//	and     = unary { [AND] unary }
//	unary   = (NOT | "-") unary | primary
//	primary = "(" or ")" | "*" | word["*"] | "string" | field ":" value
//	value   = "(" or ")" | "*" | word["*"] | "string" | "=" v | "~" v
//	        | (">" | ">=" | "<" | "<=") v | "[" v "," v ("]" | ")")
//
// A field applies to everything inside its parentheses:
// level:(ERROR OR FATAL) is level:ERROR OR level:FATAL.

// timeField is the pseudo-field of the time filter.
const timeField = "_time"

type parser struct {
	lx lexer
}

// Parse parses a query. Errors are *ParseError, pointing at the place.
func Parse(s string) (*Query, error) {
	p := &parser{lx: lexer{src: s}}
	q, err := p.parseQuery()
	if err != nil {
		if pe, ok := err.(*ParseError); ok {
			pe.Column = column(s, pe.Pos)
		}
		return nil, err
	}
	q.src = s
	return q, nil
}

func (p *parser) parseQuery() (*Query, error) {
	f, err := p.parseOr(event.FieldMessage)
	if err != nil {
		return nil, err
	}
	q := &Query{filter: f}
	for {
		t, err := p.lx.next()
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case tkEOF:
			return q, nil
		case tkPipe:
			pp, err := p.parsePipe()
			if err != nil {
				return nil, err
			}
			q.pipes = append(q.pipes, pp)
		default:
			return nil, unexpected(t, `"|" or end of query`)
		}
	}
}

func isWordKw(t token, kw string) bool {
	return t.kind == tkWord && strings.EqualFold(t.text, kw)
}

func (p *parser) parseOr(field string) (filter, error) {
	first, err := p.parseAnd(field)
	if err != nil {
		return nil, err
	}
	children := []filter{first}
	for {
		t, err := p.lx.peek()
		if err != nil {
			return nil, err
		}
		if !isWordKw(t, "or") {
			break
		}
		p.lx.next()
		f, err := p.parseAnd(field)
		if err != nil {
			return nil, err
		}
		if o, ok := f.(*filterOr); ok {
			children = append(children, o.children...)
		} else {
			children = append(children, f)
		}
	}
	if len(children) == 1 {
		return first, nil
	}
	return &filterOr{children: children}, nil
}

// startsTerm reports whether t can begin a filter, for the implicit AND.
func startsTerm(t token) bool {
	switch t.kind {
	case tkWord:
		return !isWordKw(t, "or") && !isWordKw(t, "and")
	case tkString, tkLParen, tkMinus:
		return true
	}
	return false
}

func (p *parser) parseAnd(field string) (filter, error) {
	var children []filter
	add := func(f filter) {
		if a, ok := f.(*filterAnd); ok {
			children = append(children, a.children...)
		} else {
			children = append(children, f)
		}
	}
	f, err := p.parseUnary(field)
	if err != nil {
		return nil, err
	}
	add(f)
	for {
		t, err := p.lx.peek()
		if err != nil {
			return nil, err
		}
		if isWordKw(t, "and") {
			p.lx.next()
		} else if !startsTerm(t) {
			break
		}
		f, err := p.parseUnary(field)
		if err != nil {
			return nil, err
		}
		add(f)
	}
	if len(children) == 1 {
		return children[0], nil
	}
	return &filterAnd{children: children}, nil
}

func (p *parser) parseUnary(field string) (filter, error) {
	t, err := p.lx.peek()
	if err != nil {
		return nil, err
	}
	if t.kind == tkMinus || isWordKw(t, "not") {
		p.lx.next()
		f, err := p.parseUnary(field)
		if err != nil {
			return nil, err
		}
		if n, ok := f.(*filterNot); ok {
			return n.child, nil
		}
		return &filterNot{child: f}, nil
	}
	return p.parsePrimary(field)
}

func (p *parser) expect(k tokKind, what string) (token, error) {
	t, err := p.lx.next()
	if err != nil {
		return t, err
	}
	if t.kind != k {
		return t, unexpected(t, what)
	}
	return t, nil
}

func (p *parser) parsePrimary(field string) (filter, error) {
	t, err := p.lx.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tkLParen:
		f, err := p.parseOr(field)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, `")"`); err != nil {
			return nil, err
		}
		return f, nil
	case tkOp:
		if t.text == "~" {
			v, err := p.lx.next()
			if err != nil {
				return nil, err
			}
			if v.kind != tkString {
				return nil, unexpected(v, "a quoted regular expression")
			}
			return regexFilter(field, v)
		}
	case tkString, tkWord:
		if t.kind == tkWord && (isWordKw(t, "and") || isWordKw(t, "or")) {
			return nil, unexpected(t, "a filter")
		}
		next, err := p.lx.peek()
		if err != nil {
			return nil, err
		}
		if next.kind == tkColon {
			p.lx.next()
			return p.parseFieldValue(fieldName(t.text))
		}
		if t.kind == tkString {
			return p.quoted(field, t), nil
		}
		return bareWord(field, t.text), nil
	}
	return nil, unexpected(t, "a filter")
}

// fieldName maps the LogsQL spellings of built-in fields to ours.
func fieldName(s string) string {
	if s == "_msg" {
		return event.FieldMessage
	}
	return s
}

// bareWord makes the filter of an unquoted word: *, a prefix, a word or a
// phrase (web-1 is the phrase "web-1").
func bareWord(field, w string) filter {
	if w == "*" {
		if field == event.FieldMessage {
			return filterAny{}
		}
		return &filterExists{field: field}
	}
	if len(w) > 1 && strings.HasSuffix(w, "*") {
		return newFilterPrefix(field, w[:len(w)-1])
	}
	return phraseOrWord(field, w)
}

func phraseOrWord(field, s string) filter {
	if s == "" {
		return &filterNot{child: &filterExists{field: field}}
	}
	n := 0
	whole := false
	tokenize.Each(s, func(t string) {
		n++
		whole = t == s
	})
	if n == 1 && whole {
		return newFilterWord(field, s)
	}
	return newFilterPhrase(field, s)
}

func (p *parser) parseFieldValue(field string) (filter, error) {
	if field == timeField {
		return p.parseTimeValue()
	}
	t, err := p.lx.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tkLParen:
		f, err := p.parseOr(field)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, `")"`); err != nil {
			return nil, err
		}
		return f, nil
	case tkString:
		return p.quoted(field, t), nil
	case tkWord:
		if t.text == "*" {
			return &filterExists{field: field}, nil
		}
		return bareWord(field, t.text), nil
	case tkLBracket:
		lo, hi, hiIncl, err := p.parseRangeBounds()
		if err != nil {
			return nil, err
		}
		return newFilterRange(field, lo, hi, true, hiIncl, ""), nil
	case tkOp:
		v, err := p.lx.next()
		if err != nil {
			return nil, err
		}
		if v.kind != tkWord && v.kind != tkString {
			return nil, unexpected(v, "a value")
		}
		switch t.text {
		case "=":
			return newFilterExact(field, v.text), nil
		case "~":
			return regexFilter(field, v)
		case ">", ">=":
			return newFilterRange(field, v.text, "", t.text == ">=", false, t.text), nil
		default:
			return newFilterRange(field, "", v.text, false, t.text == "<=", t.text), nil
		}
	}
	return nil, unexpected(t, "a value")
}

// parseRangeBounds reads `lo, hi]` or `lo, hi)` after the "[". A bound is
// the source text up to the comma or bracket, so timestamps with colons
// need no quotes.
func (p *parser) parseRangeBounds() (lo, hi string, hiIncl bool, err error) {
	lo, err = p.rangeBound(tkComma)
	if err != nil {
		return
	}
	p.lx.next()
	hi, err = p.rangeBound(tkRBracket, tkRParen)
	if err != nil {
		return
	}
	t, _ := p.lx.next()
	return lo, hi, t.kind == tkRBracket, nil
}

func (p *parser) rangeBound(ends ...tokKind) (string, error) {
	first := true
	start, end := 0, 0
	for {
		t, err := p.lx.peek()
		if err != nil {
			return "", err
		}
		for _, k := range ends {
			if t.kind == k && !first {
				return p.lx.src[start:end], nil
			}
		}
		if t.kind == tkString && first {
			p.lx.next()
			if n, err := p.lx.peek(); err == nil {
				for _, k := range ends {
					if n.kind == k {
						return t.text, nil
					}
				}
				return "", unexpected(n, boundWant(ends))
			}
		}
		if t.kind != tkWord && t.kind != tkColon && t.kind != tkOp && t.kind != tkMinus {
			return "", unexpected(t, boundWant(ends))
		}
		if first {
			start = t.pos
			first = false
		}
		end = t.pos + len(t.raw)
		p.lx.next()
	}
}

func boundWant(ends []tokKind) string {
	if ends[0] == tkComma {
		return `a bound and ","`
	}
	return `a bound and "]" or ")"`
}

// parseTimeValue reads `1h` or `[2026-11-01, 2026-11-02)` after `_time:`.
func (p *parser) parseTimeValue() (filter, error) {
	t, err := p.lx.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tkWord, tkString:
		d, err := ParseDuration(t.text)
		if err != nil {
			return nil, &ParseError{Pos: t.pos, Msg: "bad duration " + describe(t), Expected: "a duration like 1h or a range [start, end)"}
		}
		return &filterTime{last: d, text: t.text}, nil
	case tkLBracket:
		loPos := p.lx.pos
		lo, hi, hiIncl, err := p.parseRangeBounds()
		if err != nil {
			return nil, err
		}
		lt, err := ParseTime(lo, time.Time{})
		if err != nil || strings.TrimSpace(lo) == "" {
			return nil, &ParseError{Pos: loPos, Msg: "bad time " + strconv.Quote(lo), Expected: "RFC 3339 or a date"}
		}
		ht, err := ParseTime(hi, time.Time{})
		if err != nil {
			return nil, &ParseError{Pos: loPos, Msg: "bad time " + strconv.Quote(hi), Expected: "RFC 3339 or a date"}
		}
		f := &filterTime{min: lt.UnixNano(), max: ht.UnixNano()}
		if hiIncl {
			f.max++
		}
		r := ")"
		if hiIncl {
			r = "]"
		}
		f.text = "[" + lt.Format(time.RFC3339Nano) + ", " + ht.Format(time.RFC3339Nano) + r
		return f, nil
	}
	return nil, unexpected(t, "a duration like 1h or a range [start, end)")
}

func regexFilter(field string, v token) (filter, error) {
	f, err := newFilterRegex(field, v.text)
	if err != nil {
		return nil, &ParseError{Pos: v.pos, Msg: "bad regular expression", Expected: strings.TrimPrefix(err.Error(), "error parsing regexp: ")}
	}
	return f, nil
}

// quoted makes the filter of a quoted string: a phrase, or a prefix when a
// "*" follows right after the closing quote ("web 1"*).
func (p *parser) quoted(field string, t token) filter {
	if n, err := p.lx.peek(); err == nil && n.kind == tkWord && n.text == "*" && n.pos == t.pos+len(t.raw) {
		p.lx.next()
		if t.text == "" {
			return &filterExists{field: field}
		}
		return newFilterPrefix(field, t.text)
	}
	return phraseOrWord(field, t.text)
}
