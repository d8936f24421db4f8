package part

import "sync"

// BlockReader reads one block of a part lazily and implements the
// store.Block interface: nothing is read from disk until a column is asked
// for, and each column's checksum is verified when it is read. It reuses its
// buffers across Reset calls.
type BlockReader struct {
	p *Part
	i int
}

var blockReaderPool = sync.Pool{New: func() any { return &BlockReader{} }}

// GetBlockReader returns a BlockReader from a pool.
func GetBlockReader() *BlockReader { return blockReaderPool.Get().(*BlockReader) }

// PutBlockReader returns r to the pool; r and everything it returned must
// not be used afterwards.
func PutBlockReader(r *BlockReader) {
	r.p = nil
	blockReaderPool.Put(r)
}

// Reset points r at block i of p.
func (r *BlockReader) Reset(p *Part, i int) { r.p, r.i = p, i }

// Rows is the number of rows of the block.
func (r *BlockReader) Rows() int { return 0 }

// TimeRange is the smallest and largest timestamp of the block.
func (r *BlockReader) TimeRange() (min, max int64) { return 0, 0 }

// MayContain reports whether the column may hold every token whose
// tokenize.Hash is given; false is definite.
func (r *BlockReader) MayContain(column string, hashes []uint64) bool { return true }

// Timestamps returns the rows' timestamps, ascending.
func (r *BlockReader) Timestamps() ([]int64, error) { return nil, errNotImplemented }

// Column returns the values of a column, "" where a row lacks it, or nil
// when the block has no such column.
func (r *BlockReader) Column(name string) ([]string, error) { return nil, errNotImplemented }

// ColumnNames lists the block's columns.
func (r *BlockReader) ColumnNames() []string { return nil }
