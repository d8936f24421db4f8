package issues

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// The issue state on disk is two files in Options.Dir:
//
//	snapshot.json   the whole state at the last compaction (written to a
//	                temporary file, fsynced, renamed), with its generation G
//	journal-G.log   every change since, one record each:
//
//	  +-----------+-----------+--------------------+
//	  | len  u32  | crc  u32  | payload (len bytes)|   little endian,
//	  +-----------+-----------+--------------------+   crc = CRC-32C of payload
//
// The payload is a JSON journalRecord or a binary event record (record.go
// draws both). Records are buffered and written in groups, one write and
// one fsync a group (see journal). Replay reads records until the end
// or the first short or damaged one (a write torn by a crash), and cuts
// the file there so new records follow good ones. Compaction writes
// snapshot G+1 before it starts journal-(G+1).log and removes journal-G.log
// only after, so a crash at any step replays each change exactly once.
const (
	snapshotFile = "snapshot.json"
	// maxRecordBytes bounds one record: an event with its frames is a few
	// KiB; a bigger length field is damage, not data.
	maxRecordBytes = 16 << 20
	recordHeader   = 8
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// journal appends records and writes and syncs them in groups: appends
// only encode into a buffer in memory; the first writer that waits for its
// record writes everything buffered with one write and one fsync, and the
// writers that queued meanwhile wait for it (as the WAL's group commit
// does). At 5,000 events/s from 64 senders a group holds tens of records,
// so the journal costs a write and an fsync per group, not per event.
type journal struct {
	f      *os.File
	size   int64 // bytes written and buffered
	noSync bool  // Options.NoSync: write, leave syncing to the system

	mu     sync.Mutex
	cond   *sync.Cond
	pend   []byte // records appended and not yet written
	spare  []byte // the buffer of the last write, reused
	seq    uint64 // records appended
	synced uint64 // records known durable
	busy   bool   // a write and fsync is running
	err    error  // sticky: after a failed write or fsync nothing is durable
}

// openJournal opens (creating) the journal and replays its good records.
func openJournal(dir string, gen uint64, replay func(payload []byte) error) (*journal, error) {
	path := journalPath(dir, gen)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open issue journal: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read issue journal: %w", err)
	}
	good := 0
	for len(data)-good >= recordHeader {
		n := int(binary.LittleEndian.Uint32(data[good:]))
		sum := binary.LittleEndian.Uint32(data[good+4:])
		if n > maxRecordBytes || len(data)-good-recordHeader < n {
			break
		}
		payload := data[good+recordHeader : good+recordHeader+n]
		if crc32.Checksum(payload, crcTable) != sum {
			break
		}
		if err := replay(payload); err != nil {
			f.Close()
			return nil, fmt.Errorf("replay issue journal at byte %d: %w", good, err)
		}
		good += recordHeader + n
	}
	if good != len(data) {
		if err := f.Truncate(int64(good)); err != nil {
			f.Close()
			return nil, fmt.Errorf("cut torn issue journal: %w", err)
		}
	}
	if _, err := f.Seek(int64(good), io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	j := &journal{f: f, size: int64(good)}
	j.cond = sync.NewCond(&j.mu)
	return j, nil
}

// appendRecord buffers one record, whose payload enc appends to the slice
// it is given, and returns its sequence number for wait. The caller
// serialises appends (the tracker's lock), so records keep the order of
// the state changes they describe. The error is the journal's sticky one.
func (j *journal) appendRecord(enc func(dst []byte) []byte) (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return 0, j.err
	}
	start := len(j.pend)
	j.pend = append(j.pend, make([]byte, recordHeader)...)
	j.pend = enc(j.pend)
	payload := j.pend[start+recordHeader:]
	if len(payload) > maxRecordBytes {
		j.pend = j.pend[:start]
		return 0, fmt.Errorf("issue record of %d bytes is over the %d limit", len(payload), maxRecordBytes)
	}
	binary.LittleEndian.PutUint32(j.pend[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(j.pend[start+4:], crc32.Checksum(payload, crcTable))
	j.size += int64(len(j.pend) - start)
	j.seq++
	return j.seq, nil
}

// append buffers one record with a ready payload.
func (j *journal) append(payload []byte) (uint64, error) {
	return j.appendRecord(func(dst []byte) []byte { return append(dst, payload...) })
}

// wait returns when record seq is durable: one caller writes and syncs
// everything buffered so far, the others wait for it.
func (j *journal) wait(seq uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.synced < seq && j.err == nil {
		if j.busy {
			j.cond.Wait()
			continue
		}
		j.busy = true
		target, buf := j.seq, j.pend
		j.pend = j.spare[:0]
		j.mu.Unlock()
		_, err := j.f.Write(buf)
		if err == nil && !j.noSync {
			err = j.f.Sync()
		}
		j.mu.Lock()
		j.busy = false
		j.spare = buf[:0]
		if err != nil {
			j.err = fmt.Errorf("write issue journal: %w", err)
		} else if target > j.synced {
			j.synced = target
		}
		j.cond.Broadcast()
	}
	return j.err
}

// flush makes every appended record durable.
func (j *journal) flush() error {
	j.mu.Lock()
	last := j.seq
	j.mu.Unlock()
	return j.wait(last)
}

func journalPath(dir string, gen uint64) string {
	return filepath.Join(dir, fmt.Sprintf("journal-%d.log", gen))
}

func (j *journal) close() error {
	err := j.flush()
	if err == nil && j.noSync {
		err = j.f.Sync()
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}

var errNoSnapshot = errors.New("no snapshot")

func readSnapshot(dir string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, snapshotFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNoSnapshot
	}
	return data, err
}
