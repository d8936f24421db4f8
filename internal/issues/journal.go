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
// The payload is a JSON journalRecord. Replay reads records until the end
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

// journal appends records and syncs them in groups: many writers wait on
// one fsync, as the WAL's group commit does.
type journal struct {
	f      *os.File
	size   int64
	buf    []byte
	mu     sync.Mutex
	cond   *sync.Cond
	seq    uint64 // records written
	synced uint64 // records known durable
	busy   bool   // an fsync is running
	err    error
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

// append writes one record and returns its sequence number for wait. The
// caller serialises appends (the tracker's lock), so records keep the
// order of the state changes they describe.
func (j *journal) append(payload []byte) (uint64, error) {
	j.buf = binary.LittleEndian.AppendUint32(j.buf[:0], uint32(len(payload)))
	j.buf = binary.LittleEndian.AppendUint32(j.buf, crc32.Checksum(payload, crcTable))
	j.buf = append(j.buf, payload...)
	if _, err := j.f.Write(j.buf); err != nil {
		return 0, fmt.Errorf("append issue journal: %w", err)
	}
	j.size += int64(len(j.buf))
	j.mu.Lock()
	j.seq++
	seq := j.seq
	j.mu.Unlock()
	return seq, nil
}

// wait returns when record seq is durable: one caller runs the fsync for
// everyone written so far, the others wait for it.
func (j *journal) wait(seq uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.synced < seq && j.err == nil {
		if j.busy {
			j.cond.Wait()
			continue
		}
		j.busy = true
		target := j.seq
		j.mu.Unlock()
		err := j.f.Sync()
		j.mu.Lock()
		j.busy = false
		if err != nil {
			j.err = fmt.Errorf("sync issue journal: %w", err)
		} else if target > j.synced {
			j.synced = target
		}
		j.cond.Broadcast()
	}
	return j.err
}

func journalPath(dir string, gen uint64) string {
	return filepath.Join(dir, fmt.Sprintf("journal-%d.log", gen))
}

func (j *journal) close() error {
	err := j.f.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeFileAtomic writes data to dir/name through a temporary file, fsynced
// and renamed, so a crash leaves the old file or the new one, never half.
func writeFileAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

var errNoSnapshot = errors.New("no snapshot")

func readSnapshot(dir string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, snapshotFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNoSnapshot
	}
	return data, err
}
