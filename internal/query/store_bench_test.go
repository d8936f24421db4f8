package query

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/store"
)

// The store benchmarks run the issue-3 queries over a real, merged store:
// parts with bloom filters and zstd columns, as logcaster serve queries
// them. Load a server with the corpus (logcaster bench --phases
// http,merge), stop it, copy its data folder, and point QUERY_BENCH_STORE
// at the copy:
//
//	QUERY_BENCH_STORE=/tmp/qcopy go test -run XXX -bench Store -benchmem ./internal/query/

var (
	storeOnce sync.Once
	benchSt   *store.Store
	storeErr  error
)

func benchStore(b *testing.B) *store.Store {
	dir := os.Getenv("QUERY_BENCH_STORE")
	if dir == "" {
		b.Skip("set QUERY_BENCH_STORE to a copy of a loaded data folder")
	}
	storeOnce.Do(func() {
		opts := store.DefaultOptions()
		opts.Dir = dir
		opts.Sync = store.SyncNone
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		// Keep every day of the corpus, however old it is by now.
		opts.Retention = 10 * 365 * 24 * time.Hour
		benchSt, storeErr = store.Open(opts)
	})
	if storeErr != nil {
		b.Fatal(storeErr)
	}
	return benchSt
}

func benchStoreQuery(b *testing.B, q string, limit int) {
	st := benchStore(b)
	pq, err := Parse(q)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	rows := 0
	for i := 0; i < b.N; i++ {
		rows = 0
		err := pq.Run(context.Background(), st, RunOptions{Limit: limit}, func(r *Row) error {
			rows++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// CPU time is steadier than wall time on a shared machine: it does not
	// count the time other processes held the cores.
	b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(rows), "rows")
}

// cpuTime is the process's user and system CPU time so far, in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkStoreTraceID(b *testing.B) {
	benchStoreQuery(b, "trace_id:f7b169c846f218ab552fa82fbf86758b", 0)
}
func BenchmarkStoreRareWord(b *testing.B)        { benchStoreQuery(b, "forbidden", 0) }
func BenchmarkStoreCommonWordCount(b *testing.B) { benchStoreQuery(b, "from | stats count()", 0) }
func BenchmarkStoreCommonWordNewest100(b *testing.B) {
	benchStoreQuery(b, "from", 100)
}
func BenchmarkStoreErrorsByHour(b *testing.B) {
	benchStoreQuery(b, "level:ERROR | stats count() by (_time:1h)", 0)
}
func BenchmarkStoreServiceNewest100(b *testing.B) {
	benchStoreQuery(b, "service:hdfs | sort by (timestamp desc) | limit 100", 0)
}
func BenchmarkStoreSubstringCount(b *testing.B) {
	benchStoreQuery(b, `~"ockMana" | stats count()`, 0)
}
func BenchmarkStoreCountByServiceLevel(b *testing.B) {
	benchStoreQuery(b, "* | stats count() by (service, level)", 0)
}

// BenchmarkStoreBlocks reports how many blocks each filter leaves after the
// time range and the bloom filters: the work a query cannot skip.
func BenchmarkStoreBlocks(b *testing.B) {
	st := benchStore(b)
	for _, q := range []string{"trace_id:f7b169c846f218ab552fa82fbf86758b", "forbidden", "from", "level:ERROR", "service:hdfs", "*"} {
		pq, err := Parse(q)
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		total, pass, mem := 0, 0, 0
		s := &scan{q: pq, rc: &runCtx{ctx: context.Background(), now: time.Now().UnixNano()}, minT: -1 << 63, maxT: 1<<63 - 1}
		err = st.Scan(context.Background(), s.scanOptions(), func(blk store.Block) error {
			bc := &blockCtx{}
			bc.reset(blk, s.rc.now)
			ok := s.prepare(bc)
			mu.Lock()
			total++
			if _, ok := blk.(*store.MemBlock); ok {
				mem++
			}
			if ok {
				pass++
			}
			mu.Unlock()
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%-45s %4d of %4d blocks pass (%d head blocks)", q, pass, total, mem)
	}
}

// BenchmarkStoreStreamAll streams every row of the store with the default
// memory bound, as an export would, and reports the peak heap.
func BenchmarkStoreStreamAll(b *testing.B) {
	st := benchStore(b)
	pq, err := Parse("*")
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}()
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		rows = 0
		err := pq.Run(context.Background(), st, RunOptions{MaxMemory: DefaultHandlerOptions().MaxMemoryBytes}, func(*Row) error {
			rows++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	close(stop)
	<-done
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
