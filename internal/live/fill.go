package live

import (
	"context"
	"errors"
	"time"

	"github.com/logcaster/logcaster/internal/query"
)

// fillChunk is how many logged events one store read covers: large enough
// that a minute at 20,000 events/s is a few reads, small enough that the
// rows held meanwhile stay far below Options.FillMemory for a usual filter.
const fillChunk = 1 << 16

// notKept is the reason of a gap the resume log does not cover.
const notKept = "not kept for resuming (no tail was open, or past the resume log's size bound)"

// fillPlan is the part of a resume that comes from the store: the positions
// after from and before (epoch, end), where end is the ring's oldest
// sequence number (the ring and the live queue take over from there).
type fillPlan struct {
	from  Cursor
	epoch int64
	end   uint64
	segs  []*segment
	// known is whether the log held any segment of from's run: without
	// one, the rest of that run is unknown.
	known bool
}

// filler walks a plan, writing the store's events and notices of holes.
type filler struct {
	st  *stream
	q   *query.Query
	p   *fillPlan
	pos Cursor // the last position accounted for (written or reported)
}

// fill writes the events of the plan that match the stream's filter, in
// cursor order, each with its own cursor, and a gap notice for every
// stretch the log does not cover. It runs before the stream takes its
// queue, which holds everything from the ring on.
func (st *stream) fill(ctx context.Context, q *query.Query, p *fillPlan) error {
	hub := st.h.hub
	select {
	case hub.fills <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-hub.fills }()
	f := &filler{st: st, q: q, p: p, pos: p.from}
	for i := 0; i < len(p.segs); {
		j, n := i, 0
		for j < len(p.segs) && (n == 0 || n+len(p.segs[j].hashes) <= fillChunk) {
			n += len(p.segs[j].hashes)
			j++
		}
		if err := f.chunk(ctx, p.segs[i:j]); err != nil {
			return err
		}
		i = j
	}
	f.skipTo(Cursor{p.epoch, p.end}, notKept)
	return st.flush()
}

// bounds is the part of seg the plan covers, or ok false for none.
func (f *filler) bounds(seg *segment) (lo, hi uint64, ok bool) {
	lo, hi = seg.first, seg.last()
	if seg.epoch == f.p.from.Epoch && lo <= f.p.from.Seq {
		lo = f.p.from.Seq + 1
	}
	if seg.epoch == f.p.epoch && hi >= f.p.end {
		hi = f.p.end - 1
	}
	return lo, hi, lo <= hi
}

// skipTo reports the positions between f.pos and next (exclusive) as a
// gap, if there are any, and makes next-1 the position accounted for.
func (f *filler) skipTo(next Cursor, reason string) {
	hole := false
	switch {
	case next.Epoch == f.pos.Epoch:
		hole = next.Seq > f.pos.Seq+1
	case f.pos == f.p.from && !f.p.known:
		hole, reason = true, "the cursor's server run is not in the resume log"
	default:
		// The run of f.pos ended with its last logged event; the next run
		// numbers from 1.
		hole = next.Seq > 1
	}
	to := Cursor{next.Epoch, next.Seq - 1}
	if hole {
		f.st.notice("gap", "from_cursor", f.pos.String(), "to_cursor", to.String(), "reason", reason)
	}
	f.pos = to
}

// chunk reads the store over the time range of segs and writes the rows
// whose content hashes the segments list, in the segments' order.
func (f *filler) chunk(ctx context.Context, segs []*segment) error {
	minT, maxT := segs[0].minT, segs[0].maxT
	for _, s := range segs[1:] {
		minT, maxT = min(minT, s.minT), max(maxT, s.maxT)
	}
	rows := map[uint64][]*query.Row{}
	opts := query.RunOptions{Start: minT, End: maxT + 1, MaxMemory: f.st.h.hub.opts.FillMemory, Now: time.Now()}
	err := f.q.Run(ctx, f.st.h.sc, opts, func(r *query.Row) error {
		h := hashRow(r)
		rows[h] = append(rows[h], r)
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		reason := "reading the store failed: " + err.Error()
		var ml *query.MemoryLimitError
		if errors.As(err, &ml) {
			reason = "too many matching events in this stretch to read at once"
		}
		for _, s := range segs {
			if lo, _, ok := f.bounds(s); ok {
				f.skipTo(Cursor{s.epoch, lo}, notKept)
				break
			}
		}
		last := segs[len(segs)-1]
		_, hi, _ := f.bounds(last)
		to := Cursor{last.epoch, hi}
		f.st.notice("gap", "from_cursor", f.pos.String(), "to_cursor", to.String(), "reason", reason)
		f.pos = to
		return nil
	}
	var line []byte
	for _, s := range segs {
		lo, hi, ok := f.bounds(s)
		if !ok {
			continue
		}
		f.skipTo(Cursor{s.epoch, lo}, notKept)
		if len(rows) > 0 {
			for seq := lo; seq <= hi; seq++ {
				h := s.hashes[seq-s.first]
				rs := rows[h]
				if len(rs) == 0 {
					continue // not matching, or no longer in the store
				}
				rows[h] = rs[1:]
				line = query.AppendNDJSON(line[:0], rs[0])
				f.st.logAt(Cursor{s.epoch, seq}, line[:len(line)-1])
				if len(f.st.buf) > 64<<10 {
					if err := f.st.flush(); err != nil {
						return err
					}
				}
			}
		}
		f.pos = Cursor{s.epoch, hi}
	}
	return nil
}
