package part

import (
	"bufio"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// corpusPath is the gencorpus output the corpus benchmarks read:
//
//	go run /work/shared/bench/gencorpus/main.go -n 1000000 -format jsonl > /tmp/corpus.jsonl
//
// LOGCASTER_CORPUS overrides it; the benchmarks skip when it is missing.
func corpusPath() string {
	if p := os.Getenv("LOGCASTER_CORPUS"); p != "" {
		return p
	}
	return "/tmp/corpus.jsonl"
}

var (
	corpusOnce sync.Once
	corpusEvs  []event.Event
	corpusRaw  int64
)

// loadCorpus parses the corpus with encoding/json (fine in tests): the
// built-in names go to their fields, every other key to Fields.
func loadCorpus(tb testing.TB) []event.Event {
	corpusOnce.Do(func() {
		f, err := os.Open(corpusPath())
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		for sc.Scan() {
			corpusRaw += int64(len(sc.Bytes()) + 1)
			var m map[string]string
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				continue
			}
			e := event.Event{Index: "default"}
			for k, v := range m {
				switch k {
				case "timestamp":
					ts, err := time.Parse(time.RFC3339Nano, v)
					if err == nil {
						e.Time = ts.UnixNano()
					}
				case "level":
					e.Level = v
				case "message":
					e.Message = v
				case "trace_id":
					e.TraceID = v
				default:
					e.Fields = append(e.Fields, event.Field{Name: k, Value: v})
				}
			}
			corpusEvs = append(corpusEvs, e)
		}
	})
	if len(corpusEvs) == 0 {
		tb.Skip("no corpus at " + corpusPath())
	}
	return corpusEvs
}
