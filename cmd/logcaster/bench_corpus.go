package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// benchCorpus is a gencorpus JSON-lines file held in memory, so that reading
// it never competes with the server for the disk or the CPU while a phase is
// timed.
type benchCorpus struct {
	data   []byte // the whole file, every line ending in '\n'
	lines  int
	minTS  time.Time // earliest and latest "timestamp" seen, for start/end
	maxTS  time.Time
	midTID string // trace_id of the line in the middle of the corpus
}

// benchLoadCorpus reads path into memory and makes sure its last line ends in a
// newline, so the corpus can be cut anywhere after a '\n'.
func benchLoadCorpus(path string) (*benchCorpus, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	c := &benchCorpus{data: data, lines: bytes.Count(data, []byte{'\n'})}
	if c.lines == 0 {
		return nil, errors.New("corpus is empty")
	}
	c.scanTimes()
	mid := benchLineAt(data, c.lines/2)
	c.midTID = benchJSONField(mid, "trace_id")
	return c, nil
}

// scanTimes finds the corpus's time range. gencorpus timestamps rise with
// some jitter, so every line is looked at; this runs once, before any timer.
func (c *benchCorpus) scanTimes() {
	data := c.data
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data[:i]
		data = data[i+1:]
		ts := benchJSONField(line, "timestamp")
		if ts == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			continue
		}
		if c.minTS.IsZero() || t.Before(c.minTS) {
			c.minTS = t
		}
		if t.After(c.maxTS) {
			c.maxTS = t
		}
	}
}

// benchLineAt returns line n (0-based) of data, without its newline.
func benchLineAt(data []byte, n int) []byte {
	for ; n > 0; n-- {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil
		}
		data = data[i+1:]
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[:i]
	}
	return data
}

// benchJSONField returns the value of "name":"value" in a flat JSON line
// as gencorpus writes it (no spaces, no escapes in the values we look for).
// It is a cheap look-up for the bench, not a JSON parser.
func benchJSONField(line []byte, name string) string {
	key := make([]byte, 0, len(name)+4)
	key = append(key, '"')
	key = append(key, name...)
	key = append(key, '"', ':', '"')
	i := bytes.Index(line, key)
	if i < 0 {
		return ""
	}
	rest := line[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// benchSplitBodies cuts data into consecutive pieces of at most perBody lines,
// each cut just after a newline; the pieces share data's memory. Their
// concatenation is data, so every line is sent exactly once.
func benchSplitBodies(data []byte, perBody int) [][]byte {
	if perBody < 1 {
		perBody = 1
	}
	var bodies [][]byte
	for len(data) > 0 {
		end, n := 0, 0
		for n < perBody && end < len(data) {
			i := bytes.IndexByte(data[end:], '\n')
			if i < 0 {
				end = len(data)
				break
			}
			end += i + 1
			n++
		}
		bodies = append(bodies, data[:end:end])
		data = data[end:]
	}
	return bodies
}

// benchSplitEven cuts data into n pieces of about the same number of bytes, each
// cut just after a newline (fewer pieces when data has fewer lines).
func benchSplitEven(data []byte, n int) [][]byte {
	if n < 1 {
		n = 1
	}
	var parts [][]byte
	for k := n; k > 0 && len(data) > 0; k-- {
		want := len(data) / k
		if want >= len(data) || k == 1 {
			parts = append(parts, data)
			break
		}
		end := want
		i := bytes.IndexByte(data[end:], '\n')
		if i < 0 {
			end = len(data)
		} else {
			end += i + 1
		}
		parts = append(parts, data[:end:end])
		data = data[end:]
	}
	return parts
}

// benchGenerateCorpus runs gencorpus (go run) into a temp file and returns its path.
func benchGenerateCorpus(gencorpus string, n int, dir string) (string, error) {
	out, err := os.CreateTemp(dir, "logcaster-bench-corpus-*.jsonl")
	if err != nil {
		return "", fmt.Errorf("corpus temp file: %w", err)
	}
	defer out.Close()
	cmd := exec.Command("go", "run", filepath.Base(gencorpus), "-n", fmt.Sprint(n), "-format", "jsonl")
	// gencorpus finds its loghub samples relative to its own folder.
	cmd.Dir = filepath.Dir(gencorpus)
	cmd.Stdout = out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		os.Remove(out.Name())
		return "", fmt.Errorf("run gencorpus %s: %w", gencorpus, err)
	}
	return out.Name(), nil
}
