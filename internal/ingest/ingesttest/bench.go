package ingesttest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// Counter is a pipeline.Writer that counts events and keeps nothing:
// benchmarks measure a listener and its parser with the real pipeline, not
// a store.
type Counter struct{ events atomic.Int64 }

// Write counts the batches' events.
func (w *Counter) Write(batches []*event.Batch) error {
	for _, b := range batches {
		w.events.Add(int64(b.Len()))
	}
	return nil
}

// Count is how many events have been written.
func (w *Counter) Count() int64 { return w.events.Load() }

// BenchTCPSenders runs b's loop: each iteration, senders connections to
// addr each write data (which holds events events) and close, and the
// iteration ends when w has counted all of them. It reports bytes/s (all
// senders' data) and events/s end to end.
func BenchTCPSenders(b *testing.B, addr string, data []byte, events, senders int, w *Counter) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data) * senders))
	b.ResetTimer()
	for b.Loop() {
		want := w.Count() + int64(events*senders)
		var wg sync.WaitGroup
		for i := 0; i < senders; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Error(err)
					return
				}
				c.Write(data)
				c.Close()
			}()
		}
		wg.Wait()
		for w.Count() < want {
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.ReportMetric(float64(b.N*events*senders)/b.Elapsed().Seconds(), "events/s")
}
