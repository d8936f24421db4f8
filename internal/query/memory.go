package query

import (
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/logcaster/logcaster/internal/event"
)

// ErrMemoryLimit is returned (wrapped in a *MemoryLimitError) when a query
// would hold more than RunOptions.MaxMemory: collected rows, stats groups,
// count_uniq sets and quantile values all count.
var ErrMemoryLimit = &MemoryLimitError{}

// MemoryLimitError says how much a query was allowed.
type MemoryLimitError struct{ Limit int64 }

func (e *MemoryLimitError) Error() string {
	return "query needs more than " + formatBytes(e.Limit) + "; narrow the time range or add filters"
}

// Is makes errors.Is(err, ErrMemoryLimit) true for every limit.
func (e *MemoryLimitError) Is(target error) bool { return target == ErrMemoryLimit }

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// memBudget counts the bytes a run holds. Accounting is approximate (Go
// headers and map overhead are estimated) and errs on the high side; it
// exists to stop a query long before the process is in danger, not to
// measure the heap. A nil budget is unlimited.
type memBudget struct {
	limit int64
	used  atomic.Int64
	over  atomic.Bool
}

func newBudget(limit int64) *memBudget {
	if limit <= 0 {
		return nil
	}
	return &memBudget{limit: limit}
}

// add records n more bytes and reports whether the run is still within
// its limit. Once over, it stays over.
func (b *memBudget) add(n int64) bool {
	if b == nil {
		return true
	}
	if b.used.Add(n) > b.limit {
		b.over.Store(true)
	}
	return !b.over.Load()
}

// exceeded reports whether the budget ran out.
func (b *memBudget) exceeded() bool { return b != nil && b.over.Load() }

func (b *memBudget) err() error { return &MemoryLimitError{Limit: b.limit} }

// Approximate sizes of what a run holds besides the strings' bytes.
const (
	rowOverhead   = int64(unsafe.Sizeof(Row{})) + 16 // the Row and its pointer
	fieldOverhead = int64(unsafe.Sizeof(event.Field{}))
	// mapEntryOverhead is a map slot with its share of the buckets.
	mapEntryOverhead = 48
)

// rowBytes estimates what a collected row holds.
func rowBytes(r *Row) int64 {
	n := rowOverhead + int64(cap(r.Fields))*fieldOverhead
	for _, f := range r.Fields {
		n += int64(len(f.Name) + len(f.Value))
	}
	return n
}
