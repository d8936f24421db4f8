package part

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
)

// partWriter writes the files of one part into dir+".tmp" and renames it
// into place when finished. Blocks are written as they are encoded: data.bin
// and blooms.bin stream to disk, only the index (a few dozen bytes a block)
// stays in memory.
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

	// Scratch reused from block to block.
	raw, sec, bloom []byte
	set             hashSet
	dictIdx         map[string]int
	dict            []string
	codes           []byte
}

func newPartWriter(dir string, opts WriteOptions) (*partWriter, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("write part options: %w", err)
	}
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("write part %s: already exists", dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("write part: %w", err)
	}
	w := &partWriter{dir: dir, tmp: dir + tmpSuffix, opts: opts, colIDs: map[string]int{}, dictIdx: map[string]int{}}
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
	return w, nil
}

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

func (w *partWriter) abort() {
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

// writeBlock encodes the rows gathered in b as one block of stream key and
// resets b. Rows must be sorted by time.
func (w *partWriter) writeBlock(key string, b *blockBuilder) error {
	rows := b.rows()
	if rows == 0 {
		return nil
	}
	b.finish()
	ts := b.ts
	minT, maxT := ts[0], ts[rows-1]
	if minT > maxT {
		panic("BUG: block rows not sorted by time")
	}
	h := w.blockHdrs
	h = binary.AppendUvarint(h, uint64(w.streamID(key)))
	h = binary.AppendUvarint(h, uint64(rows))
	h = binary.AppendVarint(h, minT)
	h = binary.AppendUvarint(h, uint64(maxT-minT))

	w.raw = appendTimestamps(w.raw[:0], ts)
	w.sec = appendSection(w.sec[:0], w.raw, w.opts.ZstdLevel)
	h = binary.AppendUvarint(h, uint64(len(w.sec)))
	h = binary.LittleEndian.AppendUint32(h, crc(w.sec))
	w.writeData(w.sec)

	ncols := 0
	for i := range b.cols {
		if b.cols[i].nonEmpty > 0 {
			ncols++
		}
	}
	h = binary.AppendUvarint(h, uint64(ncols))
	for i := range b.cols {
		c := &b.cols[i]
		if c.nonEmpty == 0 {
			continue
		}
		w.set.reset()
		w.raw = w.encodeColumn(w.raw[:0], c.vals)
		if len(w.raw) > maxSectionRaw {
			return fmt.Errorf("write part: column %q of a block is %d bytes, over the %d limit", c.name, len(w.raw), maxSectionRaw)
		}
		w.sec = appendSection(w.sec[:0], w.raw, w.opts.ZstdLevel)
		w.bloom = appendBloom(w.bloom[:0], w.set.keys)
		h = binary.AppendUvarint(h, uint64(w.colID(c.name)))
		h = binary.AppendUvarint(h, uint64(len(w.sec)))
		h = binary.LittleEndian.AppendUint32(h, crc(w.sec))
		h = binary.AppendUvarint(h, uint64(len(w.bloom)))
		w.writeData(w.sec)
		w.writeBlooms(w.bloom)
	}
	w.blockHdrs = h
	w.meta.Rows += uint64(rows)
	w.meta.Blocks++
	w.meta.MinTime = min(w.meta.MinTime, minT)
	w.meta.MaxTime = max(w.meta.MaxTime, maxT)
	w.meta.RawBytes += uint64(b.raw)
	b.reset()
	return nil
}

// encodeColumn appends the raw encoding of vals to dst, choosing const,
// dict or plain, and adds the tokens of the values to w.set. Dictionary and
// constant columns tokenize each distinct value once.
func (w *partWriter) encodeColumn(dst []byte, vals []string) []byte {
	clear(w.dictIdx)
	w.dict = w.dict[:0]
	w.codes = w.codes[:0]
	for _, v := range vals {
		i, ok := w.dictIdx[v]
		if !ok {
			if len(w.dict) == maxDictLen {
				break
			}
			i = len(w.dict)
			w.dictIdx[v] = i
			w.dict = append(w.dict, v)
		}
		w.codes = append(w.codes, byte(i))
	}
	switch {
	case len(w.codes) == len(vals) && len(w.dict) == 1:
		w.set.addTokens(w.dict[0])
		return appendConst(dst, w.dict[0])
	case len(w.codes) == len(vals):
		for _, v := range w.dict {
			w.set.addTokens(v)
		}
		return appendDict(dst, w.dict, w.codes)
	}
	prev := ""
	for i, v := range vals {
		// Neighbouring rows often repeat a value (a trace's id, a host).
		if i == 0 || v != prev {
			w.set.addTokens(v)
		}
		prev = v
	}
	return appendPlain(dst, vals)
}

// finish writes the index and meta, fsyncs everything and renames the part
// into place.
func (w *partWriter) finish(meta Meta) (Meta, error) {
	fail := func(err error) (Meta, error) {
		w.abort()
		return meta, fmt.Errorf("write part %s: %w", w.dir, err)
	}
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
	if err := writeFileSync(filepath.Join(w.tmp, indexFile), index); err != nil {
		return fail(err)
	}
	if err := writeFileSync(filepath.Join(w.tmp, metaFile), marshalMeta(nil, &meta)); err != nil {
		return fail(err)
	}
	if err := syncDir(w.tmp); err != nil {
		return fail(err)
	}
	if err := os.Rename(w.tmp, w.dir); err != nil {
		return fail(err)
	}
	if err := syncDir(filepath.Dir(w.dir)); err != nil {
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

func writeFileSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
