// Package sentry is Sentry's ingest protocol: the envelope and store
// endpoints the official SDKs post to, their event JSON turned into an
// issues.ErrorEvent and into an ordinary log event, and structured log
// items turned into log events.
//
// Promises: an answer {"id": event_id} (200) means the event's log record
// is durable in the store and its issue updated; a wrong or missing key is
// 401; a full ingest queue is 429 with Retry-After, and nothing of that
// request is kept. No input crashes the parsers (FuzzParseEnvelope,
// FuzzParseEvent, which also checks the event parser against the
// encoding/json one it replaced).
package sentry

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/valyala/fastjson"
)

// Envelope is a parsed Sentry envelope: a header and items.
type Envelope struct {
	EventID string
	DSN     string
	Items   []Item
}

// Item is one item of an envelope; Payload points into the body.
type Item struct {
	Type        string
	ContentType string
	Payload     []byte
}

// maxItems bounds the items of one envelope: the SDKs send a handful.
const maxItems = 1000

// ParseEnvelope reads the envelope format: a JSON header line, then per
// item a JSON header line and its payload, which is either "length" bytes
// (then an optional newline) or, without a length, the rest of the line.
// Payloads point into body; the header's strings do not.
func ParseEnvelope(body []byte) (*Envelope, error) {
	p := parserPool.Get()
	defer parserPool.Put(p)
	line, rest := cutLine(body)
	h, err := p.ParseBytes(line)
	if err != nil {
		return nil, fmt.Errorf("envelope header: %w", err)
	}
	if h.Type() != fastjson.TypeObject {
		return nil, errors.New("envelope header: not a JSON object")
	}
	env := &Envelope{EventID: headerString(h, "event_id"), DSN: headerString(h, "dsn")}
	for len(bytes.TrimSpace(rest)) > 0 {
		if len(env.Items) >= maxItems {
			return nil, errors.New("envelope has too many items")
		}
		line, rest = cutLine(rest)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ih, err := p.ParseBytes(line)
		if err == nil && ih.Type() != fastjson.TypeObject {
			err = errors.New("not a JSON object")
		}
		if err != nil {
			return nil, fmt.Errorf("item %d header: %w", len(env.Items)+1, err)
		}
		it := Item{Type: headerString(ih, "type"), ContentType: headerString(ih, "content_type")}
		if lv := ih.Get("length"); lv != nil && lv.Type() != fastjson.TypeNull {
			n, err := lv.Int()
			if err != nil {
				return nil, fmt.Errorf("item %d header: length: %w", len(env.Items)+1, err)
			}
			if n < 0 || n > len(rest) {
				return nil, fmt.Errorf("item %d: length %d past the end of the body", len(env.Items)+1, n)
			}
			it.Payload, rest = rest[:n], rest[n:]
			if len(rest) > 0 && rest[0] == '\n' {
				rest = rest[1:]
			}
		} else {
			it.Payload, rest = cutLine(rest)
		}
		env.Items = append(env.Items, it)
	}
	return env, nil
}

// headerString is a string field of a header, copied out of the parser.
// The item types SDKs send are returned as constants, without a copy.
func headerString(v *fastjson.Value, key string) string {
	f := v.Get(key)
	if f == nil || f.Type() != fastjson.TypeString {
		return ""
	}
	b := f.GetStringBytes()
	for _, known := range [...]string{"event", "log", "session", "sessions", "client_report", "transaction", "attachment", "application/json"} {
		if string(b) == known {
			return known
		}
	}
	return string(b)
}

// cutLine splits at the first newline (dropped, with a CR before it).
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line, rest = b[:i], b[i+1:]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, rest
}
