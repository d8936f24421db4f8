package store

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/logcaster/logcaster/internal/store/part"
)

// partition is one UTC day: the parts holding its events.
type partition struct {
	day        string
	start, end int64 // the day's bounds, unix ns, end exclusive
	parts      []*partHandle
	lastAdded  time.Time // when a part last arrived, for the idle merge
}

func (p *partition) add(h *partHandle) {
	p.parts = append(p.parts, h)
	p.lastAdded = time.Now()
}

// partHandle reference-counts an open part, so that a merge or retention
// can replace it while scans still read it: the files are closed (and, when
// obsolete, deleted) when the last reference goes.
type partHandle struct {
	p        *part.Part
	name     string
	refs     atomic.Int32
	obsolete atomic.Bool
}

func newPartHandle(p *part.Part, name string) *partHandle {
	h := &partHandle{p: p, name: name}
	h.refs.Store(1) // the partition's reference
	return h
}

func (h *partHandle) acquire() { h.refs.Add(1) }

func (h *partHandle) release() {
	if h.refs.Add(-1) != 0 {
		return
	}
	dir := h.p.Dir()
	h.p.Close()
	if h.obsolete.Load() {
		os.RemoveAll(dir)
	}
}

// retire marks h for deletion and drops the partition's reference.
func (h *partHandle) retire() {
	h.obsolete.Store(true)
	h.release()
}

// newPartName names a new part; names sort by creation within a store.
func (s *Store) newPartName(generation int) string {
	s.mu.Lock()
	s.partSerial++
	n := s.partSerial
	s.mu.Unlock()
	return fmt.Sprintf("%016x-g%d", n, generation)
}

// quarantine moves a damaged part's directory aside so it is never served
// and a person can look at it.
func (s *Store) quarantine(dir string, cause error) {
	dst := s.path(quarantineDirName, fmt.Sprintf("%s-%s", dirDay(dir), baseName(dir)))
	s.log.Error("damaged part set aside", "part", dir, "moved_to", dst, "err", cause)
	if m := s.opts.Metrics; m != nil {
		m.CorruptParts.Inc()
	}
	if err := os.Rename(dir, dst); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Error("cannot move damaged part aside; leaving it in place, unserved", "part", dir, "err", err)
	}
}

// quarantineHandle removes a part found damaged during a scan from its
// partition and moves it aside.
func (s *Store) quarantineHandle(h *partHandle, cause error) {
	s.mu.Lock()
	found := false
	for _, p := range s.partitions {
		for i, ph := range p.parts {
			if ph == h {
				p.parts = append(p.parts[:i:i], p.parts[i+1:]...)
				found = true
				break
			}
		}
	}
	s.mu.Unlock()
	if !found {
		return
	}
	// Move it while still open: the rename is atomic and the open files stay
	// readable to scans that hold it; release then closes it in quarantine.
	s.quarantine(h.p.Dir(), cause)
	h.release()
}
