// Package sentry is Sentry's ingest protocol: the envelope and store
// endpoints the official SDKs post to, their event JSON turned into an
// issues.ErrorEvent and into an ordinary log event, and structured log
// items turned into log events.
//
// Promises: an answer {"id": event_id} (200) means the event's log record
// is durable in the store and its issue updated; a wrong or missing key is
// 401; a full ingest queue is 429 with Retry-After, and nothing of that
// request is kept. No input crashes the parser (FuzzParseEnvelope).
package sentry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

type itemHeader struct {
	Type        string `json:"type"`
	Length      *int   `json:"length"`
	ContentType string `json:"content_type"`
}

// maxItems bounds the items of one envelope: the SDKs send a handful.
const maxItems = 1000

// ParseEnvelope reads the envelope format: a JSON header line, then per
// item a JSON header line and its payload, which is either "length" bytes
// (then an optional newline) or, without a length, the rest of the line.
func ParseEnvelope(body []byte) (*Envelope, error) {
	line, rest := cutLine(body)
	var h struct {
		EventID string `json:"event_id"`
		DSN     string `json:"dsn"`
	}
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, fmt.Errorf("envelope header: %w", err)
	}
	env := &Envelope{EventID: h.EventID, DSN: h.DSN}
	for len(bytes.TrimSpace(rest)) > 0 {
		if len(env.Items) >= maxItems {
			return nil, errors.New("envelope has too many items")
		}
		line, rest = cutLine(rest)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ih itemHeader
		if err := json.Unmarshal(line, &ih); err != nil {
			return nil, fmt.Errorf("item %d header: %w", len(env.Items)+1, err)
		}
		var payload []byte
		if ih.Length != nil {
			n := *ih.Length
			if n < 0 || n > len(rest) {
				return nil, fmt.Errorf("item %d: length %d past the end of the body", len(env.Items)+1, n)
			}
			payload, rest = rest[:n], rest[n:]
			if len(rest) > 0 && rest[0] == '\n' {
				rest = rest[1:]
			}
		} else {
			payload, rest = cutLine(rest)
		}
		env.Items = append(env.Items, Item{Type: ih.Type, ContentType: ih.ContentType, Payload: payload})
	}
	return env, nil
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
