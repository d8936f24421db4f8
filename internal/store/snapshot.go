package store

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/logcaster/logcaster/internal/fsutil"
)

// snapshotsDirName holds snapshots, inside the data directory so that hard
// links work (one filesystem).
const snapshotsDirName = "snapshots"

// Snapshot makes a consistent, instant backup of the store: it flushes the
// head, then hard-links every part's files and copies the checkpoint into
// <dir>/snapshots/<name>. Parts are immutable, so the links cost no copy and
// stay valid while the store merges and drops parts. The snapshot is a data
// directory of its own: start a server on (a copy of) it to restore. Events
// written after the flush are not in it. It returns the snapshot's path.
func (s *Store) Snapshot() (string, error) {
	start := time.Now()
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if err := s.flushLocked(); err != nil {
		return "", fmt.Errorf("snapshot: flush: %w", err)
	}
	name := s.opts.Now().UTC().Format("20060102T150405.000000000Z")
	dst := s.path(snapshotsDirName, name)
	tmp := dst + ".tmp"
	if err := os.MkdirAll(filepath.Join(tmp, walDirName), 0o755); err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	fail := func(err error) (string, error) {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("snapshot: %w", err)
	}
	// No flush can run (flushMu), so the checkpoint matches the parts.
	cp, err := os.ReadFile(s.path(walDirName, checkpointName))
	if err != nil && !os.IsNotExist(err) {
		return fail(err)
	}
	if err == nil {
		if err := os.WriteFile(filepath.Join(tmp, walDirName, checkpointName), cp, 0o644); err != nil {
			return fail(err)
		}
	}
	s.mu.RLock()
	var handles []*partHandle
	var days []string
	for day, p := range s.partitions {
		for _, h := range p.parts {
			h.acquire()
			handles = append(handles, h)
			days = append(days, day)
		}
	}
	s.mu.RUnlock()
	defer func() {
		for _, h := range handles {
			h.release()
		}
	}()
	for i, h := range handles {
		partDst := filepath.Join(tmp, partitionsDirName, days[i], h.name)
		if err := linkDir(h.p.Dir(), partDst); err != nil {
			return fail(err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fail(err)
	}
	if err := fsutil.SyncDir(filepath.Dir(dst)); err != nil {
		return "", err
	}
	s.log.Info("snapshot made", "path", dst, "parts", len(handles), "took", time.Since(start))
	return dst, nil
}

// linkDir hard-links every file of src into a new directory dst.
func linkDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if err := os.Link(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
