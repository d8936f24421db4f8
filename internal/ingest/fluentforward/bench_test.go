package fluentforward

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/tinylib/msgp/msgp"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// forwardCorpus turns n events of the gencorpus JSON-lines corpus into
// PackedForward frames of perFrame entries each, as Fluent Bit's forward
// output sends them (EventTime, one tag a frame).
func forwardCorpus(tb testing.TB, n, perFrame int) (frames [][]byte, events int) {
	gen := "/work/shared/bench/gencorpus/main.go"
	if _, err := os.Stat(gen); err != nil {
		tb.Skip("gencorpus not available")
	}
	out, err := exec.Command("go", "run", gen, "-n", strconv.Itoa(n), "-format", "jsonl").Output()
	if err != nil {
		tb.Skipf("gencorpus: %v", err)
	}
	var entries []byte
	k := 0
	emit := func() {
		f := msgp.AppendArrayHeader(nil, 3)
		f = msgp.AppendString(f, "app.bench")
		f = msgp.AppendBytes(f, entries)
		f = msgp.AppendMapHeader(f, 1)
		f = msgp.AppendString(f, "size")
		f = msgp.AppendInt(f, k)
		frames = append(frames, f)
		entries, k = entries[:0], 0
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		delete(rec, "timestamp")
		entries = msgp.AppendArrayHeader(entries, 2)
		entries = append(entries, 0xd7, 0)
		entries = binary.BigEndian.AppendUint32(entries, 1700000000)
		entries = binary.BigEndian.AppendUint32(entries, uint32(events))
		if entries, err = msgp.AppendMapStrIntf(entries, rec); err != nil {
			tb.Fatal(err)
		}
		events++
		if k++; k == perFrame {
			emit()
		}
	}
	if k > 0 {
		emit()
	}
	return frames, events
}

func BenchmarkDecode(b *testing.B) {
	frames, events := forwardCorpus(b, 20000, 1000)
	var size int
	for _, f := range frames {
		size += len(f)
	}
	d := NewDecoder(64 << 20)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		batch := &event.Batch{Events: make([]event.Event, 0, events)}
		for _, f := range frames {
			if _, err := d.Decode(batch, f, 1); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkForwardIngest sends PackedForward frames of 1000 events over 4
// connections into a real pipeline with a discarding writer and reports
// events/s end to end.
func BenchmarkForwardIngest(b *testing.B) {
	frames, events := forwardCorpus(b, 100000, 1000)
	data := bytes.Join(frames, nil)
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
	ingesttest.BenchTCPSenders(b, s.TCPAddr().String(), data, events, 4, w)
}
