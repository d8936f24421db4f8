package ingest

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// nullWriter counts events and keeps nothing: the benchmark measures the
// listener and parser, not a store.
type nullWriter struct{ events atomic.Int64 }

func (w *nullWriter) Write(batches []*event.Batch) error {
	for _, b := range batches {
		w.events.Add(int64(b.Len()))
	}
	return nil
}

// BenchmarkTCPIngest sends the corpus over 4 connections to a TCPServer
// with the real pipeline and reports events/s end to end (all events
// written by the pipeline).
func BenchmarkTCPIngest(b *testing.B) {
	lines := corpusLines(b, 100000)
	data := append(bytes.Join(lines, []byte{'\n'}), '\n')
	w := &nullWriter{}
	p, err := pipeline.New(pipeline.DefaultOptions(), w)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	opts := DefaultTCPOptions()
	opts.Addr = "127.0.0.1:0"
	s, err := NewTCPServer(p, opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	const senders = 4
	b.ReportAllocs()
	b.SetBytes(int64(len(data) * senders))
	b.ResetTimer()
	for b.Loop() {
		want := w.events.Load() + int64(len(lines)*senders)
		var wg sync.WaitGroup
		for i := 0; i < senders; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", s.Addr().String())
				if err != nil {
					b.Error(err)
					return
				}
				c.Write(data)
				c.Close()
			}()
		}
		wg.Wait()
		for w.events.Load() < want {
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.ReportMetric(float64(b.N*len(lines)*senders)/b.Elapsed().Seconds(), "events/s")
}
