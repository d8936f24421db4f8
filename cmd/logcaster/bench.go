package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The bench measures what issues 2 and 3 ask of a server started with
// default settings: HTTP and TCP ingest rates, CPU per million events, peak
// RSS, bytes per event on disk after merging, and query latency. Every figure
// in BENCHMARKS.md comes from it (see scripts/bench.sh).
//
// The client shares the machine with the server, so it does its work before
// the clock starts: the corpus is read into memory and cut into bodies
// once, connections are reused, and the timed loops only write bytes. Its own
// CPU time is reported beside the server's so a reader can tell.

// benchOptions are the flags of logcaster bench.
type benchOptions struct {
	corpus    string
	n         int
	gencorpus string
	server    string
	tcp       string
	phases    string
	senders   int
	conns     int
	batch     int
	index     string
	warmups   int
	runs      int
	jsonOut   string
	tmpDir    string
}

func defaultBenchOptions() benchOptions {
	return benchOptions{
		n:         1000000,
		gencorpus: filepath.Join(benchRepoRoot(), "..", "shared", "bench", "gencorpus", "main.go"),
		phases:    "http,tcp,merge,query",
		senders:   4,
		batch:     5000,
		index:     "bench",
		warmups:   2,
		runs:      20,
		tmpDir:    os.TempDir(),
	}
}

var benchPhaseNames = []string{"http", "tcp", "merge", "query"}

// benchParsePhases turns "http,merge" into a set, refusing unknown names.
func benchParsePhases(s string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		known := false
		for _, k := range benchPhaseNames {
			known = known || p == k
		}
		if !known {
			return nil, fmt.Errorf("unknown phase %q (phases: %s)", p, strings.Join(benchPhaseNames, ","))
		}
		set[p] = true
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("no phases in %q", s)
	}
	return set, nil
}

func (o *benchOptions) validate() error {
	if o.senders < 1 || o.conns < 1 || o.batch < 1 || o.n < 1 || o.runs < 1 || o.warmups < 0 {
		return fmt.Errorf("senders, conns, batch, n and runs must be at least 1, warmups at least 0")
	}
	if o.tcp != "" && o.server == "" {
		return fmt.Errorf("--tcp needs --server")
	}
	return nil
}

// benchResult is the whole run, as --json writes it.
type benchResult struct {
	Started      time.Time           `json:"started"`
	Version      string              `json:"version"`
	Command      string              `json:"command"`
	Machine      benchMachine        `json:"machine"`
	Corpus       benchCorpusInfo     `json:"corpus"`
	Server       string              `json:"server"` // "own" or the external URL
	Ingest       []benchIngestResult `json:"ingest,omitempty"`
	Merge        *benchMergeResult   `json:"merge,omitempty"`
	Queries      []benchQueryResult  `json:"queries,omitempty"`
	QueryArgs    string              `json:"query_args,omitempty"` // start and end sent with each query
	ServerLog    []string            `json:"server_log,omitempty"` // warnings and errors the servers logged
	LoadAvgAtEnd string              `json:"loadavg_at_end"`
}

type benchCorpusInfo struct {
	Path   string `json:"path"`
	Events int    `json:"events"`
	Bytes  int    `json:"bytes"`
	First  string `json:"first_timestamp"`
	Last   string `json:"last_timestamp"`
}

func runBench(args []string) error {
	o := defaultBenchOptions()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.corpus, "corpus", "", "gencorpus JSON-lines file; empty: generate -n events with --gencorpus into a temp file")
	fs.IntVar(&o.n, "n", o.n, "events to generate when --corpus is empty")
	fs.StringVar(&o.gencorpus, "gencorpus", o.gencorpus, "path of gencorpus's main.go")
	fs.StringVar(&o.server, "server", "", "URL of an external server (e.g. http://host:8080); empty: start our own, default settings, fresh data folder")
	fs.StringVar(&o.tcp, "tcp", "", "TCP lines address of the external server (host:9999)")
	fs.StringVar(&o.phases, "phases", o.phases, "comma-separated phases to run: http,tcp,merge,query")
	fs.IntVar(&o.senders, "senders", o.senders, "concurrent HTTP senders")
	fs.IntVar(&o.conns, "conns", 0, "TCP connections (default: --senders)")
	fs.IntVar(&o.batch, "batch", o.batch, "lines per HTTP body")
	fs.StringVar(&o.index, "index", o.index, "index the HTTP phase ingests into")
	fs.IntVar(&o.warmups, "warmups", o.warmups, "untimed runs of each query first")
	fs.IntVar(&o.runs, "runs", o.runs, "timed runs of each query")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.tmpDir, "tmp", o.tmpDir, "folder for the generated corpus and the servers' data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.conns == 0 {
		o.conns = o.senders
	}
	if err := o.validate(); err != nil {
		return err
	}
	phases, err := benchParsePhases(o.phases)
	if err != nil {
		return err
	}
	if o.server != "" {
		o.server = strings.TrimRight(o.server, "/")
	}

	res := &benchResult{Started: time.Now().UTC(), Version: version, Machine: benchReadMachine(),
		Command: "logcaster bench " + strings.Join(args, " "), Server: "own"}
	if o.server != "" {
		res.Server = o.server
	}

	corpusPath := o.corpus
	if corpusPath == "" {
		benchProgress("generating %d events with %s", o.n, o.gencorpus)
		p, err := benchGenerateCorpus(o.gencorpus, o.n, o.tmpDir)
		if err != nil {
			return err
		}
		defer os.Remove(p)
		corpusPath = p
	}
	corpus, err := benchLoadCorpus(corpusPath)
	if err != nil {
		return err
	}
	res.Corpus = benchCorpusInfo{Path: corpusPath, Events: corpus.lines, Bytes: len(corpus.data),
		First: corpus.minTS.Format(time.RFC3339Nano), Last: corpus.maxTS.Format(time.RFC3339Nano)}
	benchProgress("corpus %s: %d events, %.1f MB", corpusPath, corpus.lines, float64(len(corpus.data))/1e6)

	b := &benchRun{o: o, res: res}
	defer b.stopServer()
	if err := b.run(phases, corpus); err != nil {
		return err
	}
	b.stopServer()
	res.LoadAvgAtEnd = benchLoadAvg()

	benchPrintReport(os.Stdout, res)
	if o.jsonOut != "" {
		js, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return fmt.Errorf("encode results: %w", err)
		}
		if err := os.WriteFile(o.jsonOut, append(js, '\n'), 0o644); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
	}
	return nil
}

// benchRun holds the server currently under test between phases.
type benchRun struct {
	o   benchOptions
	res *benchResult
	cur *benchTarget
}

// run does the chosen phases in order: HTTP and TCP ingest each on a fresh
// server of its own so their figures don't mix, then merge and query on
// the last one.
func (b *benchRun) run(phases map[string]bool, corpus *benchCorpus) error {
	if phases["http"] {
		t, err := b.freshServer()
		if err != nil {
			return err
		}
		benchProgress("http ingest: %d senders, %d lines a body", b.o.senders, b.o.batch)
		r := benchHTTP(t, corpus, b.o.senders, b.o.batch, b.o.index)
		b.res.Ingest = append(b.res.Ingest, r)
		benchProgress("http ingest: %.0f events/s%s", r.EventsPerS, benchErrSuffix(r.Error))
	}
	if phases["tcp"] {
		t, err := b.freshServer()
		if err != nil {
			return err
		}
		benchProgress("tcp ingest: %d connections", b.o.conns)
		r := benchTCP(t, corpus, b.o.conns)
		b.res.Ingest = append(b.res.Ingest, r)
		benchProgress("tcp ingest: %.0f events/s%s", r.EventsPerS, benchErrSuffix(r.Error))
	}
	if !phases["merge"] && !phases["query"] {
		return nil
	}
	if b.cur == nil {
		t, err := b.freshServer()
		if err != nil {
			return err
		}
		if t.pid != 0 {
			// Our own server starts empty: load the corpus untimed.
			benchProgress("loading the corpus over HTTP (untimed)")
			r := benchHTTP(t, corpus, b.o.senders, b.o.batch, b.o.index)
			if r.Error != "" {
				return fmt.Errorf("load corpus: %s", r.Error)
			}
		}
	}
	if phases["merge"] {
		benchProgress("force merge")
		m := benchMerge(b.cur)
		b.res.Merge = &m
		benchProgress("merged: %d parts, %.1f bytes/event%s", m.Parts, m.BytesPerEvent, benchErrSuffix(m.Error))
	}
	if phases["query"] {
		trace := benchTraceID
		if !bytes.Contains(corpus.data, []byte(benchTraceID)) {
			trace = corpus.midTID
		}
		start := corpus.minTS.Add(-time.Hour).Format(time.RFC3339)
		end := corpus.maxTS.Add(time.Hour).Format(time.RFC3339)
		b.res.QueryArgs = "start=" + start + " end=" + end
		benchProgress("queries: %d warm-ups, %d runs each", b.o.warmups, b.o.runs)
		qs := benchQueries(trace)
		benchComputeExpect(corpus.data, trace).apply(qs)
		b.res.Queries = benchQueryPhase(b.cur, qs, start, end, b.o.warmups, b.o.runs)
	}
	return nil
}

// freshServer stops our current server (keeping its log problems) and
// starts another; for an external server it returns that server.
func (b *benchRun) freshServer() (*benchTarget, error) {
	if b.o.server != "" {
		if b.cur == nil {
			b.cur = &benchTarget{httpURL: b.o.server, tcpAddr: b.o.tcp}
		}
		return b.cur, nil
	}
	b.stopServer()
	t, err := startBenchServer(b.o.tmpDir)
	if err != nil {
		return nil, err
	}
	benchProgress("server pid %d on %s, tcp %s, data %s", t.pid, t.httpURL, t.tcpAddr, t.dataDir)
	b.cur = t
	return t, nil
}

// benchServerLogKeep is how many warning/error lines of each server the report keeps.
const benchServerLogKeep = 5

func (b *benchRun) stopServer() {
	if b.cur == nil || b.cur.pid == 0 {
		return
	}
	n, first := b.cur.logProblems(benchServerLogKeep)
	if n > 0 {
		b.res.ServerLog = append(b.res.ServerLog, fmt.Sprintf("server pid %d logged %d warnings/errors:", b.cur.pid, n))
		b.res.ServerLog = append(b.res.ServerLog, first...)
	}
	b.cur.stop()
	b.cur = nil
}

func benchErrSuffix(e string) string {
	if e == "" {
		return ""
	}
	return " (error: " + e + ")"
}

func benchProgress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// benchRepoRoot is the folder of the go.mod above the working directory (the
// repository when run from inside it), or the working directory.
func benchRepoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return wd
		}
	}
}
