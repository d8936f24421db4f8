package store

import (
	"context"
	"errors"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/logcaster/logcaster/internal/store/part"
)

// scanItem is one block to visit: of a part, or of the head.
type scanItem struct {
	h        *partHandle // nil for a head block
	i        int
	mem      *MemBlock
	min, max int64
}

// Scan calls fn for every block that may hold rows in [opts.MinTime,
// opts.MaxTime]: the parts' blocks, skipped by their time range without
// reading anything, and the head's. See ScanOptions for order and
// parallelism. A block of a damaged part is skipped, and the part is set
// aside; the scan goes on.
func (s *Store) Scan(ctx context.Context, opts ScanOptions, fn func(Block) error) error {
	items, handles := s.snapshot(opts)
	defer func() {
		for _, h := range handles {
			h.release()
		}
	}()
	if opts.NewestFirst {
		sort.Slice(items, func(i, j int) bool { return items[i].max > items[j].max })
	}
	workers := opts.Parallelism
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(items))
	if workers == 0 {
		return nil
	}

	var (
		next    atomic.Int64
		stopped atomic.Bool
		errOnce sync.Once
		scanErr error
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { scanErr = err })
		stopped.Store(true)
	}
	work := func() {
		defer wg.Done()
		r := part.GetBlockReader()
		defer part.PutBlockReader(r)
		for !stopped.Load() {
			n := int(next.Add(1)) - 1
			if n >= len(items) {
				return
			}
			if n%16 == 0 && ctx.Err() != nil {
				fail(ctx.Err())
				return
			}
			it := &items[n]
			var b Block
			if it.mem != nil {
				b = it.mem
			} else {
				r.Reset(it.h.p, it.i)
				b = r
			}
			err := fn(b)
			switch {
			case err == nil:
			case errors.Is(err, ErrStopScan):
				stopped.Store(true)
				return
			case it.h != nil && part.IsCorrupt(err):
				s.quarantineHandle(it.h, err)
			default:
				fail(err)
				return
			}
		}
	}
	wg.Add(workers)
	for range workers - 1 {
		go work()
	}
	work()
	wg.Wait()
	if scanErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return scanErr
}

// snapshot lists the blocks overlapping the range and acquires the parts
// they belong to.
func (s *Store) snapshot(opts ScanOptions) ([]scanItem, []*partHandle) {
	lo, hi := opts.MinTime, opts.MaxTime
	overlaps := func(min, max int64) bool { return max >= lo && min <= hi }
	var items []scanItem
	var handles []*partHandle
	var views []headView

	s.mu.RLock()
	views = append(views, s.head.view())
	for _, h := range s.flushing {
		views = append(views, h.view())
	}
	for _, p := range s.partitions {
		if p.end != 0 && !overlaps(p.start, p.end-1) {
			continue
		}
		for _, h := range p.parts {
			m := h.p.Meta()
			if overlaps(m.MinTime, m.MaxTime) {
				h.acquire()
				handles = append(handles, h)
			}
		}
	}
	s.mu.RUnlock()

	for _, v := range views {
		for _, b := range v.allBlocks() {
			if min, max := b.TimeRange(); overlaps(min, max) {
				items = append(items, scanItem{mem: b, min: min, max: max})
			}
		}
	}
	for _, h := range handles {
		for i := range h.p.NumBlocks() {
			if min, max := h.p.BlockTimeRange(i); overlaps(min, max) {
				items = append(items, scanItem{h: h, i: i, min: min, max: max})
			}
		}
	}
	return items, handles
}
