package part

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// blockOfCorpus returns the first n corpus events of one service, in corpus
// order: the rows of one block as Write would gather them.
func blockOfCorpus(tb testing.TB, service string, n int) []event.Event {
	var out []event.Event
	for _, e := range loadCorpus(tb) {
		if s, _ := e.Get("service"); s == service {
			out = append(out, e)
			if len(out) == n {
				break
			}
		}
	}
	return out
}

// BenchmarkBlockTokens hashes the tokens of the message column of one
// 8192-row block into a hashSet, as bloom building does; small enough to
// give steady ns/event on a busy machine, where the corpus benchmarks
// cannot.
func BenchmarkBlockTokens(b *testing.B) {
	// The first rows of the corpus, all services mixed: the most distinct
	// tokens a block of this size can have.
	evs := loadCorpus(b)[:8192]
	var s hashSet
	b.ReportAllocs()
	b.ResetTimer()
	defer threadCPU(b, len(evs))()
	for i := 0; i < b.N; i++ {
		s.reset()
		for j := range evs {
			s.addTokens(evs[j].Message)
		}
	}
}

// BenchmarkEncodeBlock encodes one 8192-row block of corpus events (every
// column, blooms, compression), as Write's workers do, with each codec.
func BenchmarkEncodeBlock(b *testing.B) {
	evs := blockOfCorpus(b, "apache", 8192)
	s2opts := DefaultWriteOptions()
	s2opts.Codec = CodecS2
	for _, c := range []struct {
		name string
		opts WriteOptions
	}{{"zstd1", DefaultWriteOptions()}, {"s2", s2opts}} {
		b.Run(c.name, func(b *testing.B) {
			j := getBlockJob(newColSchema(), false)
			e := getBlockEncoder(c.opts)
			b.ReportAllocs()
			b.ResetTimer()
			defer threadCPU(b, len(evs))()
			for i := 0; i < b.N; i++ {
				for k := range evs {
					j.b.addEvent(&evs[k])
				}
				e.encode(j)
			}
			b.ReportMetric(float64(len(j.data)+len(j.blooms))/float64(len(evs)), "B/event")
		})
	}
}

// threadCPU locks the benchmark to its thread and returns a func that
// reports the thread's CPU ns per event: unlike the wall clock, it does not
// count the time other processes on a shared machine held the core.
func threadCPU(b *testing.B, events int) func() {
	runtime.LockOSThread()
	start := threadCPUTime()
	return func() {
		b.ReportMetric(float64(threadCPUTime()-start)/float64(b.N*events), "cpu-ns/event")
		runtime.UnlockOSThread()
	}
}

func threadCPUTime() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD, Linux
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
