package part

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/logcaster/logcaster/internal/fsutil"
)

// partWriter writes the files of one part into dir+".tmp" and renames it
// into place when finished. Blocks are encoded on opts.Parallelism worker
// goroutines and committed in submission order, so the bytes do not depend
// on the parallelism: data.bin and blooms.bin stream to disk, only the
// index (a few dozen bytes a block) stays in memory.
type partWriter struct {
	dir, tmp string
	opts     WriteOptions

	data, blooms       *os.File
	dataW, bloomsW     *bufio.Writer
	dataCRC, bloomsCRC uint32
	dataLen, bloomsLen uint64

	// Index contents: part-level column names and stream keys, and the
	// block headers encoded as they come.
	colNames  []string
	colIDs    map[string]int
	streams   []string
	blockHdrs []byte
	meta      Meta

	// The block pipeline. cur is being filled by the caller; pending were
	// submitted and are committed oldest first; free are ready for reuse.
	// With one worker or less, blocks are encoded inline by enc.
	schema      *colSchema
	copyStrings bool
	cur         *blockJob
	pending     []*blockJob
	free        []*blockJob
	jobs        int // created so far
	maxJobs     int
	work        chan *blockJob
	workers     sync.WaitGroup
	enc         *blockEncoder
}

// jobsPerWorker bounds the blocks in flight: each worker has one being
// encoded and one queued, so a worker never waits for the filling loop,
// and memory stays a few blocks.
const jobsPerWorker = 2

func newPartWriter(dir string, opts WriteOptions, copyStrings bool) (*partWriter, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("write part options: %w", err)
	}
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("write part %s: already exists", dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("write part: %w", err)
	}
	w := &partWriter{dir: dir, tmp: dir + tmpSuffix, opts: opts, colIDs: map[string]int{},
		schema: newColSchema(), copyStrings: copyStrings}
	// A leftover .tmp is a crashed attempt at this very part: ours to remove.
	if err := os.RemoveAll(w.tmp); err != nil {
		return nil, fmt.Errorf("write part: remove stale tmp: %w", err)
	}
	if err := os.Mkdir(w.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("write part: %w", err)
	}
	var err error
	if w.data, err = os.Create(filepath.Join(w.tmp, dataFile)); err != nil {
		w.abort()
		return nil, fmt.Errorf("write part: %w", err)
	}
	if w.blooms, err = os.Create(filepath.Join(w.tmp, bloomsFile)); err != nil {
		w.abort()
		return nil, fmt.Errorf("write part: %w", err)
	}
	w.dataW = bufio.NewWriterSize(w.data, 256<<10)
	w.bloomsW = bufio.NewWriterSize(w.blooms, 64<<10)
	w.writeData(append([]byte(dataMagic), formatVersion))
	w.writeBlooms(append([]byte(bloomsMagic), formatVersion))
	w.meta.MinTime, w.meta.MaxTime = 1<<63-1, -1<<63

	workers := opts.Parallelism
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers <= 1 {
		w.enc = getBlockEncoder(opts)
		w.maxJobs = 1
	} else {
		w.maxJobs = jobsPerWorker * workers
		w.work = make(chan *blockJob, w.maxJobs)
		for range workers {
			w.workers.Add(1)
			go func() {
				defer w.workers.Done()
				enc := getBlockEncoder(opts)
				defer putBlockEncoder(enc)
				for j := range w.work {
					enc.encode(j)
					j.done <- struct{}{}
				}
			}()
		}
	}
	w.cur = w.newJob()
	return w, nil
}

func (w *partWriter) newJob() *blockJob {
	w.jobs++
	return getBlockJob(w.schema, w.copyStrings)
}

// builder is the block being filled.
func (w *partWriter) builder() *blockBuilder { return w.cur.b }

// Writes to bufio.Writers remember their first error; finish reports it.
func (w *partWriter) writeData(b []byte) {
	w.dataW.Write(b)
	w.dataCRC = crc32.Update(w.dataCRC, crcTable, b)
	w.dataLen += uint64(len(b))
}

func (w *partWriter) writeBlooms(b []byte) {
	w.bloomsW.Write(b)
	w.bloomsCRC = crc32.Update(w.bloomsCRC, crcTable, b)
	w.bloomsLen += uint64(len(b))
}

// stopWorkers ends the worker goroutines once they have finished what was
// submitted; idempotent.
func (w *partWriter) stopWorkers() {
	if w.work != nil {
		close(w.work)
		w.workers.Wait()
		w.work = nil
	}
}

// release returns the jobs and encoder to their pools once the workers
// are gone; idempotent.
func (w *partWriter) release() {
	w.stopWorkers()
	for _, j := range w.pending {
		<-j.done
		putBlockJob(j)
	}
	for _, j := range w.free {
		putBlockJob(j)
	}
	if w.cur != nil {
		putBlockJob(w.cur)
	}
	w.pending, w.free, w.cur = nil, nil, nil
	if w.enc != nil {
		putBlockEncoder(w.enc)
		w.enc = nil
	}
}

func (w *partWriter) abort() {
	w.release()
	if w.data != nil {
		w.data.Close()
	}
	if w.blooms != nil {
		w.blooms.Close()
	}
	os.RemoveAll(w.tmp)
}

func (w *partWriter) streamID(key string) int {
	if n := len(w.streams); n > 0 && w.streams[n-1] == key {
		return n - 1
	}
	w.streams = append(w.streams, key)
	return len(w.streams) - 1
}

func (w *partWriter) colID(name string) int {
	if id, ok := w.colIDs[name]; ok {
		return id
	}
	w.colIDs[name] = len(w.colNames)
	w.colNames = append(w.colNames, name)
	return len(w.colNames) - 1
}

// writeBlock hands the rows gathered in the current builder to be encoded
// as one block of stream key and returns the builder to fill next (maybe
// another one: column indexes are shared, see colSchema). Rows must be
// sorted by time. An error is one of an earlier block's.
func (w *partWriter) writeBlock(key string) (*blockBuilder, error) {
	j := w.cur
	if j.b.rows() == 0 {
		return j.b, nil
	}
	j.key = key
	if w.enc != nil {
		w.enc.encode(j)
		return j.b, w.commit(j)
	}
	w.work <- j
	w.pending = append(w.pending, j)
	w.cur = nil
	switch {
	case len(w.free) > 0:
		w.cur = w.free[len(w.free)-1]
		w.free = w.free[:len(w.free)-1]
	case w.jobs < w.maxJobs:
		w.cur = w.newJob()
	default:
		// Every job is in flight: commit the oldest and reuse it.
		if err := w.commitOldest(); err != nil {
			return j.b, err
		}
		w.cur = w.free[len(w.free)-1]
		w.free = w.free[:len(w.free)-1]
	}
	return w.cur.b, nil
}

// commitOldest waits for the oldest pending block and commits it.
func (w *partWriter) commitOldest() error {
	j := w.pending[0]
	<-j.done
	w.pending = w.pending[1:]
	w.free = append(w.free, j)
	return w.commit(j)
}

// flushBlocks commits every pending block.
func (w *partWriter) flushBlocks() error {
	for len(w.pending) > 0 {
		if err := w.commitOldest(); err != nil {
			return err
		}
	}
	return nil
}

// commit appends encoded block j to the files and its header to the index.
func (w *partWriter) commit(j *blockJob) error {
	if j.err != nil {
		return j.err
	}
	h := w.blockHdrs
	h = binary.AppendUvarint(h, uint64(w.streamID(j.key)))
	h = binary.AppendUvarint(h, uint64(j.rows))
	h = binary.AppendVarint(h, j.minT)
	h = binary.AppendUvarint(h, uint64(j.maxT-j.minT))
	h = binary.AppendUvarint(h, uint64(j.tsLen))
	h = binary.LittleEndian.AppendUint32(h, j.tsCRC)
	h = binary.AppendUvarint(h, uint64(len(j.cols)))
	for _, c := range j.cols {
		h = binary.AppendUvarint(h, uint64(w.colID(c.name)))
		h = binary.AppendUvarint(h, uint64(c.secLen))
		h = binary.LittleEndian.AppendUint32(h, c.crc)
		h = binary.AppendUvarint(h, uint64(c.bloomLen))
		h = binary.AppendUvarint(h, uint64(c.headLen))
		h = binary.AppendUvarint(h, uint64(c.sumLen))
	}
	w.blockHdrs = h
	w.writeData(j.data)
	w.writeBlooms(j.blooms)
	w.meta.Rows += uint64(j.rows)
	w.meta.Blocks++
	w.meta.MinTime = min(w.meta.MinTime, j.minT)
	w.meta.MaxTime = max(w.meta.MaxTime, j.maxT)
	w.meta.RawBytes += uint64(j.raw)
	return nil
}

// finish writes the index and meta, fsyncs everything and renames the part
// into place.
func (w *partWriter) finish(meta Meta) (Meta, error) {
	fail := func(err error) (Meta, error) {
		w.abort()
		return meta, fmt.Errorf("write part %s: %w", w.dir, err)
	}
	if err := w.flushBlocks(); err != nil {
		return fail(err)
	}
	w.release()
	var trailer [crcLen]byte
	binary.LittleEndian.PutUint32(trailer[:], w.dataCRC)
	w.dataW.Write(trailer[:])
	w.dataLen += crcLen
	binary.LittleEndian.PutUint32(trailer[:], w.bloomsCRC)
	w.bloomsW.Write(trailer[:])
	w.bloomsLen += crcLen
	for _, f := range []struct {
		w *bufio.Writer
		f *os.File
	}{{w.dataW, w.data}, {w.bloomsW, w.blooms}} {
		if err := f.w.Flush(); err != nil {
			return fail(err)
		}
		if err := f.f.Sync(); err != nil {
			return fail(err)
		}
		if err := f.f.Close(); err != nil {
			return fail(err)
		}
	}
	w.data, w.blooms = nil, nil

	index := w.marshalIndex()
	if w.meta.Rows == 0 {
		// An empty part has no time range; zero rather than the sentinels.
		w.meta.MinTime, w.meta.MaxTime = 0, 0
	}
	meta.Format = formatVersion
	meta.Rows, meta.Blocks = w.meta.Rows, w.meta.Blocks
	meta.MinTime, meta.MaxTime = w.meta.MinTime, w.meta.MaxTime
	meta.RawBytes = w.meta.RawBytes
	meta.Sources = slices.Clone(meta.Sources)
	meta.DiskBytes = w.dataLen + w.bloomsLen + uint64(len(index)) + uint64(metaLen(&meta))
	if err := fsutil.WriteFileSync(filepath.Join(w.tmp, indexFile), index); err != nil {
		return fail(err)
	}
	if err := fsutil.WriteFileSync(filepath.Join(w.tmp, metaFile), marshalMeta(nil, &meta)); err != nil {
		return fail(err)
	}
	if err := fsutil.SyncDir(w.tmp); err != nil {
		return fail(err)
	}
	if err := os.Rename(w.tmp, w.dir); err != nil {
		return fail(err)
	}
	if err := fsutil.SyncDir(filepath.Dir(w.dir)); err != nil {
		// The part is complete in place; only its durability is in doubt.
		return meta, fmt.Errorf("write part %s: sync parent: %w", w.dir, err)
	}
	return meta, nil
}

func (w *partWriter) marshalIndex() []byte {
	n := headerLen + len(w.blockHdrs) + crcLen + 32
	for _, s := range w.colNames {
		n += len(s) + 4
	}
	for _, s := range w.streams {
		n += len(s) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, indexMagic...)
	b = append(b, formatVersion)
	b = binary.AppendUvarint(b, uint64(len(w.colNames)))
	for _, s := range w.colNames {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(w.streams)))
	for _, s := range w.streams {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(w.meta.Blocks))
	b = append(b, w.blockHdrs...)
	return binary.LittleEndian.AppendUint32(b, crc(b))
}
