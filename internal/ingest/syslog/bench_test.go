package syslog

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// The benchmarks read the gencorpus syslog corpus: the file named by
// $SYSLOG_CORPUS, or 100,000 messages generated once with
// go run ../../../../shared/bench/gencorpus/main.go -n 100000 -format syslog.

var (
	corpusOnce sync.Once
	corpus     [][]byte
	corpusErr  error
)

func loadCorpus(b *testing.B) [][]byte {
	b.Helper()
	corpusOnce.Do(func() {
		var data []byte
		if path := os.Getenv("SYSLOG_CORPUS"); path != "" {
			data, corpusErr = os.ReadFile(path)
		} else {
			gen, _ := filepath.Abs("../../../../shared/bench/gencorpus/main.go")
			cmd := exec.Command("go", "run", gen, "-n", "100000", "-format", "syslog")
			cmd.Stderr = os.Stderr
			data, corpusErr = cmd.Output()
		}
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			if len(line) > 0 {
				corpus = append(corpus, line)
			}
		}
	})
	if corpusErr != nil || len(corpus) == 0 {
		b.Fatalf("no syslog corpus (set SYSLOG_CORPUS): %v", corpusErr)
	}
	return corpus
}

func corpusBytes(c [][]byte) int {
	n := 0
	for _, m := range c {
		n += len(m)
	}
	return n
}

func BenchmarkParseCorpus(b *testing.B) {
	c := loadCorpus(b)
	p := NewParser()
	batch := &event.Batch{Events: make([]event.Event, 0, 4096)}
	opts := ParseOptions{Now: testNow}
	b.SetBytes(int64(corpusBytes(c) / len(c)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if batch.Len() == 4096 {
			batch = &event.Batch{Events: batch.Events[:0]}
		}
		p.Parse(batch, c[i], opts)
		if i++; i == len(c) {
			i = 0
		}
	}
}

// discard is a pipeline.Writer that counts events and stores nothing.
type discard struct{ n atomic.Int64 }

func (d *discard) Write(batches []*event.Batch) error {
	n := 0
	for _, b := range batches {
		n += b.Len()
	}
	d.n.Add(int64(n))
	return nil
}

func startBench(b *testing.B, d *discard) *testServer {
	p, err := pipeline.New(pipeline.DefaultOptions(), d)
	if err != nil {
		b.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Addr = "127.0.0.1:0"
	opts.Metrics = metrics.New()
	s, err := New(p, opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Shutdown(b.Context()); p.Close() })
	return &testServer{Server: s, p: p}
}

// BenchmarkTCPOctetCounted sends the corpus octet-counted over one TCP
// connection through the Server into a real pipeline that discards, and
// reports events/s from the first byte sent to the last event written.
func BenchmarkTCPOctetCounted(b *testing.B) {
	c := loadCorpus(b)
	var wire []byte
	for _, m := range c {
		wire = strconv.AppendInt(wire, int64(len(m)+1), 10)
		wire = append(wire, ' ')
		wire = append(append(wire, m...), '\n')
	}
	d := &discard{}
	s := startBench(b, d)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	var events int64
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		want := d.n.Load() + int64(len(c))
		conn, err := net.Dial("tcp", s.TCPAddr().String())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Write(wire); err != nil {
			b.Fatal(err)
		}
		conn.Close()
		for d.n.Load() < want {
			time.Sleep(100 * time.Microsecond)
		}
		elapsed += time.Since(start)
		events += int64(len(c))
	}
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
}

// BenchmarkUDP sends the corpus as datagrams from two goroutines as fast as
// they can and reports the events/s stored and the share of sent events
// lost: dropped and counted by the server, or dropped by the kernel.
func BenchmarkUDP(b *testing.B) {
	c := loadCorpus(b)
	d := &discard{}
	s := startBench(b, d)
	b.ReportAllocs()
	const senders = 2
	var sent, stored int64
	var elapsed time.Duration
	for b.Loop() {
		before := d.n.Load()
		start := time.Now()
		var wg sync.WaitGroup
		for g := 0; g < senders; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn, err := net.Dial("udp", s.UDPAddr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer conn.Close()
				for i := g; i < len(c); i += senders {
					conn.Write(c[i])
				}
			}()
		}
		wg.Wait()
		// Wait until the server has settled: nothing new for 100 ms.
		last := int64(-1)
		for n := d.n.Load(); n != last; n = d.n.Load() {
			last = n
			time.Sleep(100 * time.Millisecond)
		}
		elapsed += time.Since(start) - 100*time.Millisecond
		sent += int64(len(c))
		stored += d.n.Load() - before
	}
	m := s.opts.Metrics
	dropped := testutil.ToFloat64(m.DroppedEvents.WithLabelValues(protoUDP, "queue_full")) +
		testutil.ToFloat64(m.DroppedEvents.WithLabelValues(protoUDP, "workers_busy")) +
		testutil.ToFloat64(m.DroppedEvents.WithLabelValues(protoUDP, "socket_buffer_full"))
	b.ReportMetric(float64(stored)/elapsed.Seconds(), "events/s")
	b.ReportMetric(100*float64(sent-stored)/float64(sent), "%lost")
	b.ReportMetric(100*dropped/float64(sent), "%counted_drops")
}
