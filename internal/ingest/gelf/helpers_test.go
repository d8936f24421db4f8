package gelf

import (
	"context"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
	"github.com/logcaster/logcaster/internal/metrics"
)

// startTestServer starts a server on loopback with a real pipeline into a
// Recorder; edit is applied over DefaultOptions.
func startTestServer(t *testing.T, edit func(*Options)) (*Server, *ingesttest.Recorder, *metrics.Metrics) {
	t.Helper()
	w := &ingesttest.Recorder{}
	p := ingesttest.NewPipeline(t, w)
	m := metrics.New()
	opts := DefaultOptions()
	opts.Addr = "127.0.0.1:0"
	opts.Metrics = m
	if edit != nil {
		edit(&opts)
	}
	s, err := New(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, w, m
}
