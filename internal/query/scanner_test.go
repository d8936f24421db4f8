package query

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/store"
	"github.com/logcaster/logcaster/internal/store/part"
)

// fakeScanner serves MemBlocks the way the store promises to: blocks
// outside the time range skipped, newest first on request, fn called from
// Parallelism goroutines at once, ErrStopScan ending the scan with nil.
type fakeScanner struct {
	blocks  []store.Block
	visited int // blocks handed to fn in the last scan
	scans   int // Scan calls so far
	mu      sync.Mutex
}

// newFakeScanner groups events by stream and cuts each stream, sorted by
// time, into blocks of at most blockRows.
func newFakeScanner(events []event.Event, blockRows int) *fakeScanner {
	streams := map[string][]event.Event{}
	var keys []string
	for _, e := range events {
		k := event.StreamKey(&e)
		if _, ok := streams[k]; !ok {
			keys = append(keys, k)
		}
		streams[k] = append(streams[k], e)
	}
	fs := &fakeScanner{}
	for _, k := range keys {
		evs := streams[k]
		slices.SortStableFunc(evs, func(a, b event.Event) int { return cmpInt(a.Time, b.Time) })
		for len(evs) > 0 {
			n := min(blockRows, len(evs))
			fs.blocks = append(fs.blocks, store.Block(store.NewMemBlock(evs[:n:n])))
			evs = evs[n:]
		}
	}
	return fs
}

// newPartScanner serves the same events from a part written as the store
// writes merged parts (dictionary and constant columns, zstd, blooms),
// cut into blocks of at most blockRows per stream: the filters' and pipes'
// paths for part blocks (ColumnRaw, ColumnCodes, blooms) against the same
// answers as the MemBlocks'.
func newPartScanner(t testing.TB, events []event.Event, blockRows int) *fakeScanner {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "part")
	if _, err := part.Write(dir, events, part.Meta{}, part.WriteOptions{ZstdLevel: 1, MaxBlockRows: blockRows, MaxBlockBytes: 4 << 20}); err != nil {
		t.Fatal(err)
	}
	p, err := part.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	fs := &fakeScanner{}
	for i := 0; i < p.NumBlocks(); i++ {
		r := &part.BlockReader{} // one each: blocks are read concurrently
		r.Reset(p, i)
		fs.blocks = append(fs.blocks, r)
	}
	return fs
}

// scanners returns the events served as MemBlocks (the head) and as a
// part's blocks, for a test to run against both.
func scanners(t testing.TB, events []event.Event, blockRows int) map[string]*fakeScanner {
	return map[string]*fakeScanner{"mem": newFakeScanner(events, blockRows), "part": newPartScanner(t, events, blockRows)}
}

func (fs *fakeScanner) Scan(ctx context.Context, opts store.ScanOptions, fn func(store.Block) error) error {
	var todo []store.Block
	for _, b := range fs.blocks {
		lo, hi := b.TimeRange()
		if hi >= opts.MinTime && lo <= opts.MaxTime {
			todo = append(todo, b)
		}
	}
	if opts.NewestFirst {
		slices.SortStableFunc(todo, func(a, b store.Block) int {
			_, x := a.TimeRange()
			_, y := b.TimeRange()
			return cmpInt(y, x)
		})
	}
	par := opts.Parallelism
	if par <= 0 {
		par = 2
	}
	fs.mu.Lock()
	fs.visited = 0
	fs.scans++
	fs.mu.Unlock()
	var (
		mu      sync.Mutex
		next    int
		stopped bool
		firstEr error
		wg      sync.WaitGroup
	)
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if stopped || next >= len(todo) || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				b := todo[next]
				next++
				mu.Unlock()
				fs.mu.Lock()
				fs.visited++
				fs.mu.Unlock()
				if err := fn(b); err != nil {
					mu.Lock()
					stopped = true
					if !errors.Is(err, store.ErrStopScan) && firstEr == nil {
						firstEr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstEr != nil {
		return firstEr
	}
	return ctx.Err()
}
