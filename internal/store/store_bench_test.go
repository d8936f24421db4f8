package store

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// loadCorpus reads up to n events of a gencorpus jsonl file
// (LOGCASTER_CORPUS, default /tmp/corpus.jsonl) for benchmarks.
func loadCorpus(b *testing.B, n int) []event.Event {
	b.Helper()
	path := os.Getenv("LOGCASTER_CORPUS")
	if path == "" {
		path = "/tmp/corpus.jsonl"
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatalf("corpus: %v (generate with: go run ../shared/bench/gencorpus/main.go -n 1000000 > /tmp/corpus.jsonl)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var evs []event.Event
	for sc.Scan() && len(evs) < n {
		var m map[string]string
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			b.Fatal(err)
		}
		ts, _ := time.Parse(time.RFC3339Nano, m["timestamp"])
		e := event.Event{Time: ts.UnixNano(), Index: "bench", Level: m["level"], Message: m["message"], TraceID: m["trace_id"]}
		for _, k := range []string{"service", "host", "stack_trace"} {
			if v := m[k]; v != "" {
				e.Fields = append(e.Fields, event.Field{Name: k, Value: v})
			}
		}
		evs = append(evs, e)
	}
	return evs
}

// BenchmarkWrite measures the group commit path: WAL encoding, S2, one
// write and one fsync per group of 16 batches of 4096 events, and the head.
func BenchmarkWrite(b *testing.B) {
	evs := loadCorpus(b, 200_000)
	const batch, group = 4096, 16
	var batches []*event.Batch
	for i := 0; i+batch <= len(evs); i += batch {
		batches = append(batches, &event.Batch{Events: evs[i : i+batch]})
	}
	o := testOptions(b.TempDir())
	o.MaxHeadEvents = 1 << 30
	s, err := Open(o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		g := make([]*event.Batch, 0, group)
		for j := 0; j < group; j++ {
			g = append(g, batches[(i*group+j)%len(batches)])
		}
		if err := s.Write(g); err != nil {
			b.Fatal(err)
		}
		n += group * batch
		if s.head.events > 2_000_000 { // keep memory flat: drop the head, not part of the measure
			b.StopTimer()
			s.mu.Lock()
			s.head = newHead()
			s.mu.Unlock()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
