package part

import "fmt"

// Codec is how Write and Merge compress the sections of a part.
type Codec uint8

const (
	// CodecZstd compresses with zstd at WriteOptions.ZstdLevel: the
	// smallest parts, for merges (the zero value, so options built from
	// DefaultWriteOptions keep it).
	CodecZstd Codec = iota
	// CodecS2 compresses with S2 (klauspost/compress/s2, block format).
	// On the gencorpus messages it wrote about twice as fast as zstd level
	// 1 (637 vs 316 MB/s) and decoded faster (1.6 vs 1.3 GB/s), at 1.7
	// times the bytes (62 vs 37 B/event): a fit for flush parts, which a
	// merge soon reads once and rewrites with zstd.
	CodecS2
)

// WriteOptions tune how Write and Merge encode a part.
type WriteOptions struct {
	Codec         Codec
	ZstdLevel     int // for CodecZstd: the engine uses a fast level for flushes, a stronger one for merges
	MaxBlockRows  int // rows per block at most
	MaxBlockBytes int // raw bytes per block at most
	// Parallelism is how many goroutines encode blocks (tokenizing for the
	// blooms, compressing); 0 means GOMAXPROCS, 1 encodes inline. The
	// bytes written do not depend on it.
	Parallelism int
	// NoBlooms writes no bloom filters: every block then "may contain"
	// any token. The engine's flushes use it, since a flushed part lives
	// only until it is merged (merges build the filters), and hashing every
	// token was a fifth of the server's CPU at full ingest.
	NoBlooms bool
}

// DefaultWriteOptions are the options for a flush.
func DefaultWriteOptions() WriteOptions {
	return WriteOptions{ZstdLevel: 1, MaxBlockRows: 8192, MaxBlockBytes: 4 << 20}
}

// Validate reports options that cannot work.
func (o WriteOptions) Validate() error {
	switch o.Codec {
	case CodecZstd:
		if o.ZstdLevel < 1 || o.ZstdLevel > 22 {
			return fmt.Errorf("zstd level %d out of range 1..22", o.ZstdLevel)
		}
	case CodecS2:
	default:
		return fmt.Errorf("unknown codec %d", o.Codec)
	}
	if o.MaxBlockRows < 1 {
		return fmt.Errorf("max block rows %d must be positive", o.MaxBlockRows)
	}
	if o.MaxBlockBytes < 1 {
		return fmt.Errorf("max block bytes %d must be positive", o.MaxBlockBytes)
	}
	if o.Parallelism < 0 {
		return fmt.Errorf("parallelism %d must not be negative", o.Parallelism)
	}
	return nil
}
