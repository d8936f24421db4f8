// Package part is the on-disk format of LogCaster's immutable parts: one
// directory per part, holding the rows of many streams grouped into blocks
// (one stream a block, sorted by time), each column of a block stored apart,
// compressed and checksummed, with a bloom filter of each column's tokens.
//
// What it promises:
//   - Write and Merge are atomic: a part directory either exists complete
//     (every file and the directory fsynced) or not at all; a crash leaves at
//     most a "<dir>.tmp" directory for the engine to delete.
//   - A part is immutable once written; a *Part and its BlockReaders may be
//     used from many goroutines (one BlockReader per goroutine).
//   - Open reads only the metadata and the index (block headers, blooms) and
//     verifies their checksums; column data is read and verified when a
//     BlockReader asks for it. Damage is reported as an error wrapping
//     *CorruptError, never as a panic.
//
// FORMAT.md in the parent directory draws every file byte by byte.
package part

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

// Part is an open, immutable part.
type Part struct {
	dir  string
	meta Meta
}

// Open opens a part, reading its metadata and index (block headers and
// bloom filters) into memory and verifying their checksums. Damage anywhere
// is returned as an error that wraps *CorruptError.
func Open(dir string) (*Part, error) {
	return nil, errNotImplemented
}

// Dir is the part's directory.
func (p *Part) Dir() string { return p.dir }

// Meta is the part's metadata.
func (p *Part) Meta() Meta { return p.meta }

// Close releases the part's files.
func (p *Part) Close() error { return nil }

// NumBlocks is the number of blocks.
func (p *Part) NumBlocks() int { return 0 }

// BlockTimeRange is the smallest and largest timestamp of block i.
func (p *Part) BlockTimeRange(i int) (min, max int64) { return 0, 0 }

// BlockRows is the number of rows of block i.
func (p *Part) BlockRows(i int) int { return 0 }

// Verify reads and checks every byte of the part (all block checksums).
func (p *Part) Verify() error { return errNotImplemented }
