package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/store/part"
)

// recover brings the directory back to a consistent state after whatever
// stopped the last process (a clean stop, or kill -9 at any instruction):
//
//  1. read the checkpoint: WAL segments up to it are covered by parts;
//  2. open every part: delete unfinished ones (".tmp"), flushed parts newer
//     than the checkpoint (their events are replayed from the WAL), and the
//     inputs of a merge whose output exists; set damaged ones aside;
//  3. replay the remaining WAL segments into the head, keeping dedup marks;
//  4. start a fresh segment for new writes.
func (s *Store) recover() error {
	cp := checkpoint{marks: map[string]uint64{}}
	cpPath := s.path(walDirName, checkpointName)
	if b, err := os.ReadFile(cpPath); err == nil {
		if cp, err = decodeCheckpoint(b); err != nil {
			// Without the checkpoint it is unknown which segments parts
			// cover; replaying them all could double events. Refuse to guess.
			return fmt.Errorf("%s: %w; move it away to start over from the WAL alone", cpPath, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	os.Remove(cpPath + ".tmp")
	s.dedup = newDedupTable()
	for k, v := range cp.marks {
		s.dedup.set(k, v)
	}

	if err := s.openPartitions(cp.flushedSeq); err != nil {
		return err
	}

	segs, err := listSegments(s.path(walDirName))
	if err != nil {
		return fmt.Errorf("list wal: %w", err)
	}
	lastSeq := cp.flushedSeq
	replayed := 0
	for i, seq := range segs {
		path := s.path(walDirName, segmentName(seq))
		if seq <= cp.flushedSeq {
			os.Remove(path) // covered by parts; a crash interrupted its deletion
			continue
		}
		lastSeq = seq
		valid, err := replaySegment(path, func(b *event.Batch) error {
			tx := s.dedup.begin()
			if tx.admit(b.Source) {
				tx.commit()
				s.head.add(b)
				replayed += len(b.Events)
			}
			return nil
		})
		if err != nil {
			if !errors.Is(err, errWALCorrupt) {
				return fmt.Errorf("replay wal segment %d: %w", seq, err)
			}
			if i == len(segs)-1 {
				// A torn tail: the record was being written when the process
				// died, so it was never acknowledged. Cut it off.
				s.log.Warn("wal ends in a torn record; truncating it", "segment", seq, "at", valid, "err", err)
			} else {
				s.log.Error("wal segment damaged; events after the damage are lost", "segment", seq, "at", valid, "err", err)
				s.countDropped("wal_corrupt", 1)
			}
			if terr := os.Truncate(path, valid); terr != nil {
				return fmt.Errorf("truncate wal segment %d: %w", seq, terr)
			}
		}
	}
	s.wal = walWriter{dir: s.path(walDirName)}
	if err := s.wal.openSegment(lastSeq + 1); err != nil {
		return err
	}
	if replayed > 0 {
		s.log.Info("replayed wal", "events", replayed, "segments", len(segs))
	}
	return nil
}

// openPartitions opens every part of every partition (see recover).
func (s *Store) openPartitions(flushedSeq uint64) error {
	root := s.path(partitionsDirName)
	days, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("list partitions: %w", err)
	}
	for _, d := range days {
		if !d.IsDir() {
			continue
		}
		day := d.Name()
		dayDir := filepath.Join(root, day)
		entries, err := os.ReadDir(dayDir)
		if err != nil {
			return fmt.Errorf("list partition %s: %w", day, err)
		}
		var opened []*part.Part
		for _, e := range entries {
			dir := filepath.Join(dayDir, e.Name())
			if strings.HasSuffix(e.Name(), ".tmp") {
				os.RemoveAll(dir) // a write that did not finish
				continue
			}
			if !e.IsDir() {
				continue
			}
			p, err := part.Open(dir)
			if err != nil {
				s.quarantine(dir, err)
				continue
			}
			m := p.Meta()
			if m.Generation == 0 && m.FlushSeq > flushedSeq {
				p.Close()
				os.RemoveAll(dir) // its flush did not commit; the WAL has its events
				continue
			}
			opened = append(opened, p)
		}
		// A merge that finished writing but not deleting its inputs: the
		// output wins.
		replaced := map[string]bool{}
		for _, p := range opened {
			for _, src := range p.Meta().Sources {
				replaced[src] = true
			}
		}
		pt := s.partitionFor(day)
		for _, p := range opened {
			name := filepath.Base(p.Dir())
			if replaced[name] {
				p.Close()
				os.RemoveAll(p.Dir())
				continue
			}
			pt.add(newPartHandle(p, name))
		}
		if len(pt.parts) == 0 {
			delete(s.partitions, day)
		}
		slices.SortFunc(pt.parts, func(a, b *partHandle) int { return strings.Compare(a.name, b.name) })
	}
	return nil
}
