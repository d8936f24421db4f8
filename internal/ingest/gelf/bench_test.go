package gelf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// gelfCorpus turns n events of the shared gencorpus JSON-lines corpus into
// GELF messages: message → short_message, level → syslog severity, every
// other field → an additional "_" field.
func gelfCorpus(tb testing.TB, n int) [][]byte {
	gen := "/work/shared/bench/gencorpus/main.go"
	if _, err := os.Stat(gen); err != nil {
		tb.Skip("gencorpus not available")
	}
	out, err := exec.Command("go", "run", gen, "-n", strconv.Itoa(n), "-format", "jsonl").Output()
	if err != nil {
		tb.Skipf("gencorpus: %v", err)
	}
	severity := map[string]int{"TRACE": 7, "DEBUG": 7, "INFO": 6, "WARN": 4, "ERROR": 3, "FATAL": 2}
	var msgs [][]byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var in map[string]any
		if json.Unmarshal(sc.Bytes(), &in) != nil {
			continue
		}
		g := map[string]any{"version": "1.1", "host": "bench-1", "timestamp": 1700000000.123}
		for k, v := range in {
			switch k {
			case "message", "msg":
				g["short_message"] = v
			case "level":
				if s, ok := v.(string); ok {
					g["level"] = severity[s]
				}
			case "timestamp", "@timestamp", "time":
			default:
				g["_"+k] = v
			}
		}
		if g["short_message"] == nil {
			g["short_message"] = ""
		}
		m, _ := json.Marshal(g)
		msgs = append(msgs, m)
	}
	return msgs
}

func BenchmarkParse(b *testing.B) {
	msgs := gelfCorpus(b, 20000)
	var size int
	for _, m := range msgs {
		size += len(m)
	}
	p := NewParser()
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		batch := &event.Batch{Events: make([]event.Event, 0, len(msgs))}
		for _, m := range msgs {
			if err := p.Parse(batch, m, ParseOptions{Now: 1}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkTCPIngest sends the corpus as NUL-delimited GELF over 4
// connections into a real pipeline with a discarding writer and reports
// events/s end to end.
func BenchmarkTCPIngest(b *testing.B) {
	msgs := gelfCorpus(b, 100000)
	data := append(bytes.Join(msgs, []byte{0}), 0)
	w := &ingesttest.Counter{}
	p, err := pipeline.New(pipeline.DefaultOptions(), w)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	opts := DefaultOptions()
	opts.Addr = "127.0.0.1:0"
	s, err := New(p, opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	ingesttest.BenchTCPSenders(b, s.TCPAddr().String(), data, len(msgs), 4, w)
}
