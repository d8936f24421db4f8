package query

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// The benchmarks run the issue-3 queries over MemBlocks built from the
// gencorpus corpus:
//
//	go run /work/shared/bench/gencorpus/main.go -n 200000 -format jsonl > /tmp/corpus.jsonl
//	QUERY_BENCH_CORPUS=/tmp/corpus.jsonl go test -run XXX -bench . -benchmem ./internal/query/

// benchBlockRows is the rows per block of the fake store, about what a
// part's block holds.
const benchBlockRows = 8192

var (
	benchOnce sync.Once
	benchSc   *fakeScanner
	benchN    int
)

func benchScanner(b *testing.B) *fakeScanner {
	path := os.Getenv("QUERY_BENCH_CORPUS")
	if path == "" {
		b.Skip("set QUERY_BENCH_CORPUS to a gencorpus jsonl file")
	}
	benchOnce.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		var evs []event.Event
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var m map[string]string
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				continue
			}
			t, _ := time.Parse(time.RFC3339Nano, m["timestamp"])
			e := event.Event{Time: t.UnixNano(), Index: "default", Level: m["level"], Message: m["message"], TraceID: m["trace_id"]}
			for k, v := range m {
				switch k {
				case "timestamp", "level", "message", "trace_id":
				default:
					e.Fields = append(e.Fields, event.Field{Name: k, Value: v})
				}
			}
			evs = append(evs, e)
		}
		benchN = len(evs)
		benchSc = newFakeScanner(evs, benchBlockRows)
	})
	return benchSc
}

func benchQuery(b *testing.B, q string, limit int) {
	sc := benchScanner(b)
	pq, err := Parse(q)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		rows = 0
		err := pq.Run(context.Background(), sc, RunOptions{Limit: limit}, func(r *Row) error {
			rows++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(float64(benchN), "events")
}

func BenchmarkTraceID(b *testing.B) {
	benchQuery(b, "trace_id:f7b169c846f218ab552fa82fbf86758b", 0)
}
func BenchmarkRareWord(b *testing.B)        { benchQuery(b, "forbidden", 0) }
func BenchmarkCommonWordCount(b *testing.B) { benchQuery(b, "from | stats count()", 0) }
func BenchmarkCommonWordNewest100(b *testing.B) {
	benchQuery(b, "from", 100)
}
func BenchmarkErrorsByHour(b *testing.B) {
	benchQuery(b, "level:ERROR | stats count() by (_time:1h)", 0)
}
func BenchmarkServiceNewest100(b *testing.B) {
	benchQuery(b, "service:hdfs | sort by (timestamp desc) | limit 100", 0)
}
func BenchmarkSubstringCount(b *testing.B) { benchQuery(b, `~"ockMana" | stats count()`, 0) }
func BenchmarkCountByServiceLevel(b *testing.B) {
	benchQuery(b, "* | stats count() by (service, level)", 0)
}

// BenchmarkTokenMatcher is the word matcher alone on messages.
func BenchmarkTokenMatcher(b *testing.B) {
	m := newTokenMatcher("from", false)
	s := strings.Repeat("Received block blk_123 of size 67108864 src: /10.0.0.1 dest ", 3) + "FROM"
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for i := 0; i < b.N; i++ {
		if !m.match(s) {
			b.Fatal("no match")
		}
	}
}
