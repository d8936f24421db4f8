// Package store is LogCaster's log store: a write-ahead log, an in-memory
// head, and day partitions of immutable columnar parts (package part),
// merged in the background and dropped whole by retention.
//
// What it promises:
//   - Durability: when Write returns nil, its events survive kill -9 (they
//     are in the WAL, written with one write call a group); with
//     SyncAlways they also survive a machine crash (fsynced before return).
//   - Exactly once: a batch carrying a Source (client id, seq) that was
//     already stored is dropped, across restarts too (the seen sequence
//     numbers are kept in the WAL and in the checkpoint).
//   - Visibility: an event is visible to Scan as soon as Write returns.
//   - Recovery: Open replays the WAL segments not yet covered by parts, and
//     finishes or undoes whatever a crash interrupted (a half-written part,
//     a merge whose inputs were not yet removed).
//   - Damage: a part whose files fail their checksums is moved to
//     <dir>/quarantine, reported in the log and in metrics, and never served;
//     it does not stop the store.
//
// Concurrency: Write is called by one goroutine at a time (the pipeline's
// writer); Scan and the accessors are safe from any goroutine.
package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/store/part"
)

// Names of the folders and files under the data directory; FORMAT.md draws
// each of them.
const (
	walDirName        = "wal"
	partitionsDirName = "partitions"
	quarantineDirName = "quarantine"
	checkpointName    = "checkpoint"
	lockName          = "LOCK"
	dayLayout         = "2006-01-02"
)

// SyncPolicy says when the WAL is fsynced.
type SyncPolicy string

const (
	// SyncAlways fsyncs every group commit before acknowledging it.
	SyncAlways SyncPolicy = "always"
	// SyncInterval fsyncs every SyncInterval; acknowledged data survives
	// kill -9 at once and a power loss after at most the interval.
	SyncInterval SyncPolicy = "interval"
	// SyncNone leaves fsync to the operating system.
	SyncNone SyncPolicy = "none"
)

// Options configure a Store.
type Options struct {
	Dir           string
	Sync          SyncPolicy
	SyncInterval  time.Duration // for SyncInterval
	FlushInterval time.Duration // how often the head is written out as parts
	// MaxHeadEvents flushes early when the head holds this many events;
	// writes wait while the heads in memory (the current one and those
	// being written) hold more than maxHeadsInMemory times it, so memory
	// stays bounded when flushing is slower than ingest.
	MaxHeadEvents int
	Retention     time.Duration // days entirely older than this are dropped
	MaxDiskBytes  int64         // when parts take more, the oldest days are dropped; 0: no limit
	MergeInterval time.Duration // how often the merger looks for work
	FlushWrite    part.WriteOptions
	MergeWrite    part.WriteOptions
	// FinalZstdLevel is the zstd level of a merge into a single part (an
	// idle day, or ForceMerge), which pays for its CPU with smaller disk.
	FinalZstdLevel int
	Logger         *slog.Logger
	Metrics        *metrics.Metrics // may be nil
	Now            func() time.Time // for tests; time.Now by default
}

// DefaultOptions returns the options logcaster serve uses by default.
func DefaultOptions() Options {
	// Flushes use S2: 0.3-0.6 µs less CPU an event than zstd-1, which ingest
	// needs; flushed parts are bigger (~74 B/event) but live only until
	// merged. Merges use zstd: level 3 for the merges that run under
	// ingest, FinalZstdLevel for the last merge of an idle day (35.8
	// B/event at level 7 on the gencorpus corpus with template columns;
	// before them, 43.0 at level 7 against 45.7 at level 3).
	flush := part.DefaultWriteOptions()
	flush.Codec = part.CodecS2
	flush.NoBlooms = true // see FORMAT.md: flushed parts live until merged
	merge := part.DefaultWriteOptions()
	merge.ZstdLevel = 3
	return Options{
		Dir:           "data",
		Sync:          SyncAlways,
		SyncInterval:  time.Second,
		FlushInterval: time.Second,
		// 256 Ki events is about 0.6 s at full ingest and ~110 MB of memory:
		// the head and the one being flushed are most of the server's heap.
		MaxHeadEvents:  128 << 10,
		Retention:      30 * 24 * time.Hour,
		MergeInterval:  2 * time.Second,
		FlushWrite:     flush,
		MergeWrite:     merge,
		FinalZstdLevel: 7,
	}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch o.Sync {
	case SyncAlways, SyncInterval, SyncNone:
	default:
		return fmt.Errorf("sync policy %q: want always, interval or none", o.Sync)
	}
	if o.Dir == "" {
		return errors.New("data directory is empty")
	}
	if o.FlushInterval <= 0 || o.MergeInterval <= 0 || (o.Sync == SyncInterval && o.SyncInterval <= 0) {
		return errors.New("flush, merge and sync intervals must be positive")
	}
	if o.Retention < 24*time.Hour {
		return fmt.Errorf("retention %s: the store keeps whole days, so at least 24h", o.Retention)
	}
	if o.MaxHeadEvents <= 0 {
		return errors.New("max head events must be positive")
	}
	if err := o.FlushWrite.Validate(); err != nil {
		return fmt.Errorf("flush write options: %w", err)
	}
	return o.MergeWrite.Validate()
}

// Store is an open store.
type Store struct {
	opts Options
	log  *slog.Logger
	lock *os.File

	// writeMu serialises Write with the WAL rotation of a flush, so that a
	// flush takes exactly the events of the segments it closes.
	writeMu sync.Mutex
	wal     walWriter
	dedup   *dedupTable
	// health mirrors, for readers that must not wait behind a group
	// commit's fsync (health checks answer in milliseconds under load):
	// the last WAL write error (nil when the last one succeeded), whether
	// the store is closed, and the current segment.
	health struct {
		walErr atomic.Pointer[error]
		closed atomic.Bool
		walSeq atomic.Uint64
	}

	lastOldWarn time.Time // last warning about events past retention; under writeMu

	// mu guards the head and the partitions.
	mu       sync.RWMutex
	head     *head
	flushing []*head       // heads being written out, still visible to Scan
	flushed  chan struct{} // closed (and replaced) when a head leaves flushing

	pendingFlush []flushingHead // guarded by flushMu
	partitions   map[string]*partition

	flushMu    sync.Mutex // one flush at a time
	mergeMu    sync.Mutex // one merge at a time: background or ForceMerge
	flushKick  chan struct{}
	mergeKick  chan struct{}
	stop       chan struct{}
	wg         sync.WaitGroup
	closed     bool
	partSerial uint64 // names new parts; guarded by mu

}

// Open opens (creating if needed) the store in opts.Dir and recovers it.
func Open(opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{
		opts:       opts,
		log:        opts.Logger,
		head:       newHead(),
		partitions: map[string]*partition{},
		flushKick:  make(chan struct{}, 1),
		flushed:    make(chan struct{}),
		mergeKick:  make(chan struct{}, 1),
		stop:       make(chan struct{}),
		partSerial: uint64(opts.Now().UnixNano()),
	}
	for _, d := range []string{opts.Dir, s.path(walDirName), s.path(partitionsDirName), s.path(quarantineDirName)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	lock, err := lockDir(s.path(lockName))
	if err != nil {
		return nil, err
	}
	s.lock = lock
	if err := s.recover(); err != nil {
		lock.Close()
		return nil, err
	}
	s.health.walSeq.Store(s.wal.seq)
	s.wg.Add(2)
	go s.flushLoop()
	go s.mergeLoop()
	if opts.Sync == SyncInterval {
		s.wg.Add(1)
		go s.syncLoop()
	}
	return s, nil
}

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.opts.Dir}, elem...)...)
}

// lockDir takes an exclusive lock so that two servers never share a data
// directory; the kernel releases it when the process dies, kill -9 included.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory %s is in use by another process: %w", filepath.Dir(path), err)
	}
	return f, nil
}

// Write stores a group of batches durably (see the package promises) and
// makes them visible. It implements pipeline.Writer.
func (s *Store) Write(batches []*event.Batch) error {
	s.waitForFlush()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.closed {
		return errors.New("store is closed")
	}
	kept := make([]*event.Batch, 0, len(batches))
	pending := s.dedup.begin()
	cutoff := s.retentionCutoff()
	for _, b := range batches {
		if !pending.admit(b.Source) {
			continue
		}
		s.dropExpired(b, cutoff)
		if len(b.Events) == 0 {
			continue
		}
		s.wal.appendBatch(b)
		kept = append(kept, b)
	}
	if len(kept) == 0 {
		return nil
	}
	start := time.Now()
	err := s.wal.commit(s.opts.Sync == SyncAlways)
	if m := s.opts.Metrics; m != nil {
		m.WALSyncDuration.Observe(time.Since(start).Seconds())
	}
	if err != nil {
		s.health.walErr.Store(&err)
	} else {
		s.health.walErr.Store(nil)
	}
	s.health.walSeq.Store(s.wal.seq)
	if err != nil {
		return err
	}
	pending.commit()
	s.mu.Lock()
	for _, b := range kept {
		s.head.add(b)
	}
	full := s.head.events >= s.opts.MaxHeadEvents
	s.mu.Unlock()
	if full {
		kick(s.flushKick)
	}
	if s.wal.size > walSegmentTarget {
		kick(s.flushKick)
	}
	return nil
}

// maxHeadsInMemory bounds the events held in memory (see MaxHeadEvents),
// and maxFlushWait how long one Write waits for flushing to catch up: a
// flush that keeps failing (disk full) must not stop writes, which then
// fail on their own.
const (
	maxHeadsInMemory = 3
	maxFlushWait     = 10 * time.Second
)

// waitForFlush waits while the heads in memory hold too many events. Write
// is called by the pipeline's one writer, so waiting here fills the ingest
// queue, which pushes back on senders.
func (s *Store) waitForFlush() {
	deadline := time.Now().Add(maxFlushWait)
	for {
		s.mu.RLock()
		n := s.head.events
		for _, h := range s.flushing {
			n += h.events
		}
		flushed := s.flushed
		s.mu.RUnlock()
		if n <= maxHeadsInMemory*s.opts.MaxHeadEvents {
			return
		}
		kick(s.flushKick)
		wait := time.Until(deadline)
		if wait <= 0 {
			return
		}
		select {
		case <-flushed:
		case <-s.stop:
			return
		case <-time.After(wait):
			return
		}
	}
}

// dropExpired removes the events of b whose whole day is already past
// retention: they would be dropped at the next retention pass anyway, and
// storing them would make them visible for a moment and then gone. They
// are counted and reported (at most once a minute) instead.
func (s *Store) dropExpired(b *event.Batch, cutoff int64) {
	n := 0
	for i := range b.Events {
		if _, end := dayBounds(b.Events[i].Time); end > cutoff {
			b.Events[n] = b.Events[i]
			n++
		}
	}
	if dropped := len(b.Events) - n; dropped > 0 {
		b.Events = b.Events[:n]
		s.countDropped("too_old", dropped)
		if now := time.Now(); now.Sub(s.lastOldWarn) > time.Minute {
			s.lastOldWarn = now
			s.log.Warn("events older than the retention were dropped", "events", dropped, "retention", s.opts.Retention)
		}
	}
}

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (s *Store) syncLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.writeMu.Lock()
			start := time.Now()
			if err := s.wal.sync(); err != nil {
				s.log.Error("wal sync failed", "err", err)
			}
			if m := s.opts.Metrics; m != nil {
				m.WALSyncDuration.Observe(time.Since(start).Seconds())
			}
			s.writeMu.Unlock()
		}
	}
}

// Close flushes the head into parts, stops the background work and releases
// the directory. Write must not be called during or after Close.
func (s *Store) Close() error {
	s.writeMu.Lock()
	if s.closed {
		s.writeMu.Unlock()
		return nil
	}
	s.writeMu.Unlock()
	close(s.stop)
	s.wg.Wait()
	err := s.flush()
	s.writeMu.Lock()
	s.closed = true
	s.health.closed.Store(true)
	if cerr := s.wal.close(); err == nil {
		err = cerr
	}
	s.writeMu.Unlock()
	s.mu.Lock()
	for _, p := range s.partitions {
		for _, h := range p.parts {
			h.release()
		}
	}
	s.partitions = map[string]*partition{}
	s.mu.Unlock()
	s.lock.Close()
	return err
}

// Health reports whether the store can take writes: nil, or the last error
// writing the WAL.
func (s *Store) Health() error {
	if s.health.closed.Load() {
		return errors.New("store is closed")
	}
	if p := s.health.walErr.Load(); p != nil {
		return *p
	}
	return nil
}

func dayOf(t int64) string { return time.Unix(0, t).UTC().Format(dayLayout) }

// Stats describe the store for health checks, metrics and the status page.
type Stats struct {
	Partitions   int
	Parts        int
	Rows         uint64 // in parts
	DiskBytes    uint64 // of parts
	HeadEvents   int    // not yet in parts
	WALSegment   uint64
	OldestDay    string
	NewestDay    string
	PendingHeads int
}

// Stats returns the store's current figures.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	st := Stats{Partitions: len(s.partitions), HeadEvents: s.head.events, PendingHeads: len(s.flushing)}
	for _, h := range s.flushing {
		st.HeadEvents += h.events
	}
	for day, p := range s.partitions {
		st.Parts += len(p.parts)
		for _, h := range p.parts {
			m := h.p.Meta()
			st.Rows += m.Rows
			st.DiskBytes += m.DiskBytes
		}
		if st.OldestDay == "" || day < st.OldestDay {
			st.OldestDay = day
		}
		if day > st.NewestDay {
			st.NewestDay = day
		}
	}
	s.mu.RUnlock()
	st.WALSegment = s.health.walSeq.Load()
	return st
}
