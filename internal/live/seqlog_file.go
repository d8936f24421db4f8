package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The resume log on disk, so that a cursor from before a restart still
// resumes exactly. Options.Dir holds files named
// "<epoch>-<first seq>.seqlog"; a file is a sequence of records, one a
// published group, all integers little-endian:
//
//	u32 payload length (24 + 8n)
//	u32 CRC-32C of the payload
//	payload: u64 first seq, i64 min timestamp, i64 max timestamp,
//	         n × u64 content hash (seq first+i)
//
// A record is written with one write(2) while the hub publishes the group,
// without fsync: it survives a kill of the process (the kernel holds it)
// but the last records may be lost to a machine crash. Reading stops at
// the first torn or damaged record of a file. A new file starts past
// fileBytes, and the oldest files go once all of them exceed the log's
// byte bound.

const (
	logExt = ".seqlog"
	// recordHeader is the length and checksum before each payload.
	recordHeader = 8
	// payloadFixed is first seq, min and max time.
	payloadFixed = 24
	// minFileBytes keeps tiny byte bounds (tests) from making a file a
	// record.
	minFileBytes = 64 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type logFile struct {
	name  string
	epoch int64
	first uint64
	size  int64
}

// logWriter appends the current epoch's segments to Dir.
type logWriter struct {
	dir       string
	epoch     int64
	limit     int64 // all files together
	fileBytes int64 // one file
	files     []logFile
	f         *os.File
	buf       []byte
	failed    bool
}

func parseLogName(name string) (epoch int64, first uint64, ok bool) {
	base, found := strings.CutSuffix(name, logExt)
	if !found {
		return 0, 0, false
	}
	e, s, found := strings.Cut(base, "-")
	if !found {
		return 0, 0, false
	}
	epoch, err1 := strconv.ParseInt(e, 10, 64)
	first, err2 := strconv.ParseUint(s, 10, 64)
	return epoch, first, err1 == nil && err2 == nil
}

// openLog reads the earlier runs' segments from dir into l and returns
// the writer for epoch and the time the newest file was last written (zero
// without files), which tells whether a tail was open recently.
func openLog(dir string, epoch, limit int64, l *seqLog) (*logWriter, time.Time, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, time.Time{}, fmt.Errorf("live: resume log: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("live: resume log: %w", err)
	}
	w := &logWriter{dir: dir, epoch: epoch, limit: limit, fileBytes: max(limit/8, minFileBytes)}
	var newest time.Time
	for _, e := range ents {
		ep, first, ok := parseLogName(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
		w.files = append(w.files, logFile{name: e.Name(), epoch: ep, first: first, size: info.Size()})
	}
	slices.SortFunc(w.files, func(a, b logFile) int {
		if a.epoch != b.epoch {
			return cmpInt(a.epoch, b.epoch)
		}
		return cmpInt(a.first, b.first)
	})
	w.trim()
	for _, f := range w.files {
		if err := readLogFile(filepath.Join(dir, f.name), f.epoch, l); err != nil {
			// A damaged file loses its own resumes (they get gap
			// notices), never the server.
			slog.Warn("live: resume log file skipped", "file", f.name, "err", err)
		}
	}
	return w, newest, nil
}

func cmpInt[T int64 | uint64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readLogFile appends the file's segments to l, stopping at the first torn
// or damaged record.
func readLogFile(path string, epoch int64, l *seqLog) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return parseLog(b, epoch, l)
}

// parseLog appends the segments of a log file's bytes to l.
func parseLog(b []byte, epoch int64, l *seqLog) error {
	for len(b) >= recordHeader {
		n := int(binary.LittleEndian.Uint32(b))
		sum := binary.LittleEndian.Uint32(b[4:])
		b = b[recordHeader:]
		if n < payloadFixed+8 || (n-payloadFixed)%8 != 0 || n > len(b) {
			return nil // torn tail: the process died mid-write
		}
		p := b[:n]
		b = b[n:]
		if crc32.Checksum(p, castagnoli) != sum {
			return errors.New("checksum mismatch")
		}
		s := &segment{
			epoch: epoch,
			first: binary.LittleEndian.Uint64(p),
			minT:  int64(binary.LittleEndian.Uint64(p[8:])),
			maxT:  int64(binary.LittleEndian.Uint64(p[16:])),
		}
		s.hashes = make([]uint64, (n-payloadFixed)/8)
		for i := range s.hashes {
			s.hashes[i] = binary.LittleEndian.Uint64(p[payloadFixed+8*i:])
		}
		if k := len(l.segs); k > 0 {
			if prev := l.segs[k-1]; prev.epoch == epoch && prev.last() >= s.first {
				return errors.New("sequence numbers go back")
			}
		}
		l.append(s)
	}
	return nil
}

// write appends one segment; after a failure it logs once and stops, so
// later resumes across a restart get gap notices instead of wrong events.
func (w *logWriter) write(s *segment) {
	if w.failed {
		return
	}
	if err := w.writeErr(s); err != nil {
		w.failed = true
		slog.Error("live: resume log write failed; resumes across a restart will report gaps", "err", err)
		if w.f != nil {
			w.f.Close()
			w.f = nil
		}
	}
}

func (w *logWriter) writeErr(s *segment) error {
	if w.f == nil || w.files[len(w.files)-1].size >= w.fileBytes {
		if err := w.rotate(s.first); err != nil {
			return err
		}
	}
	n := payloadFixed + 8*len(s.hashes)
	b := w.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, 0) // the checksum, below
	b = binary.LittleEndian.AppendUint64(b, s.first)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.minT))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.maxT))
	for _, h := range s.hashes {
		b = binary.LittleEndian.AppendUint64(b, h)
	}
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[recordHeader:], castagnoli))
	w.buf = b
	if _, err := w.f.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", w.files[len(w.files)-1].name, err)
	}
	w.files[len(w.files)-1].size += int64(len(b))
	return nil
}

// rotate starts a new file whose first record is seq first, then removes
// the oldest files past the byte bound.
func (w *logWriter) rotate(first uint64) error {
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			return err
		}
		w.f = nil
	}
	name := strconv.FormatInt(w.epoch, 10) + "-" + strconv.FormatUint(first, 10) + logExt
	f, err := os.OpenFile(filepath.Join(w.dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	w.f = f
	w.files = append(w.files, logFile{name: name, epoch: w.epoch, first: first})
	w.trim()
	return nil
}

// trim removes the oldest files (never the newest) while all of them
// exceed the byte bound.
func (w *logWriter) trim() {
	var total int64
	for _, f := range w.files {
		total += f.size
	}
	drop := 0
	for total > w.limit && len(w.files)-drop > 1 {
		if err := os.Remove(filepath.Join(w.dir, w.files[drop].name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			slog.Warn("live: remove old resume log", "file", w.files[drop].name, "err", err)
		}
		total -= w.files[drop].size
		drop++
	}
	w.files = slices.Delete(w.files, 0, drop)
}

func (w *logWriter) close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
