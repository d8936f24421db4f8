package query

import (
	"errors"
	"strconv"
	"strings"

	"github.com/logcaster/logcaster/internal/event"
)

// pipeExtract is `| extract "text <name> text <_> ..." [from field]`: it
// pulls fields out of a field's value (the message by default) by a
// pattern of literal text and named placeholders.
//
// Matching: the pattern's leading text is looked for anywhere in the value
// (a pattern that starts with a placeholder starts at the value's start);
// each placeholder then takes everything up to the next occurrence of the
// text that follows it, and a placeholder at the end takes the rest. <_>
// takes its text and drops it. When a text is not found the row gets none
// of the fields, and keeps what it had. Extracted fields replace fields of
// the same name; empty captures set nothing.
type pipeExtract struct {
	pattern string
	from    string
	steps   []extractStep
}

// extractStep is a literal text followed by a placeholder ("" when the
// pattern ends with text).
type extractStep struct {
	text  string
	field string // "" for the text after the last placeholder; "_" skips
}

func (*pipeExtract) rowLocal() {}

func (p *pipeExtract) String() string {
	s := "extract " + strconv.Quote(p.pattern)
	if p.from != event.FieldMessage {
		s += " from " + quoteValue(p.from)
	}
	return s
}

// parseExtractPattern splits a pattern into steps; it needs at least one
// named placeholder, and two placeholders must have text between them (or
// the first would always capture nothing).
func parseExtractPattern(pat string) ([]extractStep, error) {
	var steps []extractStep
	text := ""
	named := false
	rest := pat
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			text += rest
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			text += rest
			break
		}
		name := rest[i+1 : i+j]
		if !validPlaceholder(name) {
			// Not a placeholder (`a < b`, `<div class=x>`): plain text.
			text += rest[:i+1]
			rest = rest[i+1:]
			continue
		}
		text += rest[:i]
		if len(steps) > 0 && text == "" {
			return nil, errors.New("placeholders <" + steps[len(steps)-1].field + "> and <" + name + "> need text between them")
		}
		steps = append(steps, extractStep{text: text, field: fieldName(name)})
		if name != "_" {
			named = true
		}
		text = ""
		rest = rest[i+j+1:]
	}
	if !named {
		return nil, errors.New("the pattern has no <name> to extract")
	}
	if text != "" {
		steps = append(steps, extractStep{text: text})
	}
	return steps, nil
}

// validPlaceholder accepts field names: letters, digits, '_', '.', '-'.
func validPlaceholder(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '.' || c == '-' || c == '_' || c >= 0x80 ||
			'0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// match returns the captures of v, one per step (the step's field), or
// false when the pattern does not match.
func (p *pipeExtract) match(v string, caps []string) ([]string, bool) {
	caps = caps[:0]
	pos := 0
	for k, st := range p.steps {
		if k == 0 {
			if st.text != "" {
				i := strings.Index(v, st.text)
				if i < 0 {
					return caps, false
				}
				pos = i + len(st.text)
			}
		} else {
			// The previous placeholder ends where this step's text starts.
			i := strings.Index(v[pos:], st.text)
			if i < 0 {
				return caps, false
			}
			caps = append(caps, v[pos:pos+i])
			pos += i + len(st.text)
		}
		if st.field == "" {
			return caps, true
		}
	}
	// The pattern ends with a placeholder: it takes the rest.
	caps = append(caps, v[pos:])
	return caps, true
}

func (p *pipeExtract) run(_ *runCtx, rows []*Row) ([]*Row, error) {
	var caps []string
	for _, r := range rows {
		v, ok := r.Get(p.from)
		if !ok || v == "" {
			continue
		}
		var matched bool
		caps, matched = p.match(v, caps)
		if !matched {
			continue
		}
		for k, c := range caps {
			if f := p.steps[k].field; f != "_" && c != "" {
				r.set(f, c)
			}
		}
	}
	return rows, nil
}

// set gives the row's field a value, replacing one it had; "" removes it.
func (r *Row) set(name, value string) {
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			if value == "" {
				r.Fields = append(r.Fields[:i], r.Fields[i+1:]...)
				return
			}
			r.Fields[i].Value = value
			return
		}
	}
	if value != "" {
		r.Fields = append(r.Fields, event.Field{Name: name, Value: value})
	}
}
