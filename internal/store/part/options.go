package part

import "fmt"

// WriteOptions tune how Write and Merge encode a part.
type WriteOptions struct {
	ZstdLevel     int // the engine uses a fast level for flushes, a stronger one for merges
	MaxBlockRows  int // rows per block at most
	MaxBlockBytes int // raw bytes per block at most
	// Parallelism is how many goroutines encode blocks (tokenizing for the
	// blooms, compressing); 0 means GOMAXPROCS, 1 encodes inline. The
	// bytes written do not depend on it.
	Parallelism int
}

// DefaultWriteOptions are the options for a flush.
func DefaultWriteOptions() WriteOptions {
	return WriteOptions{ZstdLevel: 1, MaxBlockRows: 8192, MaxBlockBytes: 4 << 20}
}

// Validate reports options that cannot work.
func (o WriteOptions) Validate() error {
	if o.ZstdLevel < 1 || o.ZstdLevel > 22 {
		return fmt.Errorf("zstd level %d out of range 1..22", o.ZstdLevel)
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
