package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The bench checks each answer against a figure computed from the corpus
// itself, so a fast answer that is wrong (no rows, a wrong count) shows up in
// the table instead of passing for a good time. Only figures that do not
// depend on the tokenizer's or the query language's finer choices are checked.

// benchExpect is what the corpus says some queries must return.
type benchExpect struct {
	traceRows     int // lines of the needle trace
	hdfsRows      int // lines of service hdfs (the query keeps 100 of them)
	ockManaLines  int // lines holding the substring ockMana (case-sensitive)
	errorHours    int // distinct hours (UTC) with a level ERROR line
	serviceLevels int // distinct (service, level) pairs
	rareLines     int // lines holding the whole word "forbidden", any case
	commonLines   int // lines holding the whole word "from", any case
}

// benchComputeExpect scans the corpus once, before any timer.
func benchComputeExpect(data []byte, trace string) benchExpect {
	var e benchExpect
	traceKey := []byte(`"trace_id":"` + trace + `"`)
	hours := map[string]bool{}
	pairs := map[string]bool{}
	var lower []byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			i = len(data)
		}
		line := data[:i]
		data = data[min(i+1, len(data)):]
		if bytes.Contains(line, traceKey) {
			e.traceRows++
		}
		lower = append(lower[:0], line...)
		benchLowerASCII(lower)
		if benchHasWord(lower, []byte("forbidden")) {
			e.rareLines++
		}
		if benchHasWord(lower, []byte("from")) {
			e.commonLines++
		}
		if bytes.Contains(line, []byte("ockMana")) {
			e.ockManaLines++
		}
		service, level := benchJSONField(line, "service"), benchJSONField(line, "level")
		if service == "hdfs" {
			e.hdfsRows++
		}
		pairs[service+"\x00"+level] = true
		if level == "ERROR" {
			if ts := benchJSONField(line, "timestamp"); len(ts) >= len("2006-01-02T15") {
				hours[ts[:len("2006-01-02T15")]] = true
			}
		}
	}
	e.errorHours, e.serviceLevels = len(hours), len(pairs)
	return e
}

// apply sets the expectation of the queries benchQueries returns, by name.
func (e benchExpect) apply(qs []benchQuery) {
	for i := range qs {
		q := &qs[i]
		switch q.Name {
		case "rare word, all":
			if e.rareLines <= q.Limit {
				q.WantRows = e.rareLines
			}
		case "common word, count":
			q.WantCount = e.commonLines
		case "common word, newest 100":
			q.WantRows = min(e.commonLines, 100)
		case "one trace_id":
			q.WantRows = e.traceRows
		case "one service, newest 100":
			q.WantRows = min(e.hdfsRows, 100)
		case "substring, count":
			q.WantCount = e.ockManaLines
		case "errors by hour":
			q.WantRows = e.errorHours
		case "count by service, level":
			q.WantRows = e.serviceLevels
		}
	}
}

// benchCheck compares an answer with the query's expectation. It returns the
// expectation as text ("" when there is none) and whether the answer meets it.
func benchCheck(q benchQuery, rows int, first string) (want string, ok bool) {
	switch {
	case q.WantRows >= 0:
		return fmt.Sprintf("%d rows", q.WantRows), rows == q.WantRows
	case q.WantCount >= 0:
		got, found := benchFirstCount(first)
		return fmt.Sprintf("count %d", q.WantCount), found && got == int64(q.WantCount)
	}
	return "", true
}

// benchFirstCount returns the value of the first "count..." field of a stats
// row such as {"count()":"1234"} (a number or a string holding one).
func benchFirstCount(row string) (int64, bool) {
	var m map[string]any
	if json.Unmarshal([]byte(row), &m) != nil {
		return 0, false
	}
	for k, v := range m {
		if !strings.HasPrefix(k, "count") {
			continue
		}
		switch v := v.(type) {
		case float64:
			return int64(v), true
		case string:
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func benchLowerASCII(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

// benchHasWord reports whether word occurs in line with no letter, digit or
// '_' on either side (the way a word query matches, for this corpus).
func benchHasWord(line, word []byte) bool {
	for off := 0; ; {
		i := bytes.Index(line[off:], word)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(word)
		if (i == 0 || !benchWordByte(line[i-1])) && (end == len(line) || !benchWordByte(line[end])) {
			return true
		}
		off = i + 1
	}
}

func benchWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
