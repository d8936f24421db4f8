// Package part is the on-disk format of LogCaster's immutable parts: one
// directory per part, holding the rows of many streams grouped into blocks
// (one stream a block, sorted by time), each column of a block stored apart,
// compressed and checksummed, with a bloom filter of each column's tokens
// and, where they are small, row counts of its values or template words
// (summary.go) that answer counts without reading the data.
// A column is stored plain, as a dictionary, as a constant, or (messages, in
// merged parts) as templates and variables (template.go), which searches
// read piece by piece.
//
// What it promises:
//   - Write and Merge are atomic: a part directory either exists complete
//     (every file and the directory fsynced) or not at all; a crash leaves at
//     most a "<dir>.tmp" directory for the engine to delete.
//   - Write and Merge encode blocks on WriteOptions.Parallelism goroutines
//     (GOMAXPROCS by default); the bytes written do not depend on it.
//   - A part is immutable once written; a *Part and its BlockReaders may be
//     used from many goroutines (one BlockReader per goroutine).
//   - Open reads only the metadata and the index (block headers, blooms,
//     summaries) and verifies their checksums; column data is read and
//     verified when a BlockReader asks for it (a template column's head
//     first, each kind of its variables when needed, each piece under its
//     own CRC). Damage is reported as an error wrapping *CorruptError,
//     never as a panic.
//   - Parts of format versions 2, 3 and 4 are read; Write and Merge write 4.
//
// FORMAT.md in the parent directory draws every file byte by byte.
package part

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// Meta is what a part says about itself; stored in the part (checksummed).
type Meta struct {
	Format     int      // format version, set by Write
	Rows       uint64   // set by Write/Merge
	Blocks     int      // set by Write/Merge
	MinTime    int64    // unix ns, set by Write/Merge
	MaxTime    int64    // unix ns, set by Write/Merge
	FlushSeq   uint64   // set by the caller: the WAL checkpoint this flush belongs to (0 for merged parts)
	Sources    []string // set by the caller: base names of the parts a merge replaced
	Generation int      // set by the caller: 0 for flushed parts, merges use max(inputs)+1
	DiskBytes  uint64   // set by Write/Merge: bytes of all files of the part
	RawBytes   uint64   // set by Write/Merge: bytes of the values before encoding
}

// Part is an open, immutable part. Its methods are safe for concurrent use.
type Part struct {
	dir    string
	meta   Meta
	data   *os.File
	size   int64 // of data.bin
	names  []string
	colIDs map[string]int
	// streams are the stream keys (index + "\x00" + service) of the blocks.
	streams []string
	blocks  []blockHeader
	cols    []colHeader // the columns of every block, block after block
	blooms  []byte      // all of blooms.bin
	version byte        // index.bin's format version
	// jumps[c.jumps-1] is the letter table of column header c's tokens
	// summary (summary.go), built by Open.
	jumps []tokenJumps
}

// blockHeader locates one block; cols[colStart:colEnd] are its columns.
type blockHeader struct {
	stream           int
	rows             int
	minT, maxT       int64
	tsOff            int64
	tsLen            int
	tsCRC            uint32
	colStart, colEnd int
}

// colHeader locates one column of a block in data.bin and its bloom in
// blooms.bin.
type colHeader struct {
	id                 int
	off                int64
	len                int
	crc                uint32
	bloomOff, bloomLen int
	// headLen, for a template column (format 3), is how much of the
	// section to read first: everything but the variables.
	headLen int
	// sumOff and sumLen locate the column's summary in blooms.bin, right
	// after its bloom (format 4, summary.go); sumLen 0: none. jumps, when
	// positive, numbers its letter table in Part.jumps, from 1.
	sumOff, sumLen int
	jumps          int
}

// Open opens a part, reading its metadata and index (block headers and
// bloom filters) into memory and verifying their checksums; it reads no
// column data. Damage anywhere is returned as an error that wraps
// *CorruptError.
func Open(dir string) (*Part, error) {
	p := &Part{dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, fmt.Errorf("open part: %w", err)
	}
	var reason string
	if p.meta, reason = unmarshalMeta(b); reason != "" {
		return nil, p.corrupt(metaFile, reason)
	}
	if p.blooms, err = readChecked(dir, bloomsFile, bloomsMagic); err != nil {
		return nil, err
	}
	index, err := readChecked(dir, indexFile, indexMagic)
	if err != nil {
		return nil, err
	}
	if p.data, err = os.Open(filepath.Join(dir, dataFile)); err != nil {
		return nil, fmt.Errorf("open part: %w", err)
	}
	fi, err := p.data.Stat()
	if err != nil {
		p.data.Close()
		return nil, fmt.Errorf("open part: %w", err)
	}
	p.size = fi.Size()
	var hdr [headerLen]byte
	if _, err := p.data.ReadAt(hdr[:], 0); err != nil || string(hdr[:4]) != dataMagic || !readableVersion(hdr[4]) {
		p.data.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("open part: %w", err)
		}
		return nil, p.corrupt(dataFile, "bad header")
	}
	p.version = index[4]
	if reason := p.parseIndex(index[headerLen : len(index)-crcLen]); reason != "" {
		p.data.Close()
		return nil, p.corrupt(indexFile, reason)
	}
	if reason := p.checkMeta(); reason != "" {
		p.data.Close()
		return nil, p.corrupt(metaFile, reason)
	}
	return p, nil
}

func (p *Part) corrupt(file, reason string) error {
	return fmt.Errorf("open part: %w", &CorruptError{Path: filepath.Join(p.dir, file), Reason: reason})
}

// readChecked reads a whole file and checks its magic, version and CRC
// trailer.
func readChecked(dir, name, magic string) ([]byte, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open part: %w", err)
	}
	reason := ""
	switch {
	case len(b) < headerLen+crcLen:
		reason = "too short"
	case crc(b[:len(b)-crcLen]) != binary.LittleEndian.Uint32(b[len(b)-crcLen:]):
		reason = "checksum mismatch"
	case string(b[:4]) != magic:
		reason = "bad magic"
	case !readableVersion(b[4]):
		reason = "unknown format version"
	}
	if reason != "" {
		return nil, fmt.Errorf("open part: %w", &CorruptError{Path: path, Reason: reason})
	}
	return b, nil
}

// parseIndex parses the body of index.bin (between header and CRC) and
// checks every length against the sizes of data.bin and blooms.bin, so a
// reader never asks for bytes that are not there.
func (p *Part) parseIndex(b []byte) string {
	d := decoder{b: b}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return "column count exceeds file"
	}
	p.names = make([]string, 0, n)
	p.colIDs = make(map[string]int, n)
	for i := uint64(0); i < n && d.err == ""; i++ {
		l := d.uvarint()
		if l > maxNameLen {
			return "column name too long"
		}
		name := string(d.bytes(l))
		if _, dup := p.colIDs[name]; dup {
			return "duplicate column name"
		}
		p.colIDs[name] = len(p.names)
		p.names = append(p.names, name)
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		return "stream count exceeds file"
	}
	p.streams = make([]string, 0, n)
	for i := uint64(0); i < n && d.err == ""; i++ {
		l := d.uvarint()
		if l > maxNameLen {
			return "stream key too long"
		}
		p.streams = append(p.streams, string(d.bytes(l)))
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		return "block count exceeds file"
	}
	p.blocks = make([]blockHeader, 0, n)
	off := int64(headerLen)
	dataEnd := p.size - crcLen
	bloomOff, bloomEnd := headerLen, len(p.blooms)-crcLen
	for i := uint64(0); i < n && d.err == ""; i++ {
		var h blockHeader
		s := d.uvarint()
		if s >= uint64(len(p.streams)) {
			return "stream id out of range"
		}
		h.stream = int(s)
		rows := d.uvarint()
		if rows == 0 || rows > maxBlockRows {
			return "bad block row count"
		}
		h.rows = int(rows)
		h.minT = d.varint()
		span := d.uvarint()
		if span > uint64(1<<63-1-h.minT) {
			return "bad block time range"
		}
		h.maxT = h.minT + int64(span)
		tsLen := d.uvarint()
		if tsLen > uint64(dataEnd-off) {
			return "timestamps section beyond data file"
		}
		h.tsOff, h.tsLen, h.tsCRC = off, int(tsLen), d.u32()
		off += int64(tsLen)
		ncols := d.uvarint()
		if ncols > uint64(len(p.names)) {
			return "block column count out of range"
		}
		h.colStart = len(p.cols)
		for j := uint64(0); j < ncols && d.err == ""; j++ {
			var c colHeader
			id := d.uvarint()
			if id >= uint64(len(p.names)) {
				return "column id out of range"
			}
			c.id = int(id)
			for _, o := range p.cols[h.colStart:] {
				if o.id == c.id {
					return "column repeated in block"
				}
			}
			l := d.uvarint()
			if l > uint64(dataEnd-off) {
				return "column section beyond data file"
			}
			c.off, c.len, c.crc = off, int(l), d.u32()
			off += int64(l)
			bl := d.uvarint()
			if bl > uint64(bloomEnd-bloomOff) {
				return "bloom beyond blooms file"
			}
			c.bloomOff, c.bloomLen = bloomOff, int(bl)
			// Length 0: no filter (WriteOptions.NoBlooms), every token may be there.
			if bl != 0 && (bl < 9 || (bl-1)%8 != 0 || p.blooms[bloomOff] == 0 || p.blooms[bloomOff] > bloomMaxK) {
				return "bad bloom"
			}
			bloomOff += int(bl)
			if p.version >= 3 {
				hl := d.uvarint()
				if hl > l {
					return "column head beyond its section"
				}
				c.headLen = int(hl)
			}
			if p.version >= 4 {
				sl := d.uvarint()
				if sl > uint64(bloomEnd-bloomOff) {
					return "summary beyond blooms file"
				}
				c.sumOff, c.sumLen = bloomOff, int(sl)
				if reason := p.openSummary(&c, h.rows); reason != "" {
					return reason
				}
				bloomOff += int(sl)
			}
			p.cols = append(p.cols, c)
		}
		h.colEnd = len(p.cols)
		p.blocks = append(p.blocks, h)
	}
	if d.err != "" {
		return d.err
	}
	if len(d.b) != 0 {
		return "trailing bytes"
	}
	if off != dataEnd {
		return "data file size disagrees with index"
	}
	if bloomOff != bloomEnd {
		return "blooms file size disagrees with index"
	}
	return ""
}

// checkMeta cross-checks meta.bin against the index.
func (p *Part) checkMeta() string {
	var rows uint64
	for i := range p.blocks {
		rows += uint64(p.blocks[i].rows)
	}
	if rows != p.meta.Rows || len(p.blocks) != p.meta.Blocks {
		return "rows or blocks disagree with index"
	}
	return ""
}

// Dir is the part's directory.
func (p *Part) Dir() string { return p.dir }

// Meta is the part's metadata.
func (p *Part) Meta() Meta { return p.meta }

// Close releases the part's file; readers must be done with it.
func (p *Part) Close() error {
	if p.data == nil {
		return nil
	}
	err := p.data.Close()
	p.data = nil
	return err
}

// NumBlocks is the number of blocks.
func (p *Part) NumBlocks() int { return len(p.blocks) }

// BlockTimeRange is the smallest and largest timestamp of block i.
func (p *Part) BlockTimeRange(i int) (min, max int64) {
	return p.blocks[i].minT, p.blocks[i].maxT
}

// BlockRows is the number of rows of block i.
func (p *Part) BlockRows(i int) int { return p.blocks[i].rows }

// BlockStream is the stream key of block i: index + "\x00" + service, as
// event.StreamKey makes it.
func (p *Part) BlockStream(i int) string { return p.streams[p.blocks[i].stream] }

// readAt reads n bytes at off of data.bin into buf (grown as needed).
func (p *Part) readAt(buf []byte, off int64, n int) ([]byte, error) {
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := p.data.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			return buf, &CorruptError{Path: filepath.Join(p.dir, dataFile), Reason: "truncated"}
		}
		return buf, err
	}
	return buf, nil
}

// Verify reads and checks every byte of the part: the CRC of data.bin as a
// whole and of every section, and decodes every section.
func (p *Part) Verify() error {
	path := filepath.Join(p.dir, dataFile)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify part: %w", err)
	}
	defer f.Close()
	body := io.NewSectionReader(f, 0, p.size-crcLen)
	h := crc32.New(crcTable)
	if _, err := io.Copy(h, body); err != nil {
		return fmt.Errorf("verify part: %w", err)
	}
	var sum [crcLen]byte
	if _, err := f.ReadAt(sum[:], p.size-crcLen); err != nil {
		return fmt.Errorf("verify part: %w", err)
	}
	if h.Sum32() != binary.LittleEndian.Uint32(sum[:]) {
		return fmt.Errorf("verify part: %w", &CorruptError{Path: path, Reason: "file checksum mismatch"})
	}
	r := GetBlockReader()
	defer PutBlockReader(r)
	for i := range p.blocks {
		r.Reset(p, i)
		if _, err := r.Timestamps(); err != nil {
			return fmt.Errorf("verify part block %d: %w", i, err)
		}
		for _, name := range r.ColumnNames() {
			if _, err := r.Column(name); err != nil {
				return fmt.Errorf("verify part block %d: %w", i, err)
			}
		}
	}
	return nil
}
