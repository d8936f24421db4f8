package ingest

import (
	"bytes"
	"context"
	"testing"

	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// BenchmarkTCPIngest sends the corpus over 4 connections to a TCPServer
// with the real pipeline and reports events/s end to end (all events
// written by the pipeline).
func BenchmarkTCPIngest(b *testing.B) {
	lines := corpusLines(b, 100000)
	data := append(bytes.Join(lines, []byte{'\n'}), '\n')
	w := &ingesttest.Counter{}
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
	ingesttest.BenchTCPSenders(b, s.Addr().String(), data, len(lines), 4, w)
}
