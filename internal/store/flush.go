package store

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/logcaster/logcaster/internal/store/part"
)

// A flush turns the head into parts:
//
//  1. under writeMu, the WAL rotates to a new segment and the head is swapped
//     for an empty one, so the old head holds exactly the events of the
//     segments up to the closed one;
//  2. the old head stays visible to scans (in s.flushing) while one part per
//     UTC day is written (part.Write is atomic);
//  3. under mu, the parts replace the old head in one step;
//  4. the checkpoint records the closed segment, then segments up to it are
//     deleted.
//
// A crash before 4 leaves parts whose FlushSeq is above the checkpoint:
// recovery deletes them and replays the WAL instead. Heads are written out
// in order; if one fails (disk full), later ones wait, so the checkpoint
// never passes a head that is not in parts.

// flushingHead is a head on its way to parts.
type flushingHead struct {
	h         *head
	closedSeq uint64            // the last WAL segment holding its events
	marks     map[string]uint64 // dedup marks as of closedSeq
}

func (s *Store) flushLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.flushKick:
		}
		if err := s.flush(); err != nil {
			s.log.Error("flush failed; will retry, the WAL keeps the data", "err", err)
		}
	}
}

// flush writes the head (and any earlier head whose flush failed) into parts.
func (s *Store) flush() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	return s.flushLocked()
}

// flushLocked is flush for a caller holding flushMu.
func (s *Store) flushLocked() error {
	s.writeMu.Lock()
	if !s.closed && s.head.events > 0 {
		closed, err := s.wal.rotate()
		if err != nil {
			s.writeMu.Unlock()
			return err
		}
		s.health.walSeq.Store(s.wal.seq)
		s.mu.Lock()
		s.pendingFlush = append(s.pendingFlush, flushingHead{h: s.head, closedSeq: closed, marks: s.dedup.snapshot()})
		s.flushing = append(s.flushing, s.head)
		s.head = newHead()
		s.mu.Unlock()
	}
	s.writeMu.Unlock()

	for len(s.pendingFlush) > 0 {
		fh := s.pendingFlush[0]
		if err := s.writeHead(fh); err != nil {
			return err
		}
		s.pendingFlush = s.pendingFlush[1:]
	}
	return nil
}

// writeHead writes one head as parts and commits them.
func (s *Store) writeHead(fh flushingHead) error {
	days := fh.h.eventsByDay()
	cutoff := s.retentionCutoff()
	names := make([]string, 0, len(days))
	for day := range days {
		names = append(names, day)
	}
	sort.Strings(names)
	var handles []*partHandle
	var dayOfHandle []string
	fail := func(err error) error {
		for _, h := range handles {
			h.retire()
		}
		return err
	}
	for _, day := range names {
		events := days[day]
		if _, end := dayBounds(events[0].Time); end <= cutoff {
			// Acknowledged, but already past retention: retention would drop
			// the day at once, so it is not written at all.
			s.countDropped("retention", len(events))
			continue
		}
		dir := s.path(partitionsDirName, day, s.newPartName(0))
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return fail(fmt.Errorf("create partition %s: %w", day, err))
		}
		if _, err := part.Write(dir, events, part.Meta{FlushSeq: fh.closedSeq}, s.opts.FlushWrite); err != nil {
			return fail(fmt.Errorf("flush to partition %s: %w", day, err))
		}
		p, err := part.Open(dir)
		if err != nil {
			os.RemoveAll(dir)
			return fail(fmt.Errorf("open flushed part %s: %w", dir, err))
		}
		handles = append(handles, newPartHandle(p, filepath.Base(dir)))
		dayOfHandle = append(dayOfHandle, day)
	}

	if err := s.writeCheckpoint(checkpoint{flushedSeq: fh.closedSeq, marks: fh.marks}); err != nil {
		// Without the checkpoint a restart would replay these segments and
		// delete the parts first, so nothing is doubled: drop the parts and
		// let the next flush retry.
		return fail(err)
	}
	// Only committed parts become visible (and so mergeable): a merged part
	// keeps no FlushSeq, so merging an uncommitted one would double its
	// events on replay.
	s.mu.Lock()
	for i, h := range handles {
		s.partitionFor(dayOfHandle[i]).add(h)
	}
	if i := slices.Index(s.flushing, fh.h); i >= 0 {
		s.flushing = slices.Delete(s.flushing, i, i+1)
	}
	close(s.flushed)
	s.flushed = make(chan struct{})
	s.mu.Unlock()

	segs, err := listSegments(s.path(walDirName))
	if err != nil {
		return fmt.Errorf("list wal: %w", err)
	}
	for _, seq := range segs {
		if seq <= fh.closedSeq {
			if err := os.Remove(s.path(walDirName, segmentName(seq))); err != nil {
				s.log.Warn("cannot delete flushed wal segment", "seq", seq, "err", err)
			}
		}
	}
	kick(s.mergeKick)
	return nil
}

// partitionFor returns the partition of a day, creating it. Callers hold mu.
func (s *Store) partitionFor(day string) *partition {
	p := s.partitions[day]
	if p == nil {
		p = &partition{day: day}
		if t, err := time.Parse(dayLayout, day); err == nil {
			p.start = t.UnixNano()
			p.end = p.start + nsPerDay
		}
		s.partitions[day] = p
	}
	return p
}

func (s *Store) countDropped(reason string, n int) {
	if m := s.opts.Metrics; m != nil {
		m.Dropped("store", reason, n)
	}
}
