package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/fsutil"
)

// testEvents makes n events of a few streams, spread over two UTC days,
// each with a unique message "event <i>".
func testEvents(n int, base time.Time) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{
			Time:    base.Add(time.Duration(i) * time.Minute).UnixNano(),
			Index:   "app",
			Level:   []string{"INFO", "WARN", "ERROR"}[i%3],
			Message: fmt.Sprintf("event %d from worker", i),
			TraceID: fmt.Sprintf("trace%04d", i/4),
			Fields:  []event.Field{{Name: "service", Value: fmt.Sprintf("svc%d", i%3)}, {Name: "host", Value: "h1"}},
		}
	}
	return evs
}

func batchOf(evs []event.Event, src event.Source) *event.Batch {
	return &event.Batch{Events: append([]event.Event(nil), evs...), Source: src}
}

func testOptions(dir string) Options {
	o := DefaultOptions()
	o.Dir = dir
	o.FlushInterval = time.Hour // tests flush explicitly
	o.MergeInterval = time.Hour
	return o
}

// scanAll returns every message in the store over the whole time range,
// sorted, and checks each block's Timestamps against TimeRange.
func scanAll(t *testing.T, s *Store) []string {
	t.Helper()
	var mu sync.Mutex
	var msgs []string
	err := s.Scan(context.Background(), AllTime(), func(b Block) error {
		ts, err := b.Timestamps()
		if err != nil {
			return err
		}
		lo, hi := b.TimeRange()
		for i, v := range ts {
			if v < lo || v > hi || (i > 0 && ts[i-1] > v) {
				return fmt.Errorf("timestamp %d out of block range [%d,%d] or order", v, lo, hi)
			}
		}
		col, err := b.Column(event.FieldMessage)
		if err != nil {
			return err
		}
		mu.Lock()
		for _, m := range col {
			msgs = append(msgs, strings.Clone(m)) // block strings die with the callback
		}
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	sort.Strings(msgs)
	return msgs
}

func wantMessages(evs []event.Event) []string {
	var want []string
	for _, e := range evs {
		want = append(want, e.Message)
	}
	sort.Strings(want)
	return want
}

func equalStrings(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("value %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestWriteScanFlushRestart(t *testing.T) {
	dir := t.TempDir()
	base := time.Now().UTC().Add(-30 * time.Hour)
	evs := testEvents(3000, base) // 50 hours: spans three days
	s, err := Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(evs); i += 500 {
		if err := s.Write([]*event.Batch{batchOf(evs[i:i+500], event.Source{})}); err != nil {
			t.Fatal(err)
		}
	}
	// Visible from the head at once.
	equalStrings(t, scanAll(t, s), wantMessages(evs))
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.HeadEvents != 0 || st.Rows != 3000 || st.Partitions < 3 {
		t.Fatalf("after flush: %+v", st)
	}
	equalStrings(t, scanAll(t, s), wantMessages(evs))
	checkRangeCount(t, s, evs, base.Add(10*time.Hour).UnixNano(), base.Add(20*time.Hour).UnixNano())
	if err := s.ForceMerge(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Parts != st.Partitions {
		t.Fatalf("after force merge want one part per partition: %+v", st)
	}
	s.mu.RLock()
	for day, p := range s.partitions {
		if g := p.parts[0].p.Meta().Generation; g == 0 {
			t.Errorf("partition %s still holds a flushed part (no blooms) after force merge", day)
		}
	}
	s.mu.RUnlock()
	equalStrings(t, scanAll(t, s), wantMessages(evs))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	equalStrings(t, scanAll(t, s), wantMessages(evs))
}

// crash stops a store as kill -9 would leave it: nothing flushed, files as
// they are. Only the lock and open files are released so the test process
// can open the directory again.
func crash(s *Store) {
	close(s.stop)
	s.wg.Wait()
	s.writeMu.Lock()
	s.closed = true
	s.wal.f.Close()
	s.writeMu.Unlock()
	s.lock.Close()
}

func TestCrashRecoveryReplaysWALOnce(t *testing.T) {
	dir := t.TempDir()
	evs := testEvents(2000, time.Now().UTC().Add(-10*time.Hour))
	s, err := Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	// Half flushed into parts, half only in the WAL.
	if err := s.Write([]*event.Batch{batchOf(evs[:1000], event.Source{})}); err != nil {
		t.Fatal(err)
	}
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]*event.Batch{batchOf(evs[1000:], event.Source{})}); err != nil {
		t.Fatal(err)
	}
	crash(s)
	s, err = Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	equalStrings(t, scanAll(t, s), wantMessages(evs))
	// And again after a flush of the replayed head and another crash.
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	crash(s)
	s, err = Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	equalStrings(t, scanAll(t, s), wantMessages(evs))
}

func TestUncommittedFlushIsUndone(t *testing.T) {
	dir := t.TempDir()
	evs := testEvents(500, time.Now().UTC().Add(-2*time.Hour))
	s, err := Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]*event.Batch{batchOf(evs, event.Source{})}); err != nil {
		t.Fatal(err)
	}
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	crash(s)
	// Pretend the crash came between writing the parts and the checkpoint:
	// put the checkpoint back to before the flush, and the segment back.
	cp, _ := os.ReadFile(filepath.Join(dir, walDirName, checkpointName))
	c, err := decodeCheckpoint(cp)
	if err != nil {
		t.Fatal(err)
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, walDirName, checkpointName), encodeCheckpoint(checkpoint{flushedSeq: c.flushedSeq - 1, marks: c.marks})); err != nil {
		t.Fatal(err)
	}
	w := walWriter{dir: filepath.Join(dir, walDirName)}
	if err := w.openSegment(c.flushedSeq); err != nil {
		t.Fatal(err)
	}
	w.appendBatch(batchOf(evs, event.Source{}))
	if err := w.commit(true); err != nil {
		t.Fatal(err)
	}
	w.close()
	s, err = Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	equalStrings(t, scanAll(t, s), wantMessages(evs))
}

func TestDedupAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	evs := testEvents(30, time.Now().UTC().Add(-time.Hour))
	s, err := Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	src := func(seq uint64) event.Source { return event.Source{ClientID: "c1", Seq: seq} }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Write([]*event.Batch{batchOf(evs[0:10], src(1)), batchOf(evs[10:20], src(2))}))
	must(s.Write([]*event.Batch{batchOf(evs[10:20], src(2))})) // resent
	must(s.flush())
	must(s.Write([]*event.Batch{batchOf(evs[0:10], src(1))})) // resent after flush
	crash(s)
	s, err = Open(testOptions(dir))
	must(err)
	must(s.Write([]*event.Batch{batchOf(evs[10:20], src(2)), batchOf(evs[20:30], src(3))}))
	defer s.Close()
	equalStrings(t, scanAll(t, s), wantMessages(evs))
}

func TestTornWALTailIsCut(t *testing.T) {
	dir := t.TempDir()
	evs := testEvents(100, time.Now().UTC().Add(-time.Hour))
	s, err := Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]*event.Batch{batchOf(evs, event.Source{})}); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(dir, walDirName, segmentName(s.wal.seq))
	crash(s)
	f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{200, 1, 0, 0, 9, 9}) // half a record header
	f.Close()
	s, err = Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	equalStrings(t, scanAll(t, s), wantMessages(evs))
}

func TestRetentionDropsOldDays(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	old := testEvents(100, now.Add(-5*24*time.Hour)) // 100 minutes, 5 days ago
	recent := testEvents(100, now.Add(-3*time.Hour))
	for i := range recent {
		recent[i].Message = "recent " + recent[i].Message
	}
	o := testOptions(dir)
	o.Retention = 3 * 24 * time.Hour
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Written while the clock says they are within retention...
	s.opts.Now = func() time.Time { return now.Add(-4 * 24 * time.Hour) }
	if err := s.Write([]*event.Batch{batchOf(old, event.Source{}), batchOf(recent, event.Source{})}); err != nil {
		t.Fatal(err)
	}
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	equalStrings(t, scanAll(t, s), wantMessages(append(old, recent...)))
	// ... and dropped, whole days, once it moves on.
	s.opts.Now = func() time.Time { return now }
	s.applyRetention()
	equalStrings(t, scanAll(t, s), wantMessages(recent))
	if _, err := os.Stat(filepath.Join(dir, partitionsDirName, dayOf(old[0].Time))); !os.IsNotExist(err) {
		t.Fatalf("old partition still on disk: %v", err)
	}
}

// checkRangeCount scans [lo, hi] and checks that the blocks visited hold
// every event in the range (blocks may hold more, never fewer), counting
// rows by their timestamps.
func checkRangeCount(t *testing.T, s *Store, evs []event.Event, lo, hi int64) {
	t.Helper()
	want := 0
	for _, e := range evs {
		if e.Time >= lo && e.Time <= hi {
			want++
		}
	}
	var mu sync.Mutex
	got := 0
	opts := ScanOptions{MinTime: lo, MaxTime: hi}
	err := s.Scan(context.Background(), opts, func(b Block) error {
		ts, err := b.Timestamps()
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, v := range ts {
			if v >= lo && v <= hi {
				got++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != want || want == 0 {
		t.Fatalf("range scan found %d rows, want %d (>0)", got, want)
	}
}

// damageParts flips a byte in the middle of every file of every part.
func damageParts(t *testing.T, dir string, file string) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, partitionsDirName, "*", "*", file))
	if len(paths) == 0 {
		t.Fatalf("no %s files to damage", file)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x5a
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDamagedPartIsSetAside(t *testing.T) {
	for _, file := range []string{"index.bin", "data.bin"} {
		t.Run(file, func(t *testing.T) {
			dir := t.TempDir()
			now := time.Now().UTC()
			damaged := testEvents(300, now.Add(-6*24*time.Hour)) // its own day
			healthy := testEvents(300, now.Add(-2*time.Hour))
			s, err := Open(testOptions(dir))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Write([]*event.Batch{batchOf(damaged, event.Source{})}); err != nil {
				t.Fatal(err)
			}
			if err := s.flush(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			damageParts(t, dir, file)
			s, err = Open(testOptions(dir))
			if err != nil {
				t.Fatalf("open with a damaged part must not fail: %v", err)
			}
			defer s.Close()
			if err := s.Write([]*event.Batch{batchOf(healthy, event.Source{})}); err != nil {
				t.Fatal(err)
			}
			// Damaged bytes are never served: a part with a bad index is set
			// aside at open; one with a bad column at the first read of that
			// column, which may still return the part's other, verified
			// blocks. From then on only the healthy data is there.
			valid := map[string]bool{}
			for _, m := range wantMessages(append(append([]event.Event(nil), damaged...), healthy...)) {
				valid[m] = true
			}
			for _, m := range scanAll(t, s) {
				if !valid[m] {
					t.Fatalf("served a value no event had: %q", m)
				}
			}
			equalStrings(t, scanAll(t, s), wantMessages(healthy))
			moved, _ := filepath.Glob(filepath.Join(dir, quarantineDirName, "*"))
			if len(moved) == 0 {
				t.Fatal("damaged part not moved to quarantine")
			}
		})
	}
}

func TestSnapshotIsAConsistentDataDir(t *testing.T) {
	dir := t.TempDir()
	evs := testEvents(400, time.Now().UTC().Add(-3*time.Hour))
	s, err := Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]*event.Batch{batchOf(evs[:300], event.Source{})}); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Later writes and a merge do not touch the snapshot.
	if err := s.Write([]*event.Batch{batchOf(evs[300:], event.Source{})}); err != nil {
		t.Fatal(err)
	}
	if err := s.ForceMerge(); err != nil {
		t.Fatal(err)
	}
	equalStrings(t, scanAll(t, s), wantMessages(evs))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(testOptions(snap))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	equalStrings(t, scanAll(t, r), wantMessages(evs[:300]))
}

func TestMaxDiskUsageDropsOldestDays(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	s, err := Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var days [][]event.Event
	for d := 3; d >= 0; d-- { // four days, oldest first, 60 events each
		evs := testEvents(60, now.Add(-time.Duration(d)*24*time.Hour).Truncate(24*time.Hour).Add(time.Hour))
		for i := range evs {
			evs[i].Message = fmt.Sprintf("day%d %s", d, evs[i].Message)
		}
		days = append(days, evs)
		if err := s.Write([]*event.Batch{batchOf(evs, event.Source{})}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	perDay := int64(s.Stats().DiskBytes) / 4
	s.opts.MaxDiskBytes = 2*perDay + perDay/2 // room for two days and a half
	s.applyRetention()
	equalStrings(t, scanAll(t, s), wantMessages(append(append([]event.Event(nil), days[2]...), days[3]...)))
	// Even a limit below one day keeps the newest day: ingest writes there.
	s.opts.MaxDiskBytes = 1
	s.applyRetention()
	equalStrings(t, scanAll(t, s), wantMessages(days[3]))
}

func TestEventsPastRetentionAreNeverVisible(t *testing.T) {
	s, err := Open(testOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	old := testEvents(10, now.Add(-40*24*time.Hour)) // retention is 30d
	recent := testEvents(10, now.Add(-time.Hour))
	for i := range recent {
		recent[i].Message = "recent " + recent[i].Message
	}
	mixed := append(append([]event.Event(nil), old...), recent...)
	if err := s.Write([]*event.Batch{batchOf(mixed, event.Source{})}); err != nil {
		t.Fatal(err)
	}
	equalStrings(t, scanAll(t, s), wantMessages(recent)) // not even in the head
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	equalStrings(t, scanAll(t, s), wantMessages(recent))
}

// TestForceMergeDuringBackgroundMerges runs ForceMerge while the background
// merger is busy with the same partition: neither may fail, and the result
// is one part per day with every event once.
func TestForceMergeDuringBackgroundMerges(t *testing.T) {
	o := testOptions(t.TempDir())
	o.MergeInterval = time.Millisecond
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := testEvents(4000, time.Now().UTC().Add(-3*time.Hour).Truncate(time.Hour))
	for i := 0; i < len(evs); i += 200 { // 20 flushed parts
		if err := s.Write([]*event.Batch{batchOf(evs[i:i+200], event.Source{})}); err != nil {
			t.Fatal(err)
		}
		if err := s.flush(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		if err := s.ForceMerge(); err != nil {
			t.Fatalf("force merge %d: %v", i, err)
		}
	}
	if st := s.Stats(); st.Parts != st.Partitions {
		t.Fatalf("after force merge: %+v", st)
	}
	equalStrings(t, scanAll(t, s), wantMessages(evs))
}
