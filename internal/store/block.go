package store

import (
	"context"
	"errors"
	"math"

	"github.com/logcaster/logcaster/internal/event"
)

// Block is a group of rows of one stream, sorted by time, as the query
// engine sees it: from an immutable part or from the in-memory head. Columns
// are decoded lazily, on first use, so a filter that is answered by the bloom
// filters or by one column reads nothing else.
//
// A Block is used by one goroutine and is valid only during the Scan
// callback that received it; strings it returns must be copied to be kept.
type Block interface {
	// Rows is the number of rows.
	Rows() int
	// TimeRange is the smallest and largest timestamp in the block (unix ns),
	// known without decoding anything.
	TimeRange() (min, max int64)
	// MayContain reports whether the column may hold every one of the tokens
	// whose tokenize.Hash values are given; false is definite.
	MayContain(column string, hashes []uint64) bool
	// Timestamps returns the rows' timestamps (unix ns), ascending.
	Timestamps() ([]int64, error)
	// Column returns the values of a column, one a row ("" where a row lacks
	// it), or nil when no row has it. Built-in columns are named as in
	// package event (index, level, message, trace_id).
	Column(name string) ([]string, error)
	// ColumnNames lists the columns the block has, built-in ones included.
	ColumnNames() []string
}

// ScanOptions select and order the blocks a Scan visits.
type ScanOptions struct {
	// MinTime and MaxTime bound the time range, inclusive, in unix ns.
	// Blocks outside it are not visited; a visited block may still hold rows
	// outside it, which the caller filters by Timestamps.
	MinTime, MaxTime int64
	// NewestFirst visits blocks in descending order of their largest
	// timestamp (in that order of start when Parallelism > 1).
	NewestFirst bool
	// Parallelism is how many goroutines call fn at once; 0 means GOMAXPROCS.
	Parallelism int
}

// AllTime returns ScanOptions covering every timestamp.
func AllTime() ScanOptions {
	return ScanOptions{MinTime: math.MinInt64, MaxTime: math.MaxInt64}
}

// ErrStopScan returned by a Scan callback ends the scan early; Scan then
// returns nil, after every callback already running has returned.
var ErrStopScan = errors.New("stop scan")

// Scanner is what the query engine needs of a store.
type Scanner interface {
	Scan(ctx context.Context, opts ScanOptions, fn func(Block) error) error
}

// MemBlock is a Block over events held in memory. The store uses it for the
// head; tests use it to run queries without a store. Events must be of one
// stream and sorted by time for the Block contract to hold.
type MemBlock struct {
	Events []event.Event
	minT   int64
	maxT   int64
}

// NewMemBlock returns a Block over events (sorted by time).
func NewMemBlock(events []event.Event) *MemBlock {
	b := &MemBlock{Events: events}
	if len(events) > 0 {
		b.minT, b.maxT = events[0].Time, events[0].Time
		for i := range events {
			b.minT = min(b.minT, events[i].Time)
			b.maxT = max(b.maxT, events[i].Time)
		}
	}
	return b
}

func (b *MemBlock) Rows() int                 { return len(b.Events) }
func (b *MemBlock) TimeRange() (int64, int64) { return b.minT, b.maxT }
func (b *MemBlock) Timestamps() ([]int64, error) {
	ts := make([]int64, len(b.Events))
	for i := range b.Events {
		ts[i] = b.Events[i].Time
	}
	return ts, nil
}

// MayContain is always true: the head has no bloom filter, and checking
// the tokens here would cost as much as the match it is meant to spare.
func (b *MemBlock) MayContain(column string, hashes []uint64) bool { return true }

func (b *MemBlock) Column(name string) ([]string, error) {
	var vals []string
	for i := range b.Events {
		v, ok := b.Events[i].Get(name)
		if !ok || v == "" {
			continue
		}
		if vals == nil {
			vals = make([]string, len(b.Events))
		}
		vals[i] = v
	}
	return vals, nil
}

func (b *MemBlock) ColumnNames() []string {
	seen := map[string]bool{}
	var names []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for i := range b.Events {
		e := &b.Events[i]
		if e.Index != "" {
			add(event.FieldIndex)
		}
		if e.Level != "" {
			add(event.FieldLevel)
		}
		if e.Message != "" {
			add(event.FieldMessage)
		}
		if e.TraceID != "" {
			add(event.FieldTraceID)
		}
		for _, f := range e.Fields {
			if f.Value != "" { // as in parts: a column empty in every row is absent
				add(f.Name)
			}
		}
	}
	return names
}
