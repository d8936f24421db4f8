package store

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/logcaster/logcaster/internal/store/part"
)

// Merge policy. Flushes make one small part per day a second; scans cost a
// little per part and compression is better in big blocks, so parts are
// merged in the background:
//   - when a partition has minMergeParts flushed (generation 0) parts and
//     has had no new part for quietBeforeMerge, or has twice as many, they
//     are merged into one: waiting for a pause keeps a burst of ingest from
//     sharing its two cores with a merge (measured: a merge starting during
//     the 1M-event HTTP benchmark cost it up to a quarter of its rate);
//   - a partition with more than maxPartsPerPartition parts merges its
//     smallest ones;
//   - a partition that has received nothing for idleMergeAfter is merged
//     into a single part, which gives the best compression for days that are
//     complete.
//
// One merge runs at a time: on two cores, a second one would take the CPU
// ingest needs.
const (
	minMergeParts        = 8
	maxPartsPerPartition = 16
	maxMergeInputs       = 32
	idleMergeAfter       = 30 * time.Second
	quietBeforeMerge     = 2 * time.Second
	retentionCheckEvery  = 10 * time.Second
)

func (s *Store) mergeLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.MergeInterval)
	defer t.Stop()
	lastRetention := time.Time{}
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.mergeKick:
		}
		if time.Since(lastRetention) >= retentionCheckEvery {
			s.applyRetention()
			lastRetention = time.Now()
		}
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			if !s.mergeOnce() {
				break
			}
		}
	}
}

// pickMerge chooses the next merge and acquires its inputs; all forces a
// merge of every partition with more than one part into one. final says
// the merge takes every part of its partition.
func (s *Store) pickMerge(all bool) (day string, inputs []*partHandle, final bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for day, p := range s.partitions {
		idle := all || time.Since(p.lastAdded) >= idleMergeAfter
		// A lone flushed part is rewritten too when its day is idle: it is
		// S2-compressed and has no bloom filters (see DefaultOptions).
		lone := len(p.parts) == 1 && p.parts[0].p.Meta().Generation == 0 && idle
		if len(p.parts) < 2 && !lone {
			continue
		}
		inputs = nil
		switch {
		case idle:
			inputs = slices.Clone(p.parts)
		default:
			var fresh []*partHandle
			for _, h := range p.parts {
				if h.p.Meta().Generation == 0 {
					fresh = append(fresh, h)
				}
			}
			quiet := time.Since(p.lastAdded) >= quietBeforeMerge
			if len(fresh) >= 2*minMergeParts || len(fresh) >= minMergeParts && quiet {
				inputs = fresh
			} else if len(p.parts) > maxPartsPerPartition {
				inputs = slices.Clone(p.parts)
				slices.SortFunc(inputs, func(a, b *partHandle) int {
					return int(a.p.Meta().Rows) - int(b.p.Meta().Rows)
				})
				inputs = inputs[:maxPartsPerPartition/2]
			}
		}
		if len(inputs) < 2 && !lone {
			continue
		}
		if len(inputs) > maxMergeInputs {
			inputs = inputs[:maxMergeInputs]
		}
		for _, h := range inputs {
			h.acquire()
		}
		return day, inputs, len(inputs) == len(p.parts)
	}
	return "", nil, false
}

// merge replaces inputs, parts of one partition, with one merged part.
func (s *Store) merge(day string, inputs []*partHandle, final bool) error {
	defer func() {
		for _, h := range inputs {
			h.release()
		}
	}()
	start := time.Now()
	gen := 0
	parts := make([]*part.Part, len(inputs))
	sources := make([]string, len(inputs))
	for i, h := range inputs {
		parts[i] = h.p
		sources[i] = h.name
		gen = max(gen, h.p.Meta().Generation)
	}
	name := s.newPartName(gen + 1)
	dir := s.path(partitionsDirName, day, name)
	wo := s.opts.MergeWrite
	if final && s.opts.FinalZstdLevel > 0 {
		wo.Codec, wo.ZstdLevel = part.CodecZstd, s.opts.FinalZstdLevel
	}
	meta, err := part.Merge(dir, parts, part.Meta{Sources: sources, Generation: gen + 1}, wo)
	if err != nil {
		os.RemoveAll(dir + ".tmp")
		for _, h := range inputs {
			if part.IsCorrupt(err) && h.p.Verify() != nil {
				s.quarantineHandle(h, err)
			}
		}
		return fmt.Errorf("merge %d parts: %w", len(inputs), err)
	}
	p, err := part.Open(dir)
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("open merged part: %w", err)
	}
	merged := newPartHandle(p, name)

	s.mu.Lock()
	pt := s.partitions[day]
	if pt == nil { // dropped by retention meanwhile
		s.mu.Unlock()
		merged.retire()
		return nil
	}
	kept := pt.parts[:0:0]
	replaced := 0
	for _, h := range pt.parts {
		if slices.Contains(inputs, h) {
			replaced++
			continue
		}
		kept = append(kept, h)
	}
	if replaced != len(inputs) { // an input was set aside meanwhile
		s.mu.Unlock()
		merged.retire()
		return fmt.Errorf("merge inputs changed during merge")
	}
	pt.parts = append(kept, merged)
	s.mu.Unlock()
	for _, h := range inputs {
		h.retire()
	}
	if m := s.opts.Metrics; m != nil {
		m.MergeDuration.Observe(time.Since(start).Seconds())
	}
	s.log.Debug("merged parts", "partition", day, "inputs", len(inputs), "rows", meta.Rows, "bytes", meta.DiskBytes, "took", time.Since(start))
	return nil
}

// ForceMerge flushes the head and merges every partition into a single
// part, as an operator does before a backup or to measure disk use.
func (s *Store) ForceMerge() error {
	if err := s.flush(); err != nil {
		return err
	}
	// Holding mergeMu for the whole loop keeps the background merger from
	// picking the same parts (one of the two merges would find its inputs
	// gone) and makes the result one part per day.
	s.mergeMu.Lock()
	defer s.mergeMu.Unlock()
	for {
		day, inputs, final := s.pickMerge(true)
		if inputs == nil {
			return nil
		}
		if err := s.merge(day, inputs, final); err != nil {
			return err
		}
	}
}

// mergeOnce runs the next background merge, if any, and reports whether
// it did one successfully.
func (s *Store) mergeOnce() bool {
	s.mergeMu.Lock()
	defer s.mergeMu.Unlock()
	day, inputs, final := s.pickMerge(false)
	if inputs == nil {
		return false
	}
	if err := s.merge(day, inputs, final); err != nil {
		s.log.Error("merge failed", "partition", day, "err", err)
		return false
	}
	return true
}

// retentionCutoff is the time before which whole days are dropped.
func (s *Store) retentionCutoff() int64 {
	return s.opts.Now().Add(-s.opts.Retention).UnixNano()
}

// applyRetention drops every partition whose day ended before the cutoff,
// then, while the parts take more than MaxDiskBytes, the oldest days (never
// the newest one: it is where ingest writes).
func (s *Store) applyRetention() {
	cutoff := s.retentionCutoff()
	s.mu.Lock()
	var dropped []*partition
	for day, p := range s.partitions {
		if p.end <= cutoff {
			dropped = append(dropped, p)
			delete(s.partitions, day)
		}
	}
	if max := s.opts.MaxDiskBytes; max > 0 {
		days := make([]string, 0, len(s.partitions))
		total := int64(0)
		for day, p := range s.partitions {
			days = append(days, day)
			for _, h := range p.parts {
				total += int64(h.p.Meta().DiskBytes)
			}
		}
		slices.Sort(days)
		for i := 0; total > max && i < len(days)-1; i++ {
			p := s.partitions[days[i]]
			for _, h := range p.parts {
				total -= int64(h.p.Meta().DiskBytes)
			}
			dropped = append(dropped, p)
			delete(s.partitions, days[i])
			s.log.Warn("disk usage over the limit: dropping the oldest day", "day", days[i], "max_bytes", max)
		}
	}
	s.mu.Unlock()
	for _, p := range dropped {
		for _, h := range p.parts {
			h.retire()
		}
		// Scans holding a part keep reading it: its files stay open after
		// the unlink.
		if err := os.RemoveAll(s.path(partitionsDirName, p.day)); err != nil {
			s.log.Error("cannot delete expired partition", "day", p.day, "err", err)
			continue
		}
		s.log.Info("retention dropped partition", "day", p.day)
	}
}

func dirDay(dir string) string   { return filepath.Base(filepath.Dir(dir)) }
func baseName(dir string) string { return filepath.Base(dir) }
