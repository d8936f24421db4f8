package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

// benchTestLines returns n distinct JSON lines as gencorpus writes them.
func benchTestLines(n int) []byte {
	var b bytes.Buffer
	t0 := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		// Out of order on purpose: the time range must come from every line.
		ts := t0.Add(time.Duration((i*7919)%n) * time.Second).Format("2006-01-02T15:04:05.000Z")
		fmt.Fprintf(&b, `{"timestamp":"%s","service":"svc","level":"INFO","trace_id":"t%04d","message":"line %d"}`+"\n", ts, i, i)
	}
	return b.Bytes()
}

func TestBenchSplitBodies(t *testing.T) {
	data := benchTestLines(23)
	for _, per := range []int{1, 5, 23, 100} {
		bodies := benchSplitBodies(data, per)
		want := (23 + per - 1) / per
		if len(bodies) != want {
			t.Fatalf("per %d: %d bodies, want %d", per, len(bodies), want)
		}
		if got := bytes.Join(bodies, nil); !bytes.Equal(got, data) {
			t.Fatalf("per %d: bodies do not add up to the corpus", per)
		}
		for i, b := range bodies {
			lines := bytes.Count(b, []byte{'\n'})
			wantLines := per
			if i == len(bodies)-1 {
				wantLines = 23 - per*(len(bodies)-1)
			}
			if lines != wantLines || b[len(b)-1] != '\n' {
				t.Fatalf("per %d body %d: %d lines (want %d), ends %q", per, i, lines, wantLines, b[len(b)-1])
			}
			// A body is capped, so appending to it cannot overwrite the next.
			if cap(b) != len(b) {
				t.Fatalf("per %d body %d: cap %d > len %d", per, i, cap(b), len(b))
			}
		}
	}
	// A last line without a newline is still sent, once.
	bodies := benchSplitBodies([]byte("a\nb\nc"), 2)
	if len(bodies) != 2 || string(bodies[0]) != "a\nb\n" || string(bodies[1]) != "c" {
		t.Fatalf("unterminated last line: %q", bodies)
	}
}

func TestBenchSplitEven(t *testing.T) {
	data := benchTestLines(1000)
	for _, n := range []int{1, 2, 3, 4, 7} {
		parts := benchSplitEven(data, n)
		if len(parts) != n {
			t.Fatalf("n %d: %d parts", n, len(parts))
		}
		if !bytes.Equal(bytes.Join(parts, nil), data) {
			t.Fatalf("n %d: parts do not add up", n)
		}
		lineLen := bytes.IndexByte(data, '\n') + 1
		for i, p := range parts {
			if p[len(p)-1] != '\n' {
				t.Fatalf("n %d part %d cut inside a line", n, i)
			}
			// Lines are about lineLen bytes; every part is within two lines of the average.
			if d := len(p) - len(data)/n; d > 2*(lineLen+4) || d < -2*(lineLen+4) {
				t.Fatalf("n %d part %d: %d bytes, average %d", n, i, len(p), len(data)/n)
			}
		}
	}
	if parts := benchSplitEven([]byte("x\n"), 4); len(parts) != 1 || string(parts[0]) != "x\n" {
		t.Fatalf("one line in four parts: %q", parts)
	}
}

func TestBenchPercentile(t *testing.T) {
	ten := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	cases := []struct {
		in   []float64
		p    float64
		want float64
	}{
		// numpy.percentile([1..10], 50) = 5.5, ([1..10], 90) = 9.1
		{ten, 50, 5.5},
		{ten, 90, 9.1},
		{ten, 0, 1},
		{ten, 100, 10},
		{[]float64{4}, 90, 4},
		{[]float64{1, 3}, 50, 2},
		// 20 runs: rank 0.9*19 = 17.1 → 18 + 0.1*(19-18)
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 90, 18.1},
	}
	for _, c := range cases {
		if got := benchPercentile(c.in, c.p); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("percentile(%v, %v) = %v, want %v", c.in, c.p, got, c.want)
		}
	}
	if !math.IsNaN(benchPercentile(nil, 50)) {
		t.Error("percentile of nothing is not NaN")
	}
}

func TestBenchParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses; utime 1234, stime 56 ticks.
	stat := "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 56 0 0 20 0 9 0 100 2000000 500 18446744073709551615\n"
	got, err := benchParseProcStat([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 12900 * time.Millisecond; got != want {
		t.Fatalf("cpu %v, want %v", got, want)
	}
	if _, err := benchParseProcStat([]byte("1 (x) S 1 2 3")); err == nil {
		t.Fatal("short stat accepted")
	}
	if _, err := benchParseProcStat([]byte("no name here")); err == nil {
		t.Fatal("stat without a name accepted")
	}
	// The real file of this process parses, and CPU time only grows.
	a, err := benchProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for i, x := 0, 0; i < 3e7; i++ {
		x += i
	}
	b, _ := benchProcCPU(os.Getpid())
	if b < a {
		t.Fatalf("cpu went back from %v to %v", a, b)
	}
}

func TestBenchParseProcKB(t *testing.T) {
	status := "Name:\tlogcaster\nVmPeak:\t  999999 kB\nVmHWM:\t  123456 kB\nVmRSS:\t   100000 kB\n"
	got, err := benchParseProcKB([]byte(status), "VmHWM")
	if err != nil || got != 123456*1024 {
		t.Fatalf("VmHWM = %d, %v; want %d", got, err, 123456*1024)
	}
	if _, err := benchParseProcKB([]byte(status), "VmSwap"); err == nil {
		t.Fatal("missing line accepted")
	}
	if _, err := benchParseProcKB([]byte("VmHWM:\t12 MB\n"), "VmHWM"); err == nil {
		t.Fatal("unit other than kB accepted")
	}
	if v, err := benchProcPeakRSS(os.Getpid()); err != nil || v <= 0 {
		t.Fatalf("own VmHWM %d, %v", v, err)
	}
}

func TestBenchCountRows(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // longer than the reader's buffer
	cases := []struct {
		in    string
		rows  int
		first string
		err   bool
	}{
		{"", 0, "", false},
		{"{\"a\":1}\n{\"a\":2}\n", 2, `{"a":1}`, false},
		{"{\"a\":1}\n\n{\"a\":2}", 2, `{"a":1}`, false},
		{long + "\n" + long + "\n" + "z\n", 3, long[:benchFirstRowMax], false},
		{"{\"n\":1}\n{\"error\":\"query timeout\"}\n", 1, `{"n":1}`, true},
	}
	for i, c := range cases {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(c.in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			rows, first, err := benchCountRows(r)
			if rows != c.rows || first != c.first || (err != nil) != c.err {
				t.Errorf("case %d (one byte %v): rows %d first %.30q err %v; want %d %.30q err %v",
					i, oneByte, rows, first, err, c.rows, c.first, c.err)
			}
		}
	}
}

func TestBenchCorpus(t *testing.T) {
	data := benchTestLines(101)
	path := t.TempDir() + "/c.jsonl"
	// Without its last newline: the loader adds it.
	if err := os.WriteFile(path, data[:len(data)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := benchLoadCorpus(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.lines != 101 || !bytes.Equal(c.data, data) {
		t.Fatalf("%d lines, data equal %v", c.lines, bytes.Equal(c.data, data))
	}
	if c.midTID != "t0050" {
		t.Fatalf("middle trace %q", c.midTID)
	}
	t0 := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	if !c.minTS.Equal(t0) || !c.maxTS.Equal(t0.Add(100*time.Second)) {
		t.Fatalf("time range %v .. %v", c.minTS, c.maxTS)
	}
	if got := benchJSONField([]byte(`{"a":"1","b":"two"}`), "b"); got != "two" {
		t.Fatalf("field b = %q", got)
	}
	if got := benchJSONField([]byte(`{"a":"1"}`), "b"); got != "" {
		t.Fatalf("missing field = %q", got)
	}
}

func TestBenchParsePhases(t *testing.T) {
	got, err := benchParsePhases("tcp, query")
	if err != nil || len(got) != 2 || !got["tcp"] || !got["query"] {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := benchParsePhases("http,merges"); err == nil {
		t.Fatal("unknown phase accepted")
	}
	if _, err := benchParsePhases(" , "); err == nil {
		t.Fatal("no phase accepted")
	}
}

func TestBenchThousands(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45000: "-45,000"} {
		if got := benchThousands(in); got != want {
			t.Errorf("%d: %q, want %q", in, got, want)
		}
	}
}

// fakeBenchServer is a stand-in for logcaster serve: it counts the lines it
// is sent over HTTP and TCP, answers /health with that count, and pushes back
// with 429 on the first ingest request, so the client's retry is exercised.
type fakeBenchServer struct {
	stored  atomic.Int64
	pushed  atomic.Bool
	mu      sync.Mutex
	got     map[string]int // every line received, how often
	http    *httptest.Server
	tcp     net.Listener
	queries []string
}

func newFakeBenchServer(t *testing.T) *fakeBenchServer {
	f := &fakeBenchServer{got: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/ingest", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("index") != "bench" {
			http.Error(w, `{"error":"no index"}`, http.StatusBadRequest)
			return
		}
		if !f.pushed.Swap(true) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		n := f.take(r.Body)
		fmt.Fprintf(w, `{"accepted":%d,"rejected":[]}`, n)
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"status":"ok","store":{"events":%d}}`, f.stored.Load())
	})
	mux.HandleFunc("POST /api/v1/admin/force_merge", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"parts":1,"rows":%d,"disk_bytes":%d,"took_ms":3}`, f.stored.Load(), 40*f.stored.Load())
	})
	mux.HandleFunc("GET /api/v1/query", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		f.mu.Lock()
		f.queries = append(f.queries, q)
		f.mu.Unlock()
		if strings.Contains(q, "ockMana") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"unexpected \"~\" at column 1"}`)
			return
		}
		fmt.Fprint(w, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n")
	})
	f.http = httptest.NewServer(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.tcp = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				f.take(c)
			}()
		}
	}()
	t.Cleanup(func() { f.http.Close(); ln.Close() })
	return f
}

func (f *fakeBenchServer) take(r io.Reader) int {
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		f.mu.Lock()
		f.got[sc.Text()]++
		f.mu.Unlock()
		n++
	}
	f.stored.Add(int64(n))
	return n
}

// everyLineOnce fails unless the fake server received each corpus line once.
func (f *fakeBenchServer) everyLineOnce(t *testing.T, data []byte) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(f.got) != len(lines) {
		t.Fatalf("server got %d distinct lines, corpus has %d", len(f.got), len(lines))
	}
	for _, l := range lines {
		if f.got[l] != 1 {
			t.Fatalf("line %q received %d times", l, f.got[l])
		}
	}
}

func TestBenchPhasesAgainstFake(t *testing.T) {
	f := newFakeBenchServer(t)
	corpus := &benchCorpus{data: benchTestLines(10007), lines: 10007}
	target := &benchTarget{httpURL: f.http.URL, tcpAddr: f.tcp.Addr().String()}

	r := benchHTTP(target, corpus, 3, 1000, "bench")
	if r.Error != "" || r.Accepted != 10007 || r.Retries != 1 || r.Stored != 10007 || r.EventsPerS <= 0 {
		t.Fatalf("http: %+v", r)
	}
	f.everyLineOnce(t, corpus.data)

	f.mu.Lock()
	f.got = map[string]int{}
	f.mu.Unlock()
	r = benchTCP(target, corpus, 4)
	if r.Error != "" || r.Stored != 10007 || r.Events != 10007 {
		t.Fatalf("tcp: %+v", r)
	}
	f.everyLineOnce(t, corpus.data)

	m := benchMerge(target)
	if m.Error != "" || m.Rows != 20014 || m.BytesPerEvent != 40 {
		t.Fatalf("merge: %+v", m)
	}

	qs := benchQueryPhase(target, benchQueries("abc"), "2026-11-21T01:00:00Z", "", 2, 5)
	if len(qs) != 8 {
		t.Fatalf("%d query results", len(qs))
	}
	for _, q := range qs {
		if strings.Contains(q.Query, "ockMana") {
			if q.Error != `unsupported: unexpected "~" at column 1` || q.Runs != 0 {
				t.Fatalf("unsupported query: %+v", q)
			}
			continue
		}
		if q.Error != "" || q.Rows != 3 || q.Runs != 5 || q.First != `{"n":1}` || q.MedianMS <= 0 || q.P90MS < q.MedianMS {
			t.Fatalf("query %+v", q)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// 7 parsable queries × (2 warm-ups + 5 runs) + 1 refused warm-up.
	if len(f.queries) != 7*7+1 || f.queries[0] != "trace_id:abc" {
		t.Fatalf("%d queries sent, first %q", len(f.queries), f.queries[0])
	}
}

func TestBenchExpect(t *testing.T) {
	corpus := strings.Join([]string{
		`{"timestamp":"2026-11-21T02:10:00Z","service":"hdfs","level":"INFO","trace_id":"aa","message":"BlockManager up from Forbidden"}`,
		`{"timestamp":"2026-11-21T02:20:00Z","service":"hdfs","level":"ERROR","trace_id":"aa","message":"fromage, forbiddenness"}`,
		`{"timestamp":"2026-11-21T02:50:00Z","service":"spark","level":"ERROR","trace_id":"bb","message":"blockmanager"}`,
		`{"timestamp":"2026-11-21T03:00:00Z","service":"spark","level":"ERROR","trace_id":"aab","message":"BlockManager"}`,
		`{"timestamp":"2026-11-21T04:00:00Z","service":"spark","level":"INFO","trace_id":"cc","message":"y_from FROM"}`,
	}, "\n") // no final newline: the last line still counts
	e := benchComputeExpect([]byte(corpus), "aa")
	want := benchExpect{traceRows: 2, hdfsRows: 2, ockManaLines: 2, errorHours: 2, serviceLevels: 4, rareLines: 1, commonLines: 2}
	if e != want {
		t.Fatalf("expect %+v, want %+v", e, want)
	}
	qs := benchQueries("aa")
	e.apply(qs)
	byName := map[string]benchQuery{}
	for _, q := range qs {
		byName[q.Name] = q
	}
	if w, ok := benchCheck(byName["one trace_id"], 2, `{"trace_id":"aa"}`); w != "2 rows" || !ok {
		t.Fatalf("trace check %q %v", w, ok)
	}
	if _, ok := benchCheck(byName["one trace_id"], 0, ""); ok {
		t.Fatal("no rows passed the trace check")
	}
	if w, ok := benchCheck(byName["substring, count"], 1, `{"count()":"2"}`); w != "count 2" || !ok {
		t.Fatalf("count check %q %v", w, ok)
	}
	if _, ok := benchCheck(byName["substring, count"], 1, `{"count()":3}`); ok {
		t.Fatal("wrong count passed")
	}
	if _, ok := benchCheck(byName["substring, count"], 1, `{"count()":`); ok {
		t.Fatal("cut row passed")
	}
	if w, ok := benchCheck(byName["rare word, all"], 1, ""); w != "1 rows" || !ok {
		t.Fatalf("rare word check: %q %v", w, ok)
	}
	if w, ok := benchCheck(byName["common word, count"], 1, `{"count()":"2"}`); w != "count 2" || !ok {
		t.Fatalf("common word check: %q %v", w, ok)
	}
	if w, ok := benchCheck(byName["count by service, level"], 4, ""); w != "4 rows" || !ok {
		t.Fatalf("pairs check: %q %v", w, ok)
	}
	if w, ok := benchCheck(benchQuery{WantRows: -1, WantCount: -1}, 7, ""); w != "" || !ok {
		t.Fatalf("unchecked query: %q %v", w, ok)
	}
	if n, ok := benchFirstCount(`{"count()":2.0}`); n != 2 || !ok {
		t.Fatalf("numeric count %d %v", n, ok)
	}
}
