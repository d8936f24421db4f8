package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// countWriter stores event messages and indexes, deduplicating by Source as
// the store does.
type countWriter struct {
	mu    sync.Mutex
	msgs  map[string]int
	index map[string]int
	seen  map[event.Source]bool
}

func (w *countWriter) Write(batches []*event.Batch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range batches {
		if w.seen[b.Source] {
			continue
		}
		w.seen[b.Source] = true
		for _, e := range b.Events {
			w.msgs[e.Message]++
			w.index[e.Index]++
		}
	}
	return nil
}

func TestRunSend(t *testing.T) {
	w := &countWriter{msgs: map[string]int{}, index: map[string]int{}, seen: map[event.Source]bool{}}
	p, err := pipeline.New(pipeline.DefaultOptions(), w)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	opts := ingest.DefaultTCPOptions()
	opts.Addr = "127.0.0.1:0"
	srv, err := ingest.NewTCPServer(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()

	dir := t.TempDir()
	var files []string
	const perFile = 12000 // more than two frames of 5000 lines
	for f := 0; f < 2; f++ {
		var sb strings.Builder
		for i := 0; i < perFile; i++ {
			fmt.Fprintf(&sb, "file %d line %d\n", f, i)
		}
		sb.WriteString(fmt.Sprintf("file %d unterminated", f))
		name := filepath.Join(dir, fmt.Sprintf("f%d.log", f))
		if err := os.WriteFile(name, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	args := append([]string{"--server", srv.Addr().String(), "--index", "shipped", "--progress=false"}, files...)
	if err := runSend(args); err != nil {
		t.Fatal(err)
	}
	// runSend returns after every frame is acknowledged, so all is stored.
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.msgs) != 2*(perFile+1) || w.index["shipped"] != 2*(perFile+1) {
		t.Fatalf("stored %d distinct lines, %d in index shipped; want %d", len(w.msgs), w.index["shipped"], 2*(perFile+1))
	}
	for _, m := range []string{"file 0 line 0", "file 1 line 11999", "file 0 unterminated", "file 1 unterminated"} {
		if w.msgs[m] != 1 {
			t.Fatalf("%q stored %d times", m, w.msgs[m])
		}
	}
}

func TestRunSendUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = runSend([]string{"--server", addr, "--progress=false", os.DevNull})
	if err == nil || !strings.Contains(err.Error(), "cannot reach server at "+addr) {
		t.Fatalf("err = %v", err)
	}
}
