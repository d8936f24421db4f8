package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// benchTraceID is the trace of issue 3's needle query; gencorpus with its
// default seed puts it on the first events of the corpus.
const benchTraceID = "f7b169c846f218ab552fa82fbf86758b"

// benchQuery is one row of the query table of issue 3.
type benchQuery struct {
	Name      string
	Q         string
	Limit     int // 0: no limit parameter
	WantRows  int // rows the answer must have, or -1 (see bench_expect.go)
	WantCount int // count() the first row must hold, or -1
}

// benchQueries returns the issue 3 queries; traceID is the needle to look for.
func benchQueries(traceID string) []benchQuery {
	return []benchQuery{
		{"one trace_id", "trace_id:" + traceID, 10000, -1, -1},
		{"rare word, all", "forbidden", 10000, -1, -1},
		{"common word, count", "from | stats count()", 0, -1, -1},
		{"common word, newest 100", "from", 100, -1, -1},
		{"errors by hour", "level:ERROR | stats count() by (_time:1h)", 0, -1, -1},
		{"one service, newest 100", "service:hdfs | sort by (timestamp desc) | limit 100", 0, -1, -1},
		{"substring, count", `~"ockMana" | stats count()`, 0, -1, -1},
		{"count by service, level", "* | stats count() by (service, level)", 0, -1, -1},
	}
}

// benchQueryResult is what the bench measured for one query.
type benchQueryResult struct {
	Name     string  `json:"name"`
	Query    string  `json:"query"`
	Runs     int     `json:"runs"`
	MedianMS float64 `json:"median_ms"`
	P90MS    float64 `json:"p90_ms"`
	MinMS    float64 `json:"min_ms"`
	MaxMS    float64 `json:"max_ms"`
	Rows     int     `json:"rows"`
	First    string  `json:"first_row,omitempty"` // of a stats answer, to eyeball the count
	Want     string  `json:"want,omitempty"`      // what the corpus says the answer holds
	Wrong    bool    `json:"wrong,omitempty"`     // the answer does not hold it
	Error    string  `json:"error,omitempty"`     // "unsupported: ..." when the server refused the query
}

// benchSlowWarmup is a warm-up time after which a query gets fewer timed runs, so
// one pathological query cannot hold the bench for minutes.
const (
	benchSlowWarmup = 5 * time.Second
	benchSlowRuns   = 3
)

// benchQueryPhase runs every query warmups times untimed, then runs times
// timed, one after another (latency, not throughput).
func benchQueryPhase(t *benchTarget, qs []benchQuery, start, end string, warmups, runs int) []benchQueryResult {
	client := newBenchHTTPClient(1)
	client.Timeout = 5 * time.Minute
	var out []benchQueryResult
	for _, q := range qs {
		r := benchQueryResult{Name: q.Name, Query: q.Q}
		u := benchQueryURL(t.httpURL, q, start, end)
		n := runs
		for i := 0; i < warmups; i++ {
			t0 := time.Now()
			_, _, err := benchRunQuery(client, u)
			if err != nil {
				r.Error = err.Error()
				break
			}
			if time.Since(t0) > benchSlowWarmup {
				n = min(runs, benchSlowRuns)
			}
		}
		if r.Error == "" {
			times := make([]float64, 0, n)
			for i := 0; i < n; i++ {
				t0 := time.Now()
				rows, first, err := benchRunQuery(client, u)
				ms := float64(time.Since(t0).Microseconds()) / 1000
				if err != nil {
					r.Error = err.Error()
					break
				}
				times = append(times, ms)
				r.Rows, r.First = rows, first
			}
			r.Runs = len(times)
			if len(times) > 0 {
				var ok bool
				r.Want, ok = benchCheck(q, r.Rows, r.First)
				r.Wrong = !ok
			}
			if len(times) > 0 {
				sort.Float64s(times)
				r.MedianMS = benchPercentile(times, 50)
				r.P90MS = benchPercentile(times, 90)
				r.MinMS, r.MaxMS = times[0], times[len(times)-1]
			}
		}
		out = append(out, r)
	}
	return out
}

func benchQueryURL(base string, q benchQuery, start, end string) string {
	v := url.Values{}
	v.Set("q", q.Q)
	if start != "" {
		v.Set("start", start)
	}
	if end != "" {
		v.Set("end", end)
	}
	if q.Limit > 0 {
		v.Set("limit", fmt.Sprint(q.Limit))
	}
	return base + "/api/v1/query?" + v.Encode()
}

// benchFirstRowMax is how much of a stats answer's first row the bench keeps.
const benchFirstRowMax = 120

// benchRunQuery runs one query and reads its whole answer, counting NDJSON rows.
// A 4xx answer means the server does not (yet) understand the query.
func benchRunQuery(client *http.Client, u string) (rows int, first string, err error) {
	resp, err := client.Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return 0, "", fmt.Errorf("unsupported: %s", msg)
		}
		return 0, "", fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	rows, first, err = benchCountRows(resp.Body)
	if err != nil {
		return rows, first, fmt.Errorf("read answer: %w", err)
	}
	return rows, first, nil
}

// benchCountRows counts the non-empty lines of an NDJSON stream and returns the
// first one (cut to benchFirstRowMax bytes). A line {"error":...} at the end of a
// stream is how a streamed query reports failure after its status was sent.
func benchCountRows(r io.Reader) (int, string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var rows int
	var first, last, cur []byte // cur: the head of the line being read
	inLine := false
	endLine := func() {
		if len(cur) > 0 {
			rows++
			if first == nil {
				first = append([]byte(nil), cur...)
			}
			last = append(last[:0], cur...)
		}
		inLine = false
	}
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if !inLine {
				cur, inLine = cur[:0], true
			}
			complete := chunk[len(chunk)-1] == '\n'
			if complete {
				chunk = chunk[:len(chunk)-1]
			}
			if room := benchFirstRowMax - len(cur); room > 0 {
				cur = append(cur, chunk[:min(len(chunk), room)]...)
			}
			if complete {
				endLine()
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if inLine {
				endLine()
			}
			break
		}
		if err != nil {
			return rows, string(first), err
		}
	}
	if bytes.HasPrefix(last, []byte(`{"error"`)) {
		return rows - 1, string(first), fmt.Errorf("stream ended with %s", last)
	}
	return rows, string(first), nil
}

// benchPercentile returns the p-th percentile (0-100) of sorted values by linear
// interpolation between the closest ranks, the way numpy's default does.
func benchPercentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	if hi >= len(sorted) {
		hi = len(sorted) - 1
	}
	frac := rank - float64(lo)
	return sorted[lo] + (sorted[hi]-sorted[lo])*frac
}

// benchMergeResult is the answer of POST /api/v1/admin/force_merge plus du.
type benchMergeResult struct {
	Parts         int     `json:"parts"`
	Rows          uint64  `json:"rows"`
	DiskBytes     int64   `json:"disk_bytes"`
	TookMS        int64   `json:"took_ms"`
	Seconds       float64 `json:"seconds"` // as the bench measured the call
	ServerCPU     float64 `json:"server_cpu_s,omitempty"`
	BytesPerEvent float64 `json:"bytes_per_event"`
	DuApparent    int64   `json:"du_apparent_bytes,omitempty"`
	DuAllocated   int64   `json:"du_bytes,omitempty"`
	DuPerEvent    float64 `json:"du_bytes_per_event,omitempty"`
	PeakRSSMiB    float64 `json:"server_peak_rss_mib,omitempty"`
	Error         string  `json:"error,omitempty"`
}

func benchMerge(t *benchTarget) benchMergeResult {
	var r benchMergeResult
	client := newBenchHTTPClient(1)
	cpu0 := t.cpu()
	t0 := time.Now()
	resp, err := client.Post(t.httpURL+"/api/v1/admin/force_merge", "", nil)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.Seconds = time.Since(t0).Seconds()
	r.ServerCPU = (t.cpu() - cpu0).Seconds()
	if resp.StatusCode != http.StatusOK {
		r.Error = fmt.Sprintf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
		return r
	}
	if err := json.Unmarshal(b, &r); err != nil {
		r.Error = fmt.Sprintf("decode %q: %v", b, err)
		return r
	}
	if r.Rows > 0 {
		r.BytesPerEvent = float64(r.DiskBytes) / float64(r.Rows)
	}
	if t.dataDir != "" {
		ap, al, err := benchDirUsage(t.dataDir)
		if err != nil {
			r.Error = err.Error()
		}
		r.DuApparent, r.DuAllocated = ap, al
		if r.Rows > 0 {
			r.DuPerEvent = float64(al) / float64(r.Rows)
		}
	}
	r.PeakRSSMiB = float64(t.peakRSS()) / (1 << 20)
	return r
}
