package part

// The files of a part, named in this one place. FORMAT.md draws each.
const (
	metaFile   = "meta.bin"   // Meta, fixed-width fields
	indexFile  = "index.bin"  // column names, stream keys, block headers
	bloomsFile = "blooms.bin" // one bloom filter per column of each block
	dataFile   = "data.bin"   // timestamp and column sections of every block
	tmpSuffix  = ".tmp"       // a part being written; never opened
)

// Magic numbers open every file so a file put in the wrong place (or a
// zeroed one) is caught before its contents are parsed.
const (
	metaMagic   = "LCPM"
	indexMagic  = "LCPI"
	bloomsMagic = "LCPB"
	dataMagic   = "LCPD"
)

// formatVersion is written after each magic; Open reads it and the
// versions since minFormatVersion, refusing others. Version 4 added
// column summaries (summary.go) after the blooms, version 3
// template columns (encTemplate), version 2 S2-compressed sections
// (compression byte 2); nothing was deployed with version 1, so it is not
// read.
const (
	formatVersion    = 4
	minFormatVersion = 2
)

// readableVersion reports whether Open reads files of format version v.
func readableVersion(v byte) bool { return minFormatVersion <= v && v <= formatVersion }

// headerLen is the magic and the version byte at the start of each file.
const headerLen = 5

// crcLen is the CRC-32C trailer of a file.
const crcLen = 4

// Limits that keep a damaged or hostile file from making the reader
// allocate without bound; Write refuses input that would exceed them.
const (
	// maxBlockRows bounds the rows of one block (16 times the default).
	maxBlockRows = 1 << 17
	// maxSectionRaw bounds the decoded size of one section: a block holds
	// at most MaxBlockBytes plus one row, and a row's values are bounded by
	// the ingest line limit, far below this.
	maxSectionRaw = 64 << 20
	// maxNameLen bounds a column name or stream key.
	maxNameLen = 64 << 10
	// maxDictLen is the most distinct values a dictionary column holds:
	// a row's code is one byte.
	maxDictLen = 256
)
