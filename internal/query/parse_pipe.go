package query

import (
	"strconv"
	"strings"

	"github.com/logcaster/logcaster/internal/event"
)

// maxPipeLimit bounds N in limit, offset and top so that a typo cannot ask
// for a heap the size of the address space.
const maxPipeLimit = 1 << 30

func (p *parser) parsePipe() (pipe, error) {
	t, err := p.lx.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tkWord {
		return nil, unexpected(t, pipeNames)
	}
	switch strings.ToLower(t.text) {
	case "limit", "head":
		n, err := p.parseCount()
		if err != nil {
			return nil, err
		}
		return &pipeLimit{n: n}, nil
	case "offset", "skip":
		n, err := p.parseCount()
		if err != nil {
			return nil, err
		}
		return &pipeOffset{n: n}, nil
	case "fields", "keep":
		names, err := p.parseNames(false)
		if err != nil {
			return nil, err
		}
		return &pipeFields{names: names}, nil
	case "sort":
		return p.parseSort()
	case "stats":
		return p.parseStats()
	case "top":
		n, err := p.parseCount()
		if err != nil {
			return nil, err
		}
		if t, _ := p.lx.peek(); isWordKw(t, "by") {
			p.lx.next()
		}
		names, err := p.parseNames(true)
		if err != nil {
			return nil, err
		}
		if len(names) != 1 {
			return nil, &ParseError{Pos: t.pos, Msg: "top takes one field"}
		}
		return newPipeTop(n, names[0]), nil
	case "uniq":
		if err := p.expectWord("by"); err != nil {
			return nil, err
		}
		names, err := p.parseNames(true)
		if err != nil {
			return nil, err
		}
		return &pipeUniq{names: names}, nil
	case "extract":
		return p.parseExtract()
	case "unpack_json":
		from, err := p.parseFrom()
		if err != nil {
			return nil, err
		}
		return &pipeUnpackJSON{from: from}, nil
	case "where", "filter":
		f, err := p.parseOr("message")
		if err != nil {
			return nil, err
		}
		return &pipeWhere{f: f}, nil
	}
	return nil, unexpected(t, pipeNames)
}

// pipeNames lists the pipes, for errors.
const pipeNames = "a pipe (limit, offset, fields, sort, stats, top, uniq, where, extract, unpack_json)"

// parseFrom reads an optional `from field`; the message when absent.
func (p *parser) parseFrom() (string, error) {
	if t, _ := p.lx.peek(); !isWordKw(t, "from") {
		return event.FieldMessage, nil
	}
	p.lx.next()
	t, err := p.lx.next()
	if err != nil {
		return "", err
	}
	if t.kind != tkWord && t.kind != tkString {
		return "", unexpected(t, "a field name")
	}
	return fieldName(t.text), nil
}

// parseExtract reads `extract "pattern" [from field]` or
// `extract from field "pattern"`.
func (p *parser) parseExtract() (pipe, error) {
	from, err := p.parseFrom()
	if err != nil {
		return nil, err
	}
	t, err := p.lx.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tkString {
		return nil, unexpected(t, `a quoted pattern like "user=<user> "`)
	}
	steps, perr := parseExtractPattern(t.text)
	if perr != nil {
		return nil, &ParseError{Pos: t.pos, Msg: "bad extract pattern: " + perr.Error()}
	}
	if from == event.FieldMessage {
		if from, err = p.parseFrom(); err != nil {
			return nil, err
		}
	}
	return &pipeExtract{pattern: t.text, from: from, steps: steps}, nil
}

func (p *parser) expectWord(w string) error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	if !isWordKw(t, w) {
		return unexpected(t, strconv.Quote(w))
	}
	return nil
}

func (p *parser) parseCount() (int, error) {
	t, err := p.lx.next()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(t.text)
	if t.kind != tkWord || err != nil || n < 0 || n > maxPipeLimit {
		return 0, unexpected(t, "a number")
	}
	return n, nil
}

// parseNames reads `a, b` or `(a, b)`; parens are required when asked.
func (p *parser) parseNames(parens bool) ([]string, error) {
	t, err := p.lx.peek()
	if err != nil {
		return nil, err
	}
	open := t.kind == tkLParen
	if parens && !open {
		return nil, unexpected(t, `"("`)
	}
	if open {
		p.lx.next()
	}
	var names []string
	for {
		t, err := p.lx.next()
		if err != nil {
			return nil, err
		}
		if t.kind != tkWord && t.kind != tkString {
			return nil, unexpected(t, "a field name")
		}
		names = append(names, fieldName(t.text))
		n, err := p.lx.peek()
		if err != nil {
			return nil, err
		}
		if n.kind != tkComma {
			break
		}
		p.lx.next()
	}
	if open {
		if _, err := p.expect(tkRParen, `"," or ")"`); err != nil {
			return nil, err
		}
	}
	return names, nil
}

func (p *parser) parseSort() (pipe, error) {
	if err := p.expectWord("by"); err != nil {
		return nil, err
	}
	if _, err := p.expect(tkLParen, `"("`); err != nil {
		return nil, err
	}
	s := &pipeSort{}
	for {
		t, err := p.lx.next()
		if err != nil {
			return nil, err
		}
		if t.kind != tkWord && t.kind != tkString {
			return nil, unexpected(t, "a field name")
		}
		k := sortKey{field: fieldName(t.text)}
		n, _ := p.lx.peek()
		if isWordKw(n, "desc") || isWordKw(n, "asc") {
			p.lx.next()
			k.desc = isWordKw(n, "desc")
		}
		s.keys = append(s.keys, k)
		n, err = p.lx.next()
		if err != nil {
			return nil, err
		}
		if n.kind == tkRParen {
			return s, nil
		}
		if n.kind != tkComma {
			return nil, unexpected(n, `"," or ")"`)
		}
	}
}

func (p *parser) parseStats() (pipe, error) {
	s := &pipeStats{}
	for {
		f, err := p.parseStatsFunc()
		if err != nil {
			return nil, err
		}
		name := f.String()
		if t, _ := p.lx.peek(); isWordKw(t, "as") {
			p.lx.next()
			t, err := p.lx.next()
			if err != nil {
				return nil, err
			}
			if t.kind != tkWord && t.kind != tkString {
				return nil, unexpected(t, "a result name")
			}
			name = t.text
		}
		s.funcs = append(s.funcs, f)
		s.names = append(s.names, name)
		t, _ := p.lx.peek()
		if t.kind != tkComma {
			break
		}
		p.lx.next()
	}
	t, _ := p.lx.peek()
	if !isWordKw(t, "by") {
		return s, nil
	}
	p.lx.next()
	if _, err := p.expect(tkLParen, `"("`); err != nil {
		return nil, err
	}
	for {
		t, err := p.lx.next()
		if err != nil {
			return nil, err
		}
		if t.kind != tkWord && t.kind != tkString {
			return nil, unexpected(t, "a field name")
		}
		name := fieldName(t.text)
		if name == timeField || name == "timestamp" {
			name = timeField
			if _, err := p.expect(tkColon, `":" and a step like 1h`); err != nil {
				return nil, err
			}
			st, err := p.lx.next()
			if err != nil {
				return nil, err
			}
			d, derr := ParseDuration(st.text)
			if st.kind != tkWord || derr != nil {
				return nil, unexpected(st, "a step like 1h")
			}
			if s.step != 0 {
				return nil, &ParseError{Pos: t.pos, Msg: "a second time step", Expected: "one _time step"}
			}
			s.step = d
		}
		s.by = append(s.by, name)
		n, err := p.lx.next()
		if err != nil {
			return nil, err
		}
		if n.kind == tkRParen {
			return s, nil
		}
		if n.kind != tkComma {
			return nil, unexpected(n, `"," or ")"`)
		}
	}
}

// statsFuncNames lists the functions, for errors.
const statsFuncNames = "count, count_uniq, sum, min, max, avg, quantile"

func (p *parser) parseStatsFunc() (statsFunc, error) {
	t, err := p.lx.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tkWord {
		return nil, unexpected(t, "a stats function ("+statsFuncNames+")")
	}
	name := strings.ToLower(t.text)
	if _, err := p.expect(tkLParen, `"("`); err != nil {
		return nil, err
	}
	var args []token
	for {
		a, err := p.lx.next()
		if err != nil {
			return nil, err
		}
		if a.kind == tkRParen && len(args) == 0 {
			break
		}
		if a.kind != tkWord && a.kind != tkString {
			return nil, unexpected(a, "an argument")
		}
		args = append(args, a)
		n, err := p.lx.next()
		if err != nil {
			return nil, err
		}
		if n.kind == tkRParen {
			break
		}
		if n.kind != tkComma {
			return nil, unexpected(n, `"," or ")"`)
		}
	}
	field := func() (string, error) {
		if len(args) != 1 {
			return "", &ParseError{Pos: t.pos, Msg: name + " takes one field"}
		}
		return fieldName(args[0].text), nil
	}
	switch name {
	case "count":
		if len(args) == 0 || len(args) == 1 && args[0].text == "*" {
			return &statsCount{}, nil
		}
		f, err := field()
		return &statsCount{f: f}, err
	case "count_uniq":
		f, err := field()
		return &statsCountUniq{f: f}, err
	case "sum":
		f, err := field()
		return &statsSum{f: f}, err
	case "avg":
		f, err := field()
		return &statsAvg{f: f}, err
	case "min", "max":
		f, err := field()
		return &statsMinMax{f: f, isMax: name == "max"}, err
	case "quantile":
		if len(args) != 2 {
			return nil, &ParseError{Pos: t.pos, Msg: "quantile takes a fraction and a field"}
		}
		phi, err := strconv.ParseFloat(args[0].text, 64)
		if err != nil || phi < 0 || phi > 1 {
			return nil, &ParseError{Pos: args[0].pos, Msg: "bad quantile " + describe(args[0]), Expected: "a number from 0 to 1"}
		}
		return &statsQuantile{phi: phi, f: fieldName(args[1].text)}, nil
	}
	return nil, &ParseError{Pos: t.pos, Msg: "unknown stats function " + describe(t), Expected: statsFuncNames}
}
