package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/s2"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/fsutil"
)

// The write-ahead log is a sequence of segment files, wal/<seq>.wal, each a
// header followed by records, one record a batch. Segment numbers only grow;
// a flush of the head starts a new segment, so that after the flush every
// older segment is covered by parts and can be deleted. See FORMAT.md.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const (
	walMagic         = "LCWAL"
	walVersion       = 1
	walHeaderLen     = 8 // magic, version, 2 reserved bytes
	walRecordHdrLen  = 9 // payload length (4), CRC-32C (4), flags (1)
	walFlagS2        = 1 // the payload is S2-compressed
	walSegmentSuffix = ".wal"
	// walMaxRecord bounds one record so a damaged length cannot make replay
	// allocate gigabytes; a batch is far smaller (the HTTP body limit cuts
	// bodies into batches).
	walMaxRecord = 256 << 20
	// walSegmentTarget rotates a segment that grows past it even between
	// flushes, so no file grows without bound when flushing fails.
	walSegmentTarget = 256 << 20
)

// walWriter appends records to the current segment.
type walWriter struct {
	dir  string
	seq  uint64
	f    *os.File
	size int64
	buf  []byte // the group being written
	raw  []byte // scratch for one encoded batch
	enc  []byte // scratch for its compressed form
}

func segmentName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, walSegmentSuffix) }

// listSegments returns the segment numbers in dir, ascending.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, walSegmentSuffix) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(name, walSegmentSuffix), 10, 64)
		if err != nil {
			continue
		}
		seqs = append(seqs, n)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}

// openSegment creates segment seq (which must not exist) and makes it the
// current one.
func (w *walWriter) openSegment(seq uint64) error {
	path := filepath.Join(w.dir, segmentName(seq))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("create wal segment %d: %w", seq, err)
	}
	hdr := make([]byte, walHeaderLen)
	copy(hdr, walMagic)
	hdr[5] = walVersion
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return fmt.Errorf("write wal segment %d header: %w", seq, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync wal segment %d: %w", seq, err)
	}
	if err := fsutil.SyncDir(w.dir); err != nil {
		f.Close()
		return err
	}
	if w.f != nil {
		w.f.Close()
	}
	w.f, w.seq, w.size = f, seq, walHeaderLen
	return nil
}

// rotate syncs and closes the current segment and starts the next; it
// returns the number of the segment that was closed.
func (w *walWriter) rotate() (uint64, error) {
	old := w.seq
	if err := w.f.Sync(); err != nil {
		return 0, fmt.Errorf("sync wal segment %d: %w", old, err)
	}
	if err := w.openSegment(old + 1); err != nil {
		return 0, err
	}
	return old, nil
}

// appendBatch encodes b as one record onto the pending group.
func (w *walWriter) appendBatch(b *event.Batch) {
	w.raw = encodeBatch(w.raw[:0], b)
	start := len(w.buf)
	w.buf = append(w.buf, make([]byte, walRecordHdrLen)...)
	if need := s2.MaxEncodedLen(len(w.raw)); cap(w.enc) < need {
		w.enc = make([]byte, need)
	}
	w.buf = append(w.buf, s2.Encode(w.enc[:cap(w.enc)], w.raw)...)
	payload := w.buf[start+walRecordHdrLen:]
	binary.LittleEndian.PutUint32(w.buf[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(w.buf[start+4:], crc32.Checksum(payload, castagnoli))
	w.buf[start+8] = walFlagS2
}

// commit writes the pending group with one write call and, when sync is
// set, fsyncs it. After commit returns nil the group survives a crash of
// the process (it is in the kernel's page cache) and, with sync, a crash of
// the machine.
func (w *walWriter) commit(sync bool) error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.f.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		// A short write (disk full) would leave a torn record, and replay
		// stops at the first one, losing what is written after it: cut the
		// segment back to its last whole record. Writes append (O_APPEND),
		// so the next group lands right after it.
		if n > 0 {
			if terr := w.f.Truncate(w.size); terr != nil {
				// Cannot mend it: start a new segment so no later record
				// follows the torn one.
				if rerr := w.openSegment(w.seq + 1); rerr != nil {
					return fmt.Errorf("write wal segment %d: %w (truncate: %v; new segment: %v)", w.seq, err, terr, rerr)
				}
			}
		}
		return fmt.Errorf("write wal segment %d: %w", w.seq, err)
	}
	w.size += int64(n)
	if sync {
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("sync wal segment %d: %w", w.seq, err)
		}
	}
	return nil
}

func (w *walWriter) sync() error {
	if w.f == nil {
		return nil
	}
	return w.f.Sync()
}

func (w *walWriter) close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	return err
}

// encodeBatch appends the WAL encoding of a batch to dst:
//
//	uvarint len(clientID), clientID, uvarint seq, uvarint nEvents, then per
//	event: varint time, str index, str level, str message, str trace_id,
//	uvarint nFields, (str name, str value)... where str is uvarint len + bytes.
func encodeBatch(dst []byte, b *event.Batch) []byte {
	dst = appendStr(dst, b.Source.ClientID)
	dst = binary.AppendUvarint(dst, b.Source.Seq)
	dst = binary.AppendUvarint(dst, uint64(len(b.Events)))
	for i := range b.Events {
		e := &b.Events[i]
		dst = binary.AppendVarint(dst, e.Time)
		dst = appendStr(dst, e.Index)
		dst = appendStr(dst, e.Level)
		dst = appendStr(dst, e.Message)
		dst = appendStr(dst, e.TraceID)
		dst = binary.AppendUvarint(dst, uint64(len(e.Fields)))
		for _, f := range e.Fields {
			dst = appendStr(dst, f.Name)
			dst = appendStr(dst, f.Value)
		}
	}
	return dst
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

var errWALCorrupt = errors.New("corrupt wal record")

// decodeBatch is the inverse of encodeBatch. Strings point into a copy of
// p held by the batch.
func decodeBatch(p []byte) (*event.Batch, error) {
	b := &event.Batch{}
	d := walDecoder{p: p, b: b}
	b.Source.ClientID = d.str()
	b.Source.Seq = d.uvarint()
	n := d.uvarint()
	if n > uint64(len(p)) { // every event takes at least a byte
		return nil, errWALCorrupt
	}
	b.Events = make([]event.Event, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		e := b.Add()
		e.Time = d.varint()
		e.Index = d.str()
		e.Level = d.str()
		e.Message = d.str()
		e.TraceID = d.str()
		nf := d.uvarint()
		if nf > uint64(len(d.p)) {
			return nil, errWALCorrupt
		}
		if nf > 0 {
			e.Fields = make([]event.Field, nf)
			for j := range e.Fields {
				e.Fields[j].Name = d.str()
				e.Fields[j].Value = d.str()
			}
		}
	}
	if d.err != nil || len(d.p) != 0 {
		return nil, errWALCorrupt
	}
	return b, nil
}

type walDecoder struct {
	p   []byte
	b   *event.Batch
	err error
}

func (d *walDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.err = errWALCorrupt
		d.p = nil
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *walDecoder) varint() int64 {
	v, n := binary.Varint(d.p)
	if n <= 0 {
		d.err = errWALCorrupt
		d.p = nil
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *walDecoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.err = errWALCorrupt
		d.p = nil
		return ""
	}
	s := d.b.Str(d.p[:n])
	d.p = d.p[n:]
	return s
}

// replaySegment reads the records of one segment and calls fn with each
// decoded batch. A record cut short or failing its checksum ends the
// segment: at the tail of the last segment that is a write torn by a crash
// (never acknowledged); elsewhere it is damage, reported through the error.
// The number of valid bytes is returned so the caller can tell the two apart.
func replaySegment(path string, fn func(*event.Batch) error) (valid int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	hdr := make([]byte, walHeaderLen)
	if _, err := io.ReadFull(r, hdr); err != nil || string(hdr[:5]) != walMagic || hdr[5] != walVersion {
		return 0, fmt.Errorf("%s: bad wal segment header: %w", path, errWALCorrupt)
	}
	valid = walHeaderLen
	var rh [walRecordHdrLen]byte
	var payload, raw []byte
	for {
		if _, err := io.ReadFull(r, rh[:]); err != nil {
			if err == io.EOF {
				return valid, nil
			}
			return valid, fmt.Errorf("%s at %d: torn record header: %w", path, valid, errWALCorrupt)
		}
		n := binary.LittleEndian.Uint32(rh[0:])
		sum := binary.LittleEndian.Uint32(rh[4:])
		if n > walMaxRecord || int64(n) > st.Size()-valid {
			return valid, fmt.Errorf("%s at %d: record length %d: %w", path, valid, n, errWALCorrupt)
		}
		if cap(payload) < int(n) {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return valid, fmt.Errorf("%s at %d: torn record: %w", path, valid, errWALCorrupt)
		}
		if crc32.Checksum(payload, castagnoli) != sum {
			return valid, fmt.Errorf("%s at %d: record checksum mismatch: %w", path, valid, errWALCorrupt)
		}
		body := payload
		if rh[8]&walFlagS2 != 0 {
			dl, err := s2.DecodedLen(payload)
			if err != nil || dl > walMaxRecord {
				return valid, fmt.Errorf("%s at %d: bad compressed record: %w", path, valid, errWALCorrupt)
			}
			if raw, err = s2.Decode(raw[:cap(raw)], payload); err != nil {
				return valid, fmt.Errorf("%s at %d: decompress record: %w", path, valid, errWALCorrupt)
			}
			body = raw
		}
		b, err := decodeBatch(body)
		if err != nil {
			return valid, fmt.Errorf("%s at %d: %w", path, valid, err)
		}
		if err := fn(b); err != nil {
			return valid, err
		}
		valid += int64(walRecordHdrLen) + int64(n)
	}
}
