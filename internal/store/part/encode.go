package part

import (
	"fmt"
	"sync"
	"unsafe"
)

// blockJob is one block on its way to disk: filled by the Write or Merge
// loop, encoded by a worker (or inline), then committed to the files in
// submission order by the partWriter. Jobs circulate: a committed job's
// builder and buffers are reused for a later block.
type blockJob struct {
	b   *blockBuilder
	key string // stream key

	// Set by encode.
	rows       int
	minT, maxT int64
	raw        int
	data       []byte // the timestamp section, then the column sections
	blooms     []byte // one bloom per column section
	tsLen      int
	tsCRC      uint32
	cols       []encodedCol
	err        error
	done       chan struct{} // receives once encode has finished
}

type encodedCol struct {
	name     string
	secLen   int
	crc      uint32
	bloomLen int
	headLen  int // of a template column's section; 0 for the others
	sumLen   int // of its summary in blooms.bin (summary.go); 0: none
}

// Jobs and encoders are pooled across Writes and Merges: their buffers
// grow to the size of a block once, and a flush every second that
// allocated them afresh made garbage the GC then had to find among a full
// head of events (77 MB/op, most of Write's CPU went to GC).
var (
	jobPool     = sync.Pool{New: func() any { return &blockJob{b: &blockBuilder{}, done: make(chan struct{}, 1)} }}
	encoderPool = sync.Pool{New: func() any { return &blockEncoder{dictIdx: map[string]int{}} }}
)

func getBlockJob(schema *colSchema, copyStrings bool) *blockJob {
	j := jobPool.Get().(*blockJob)
	j.b.reuse(schema, copyStrings)
	return j
}

func putBlockJob(j *blockJob) {
	j.b.reset()
	j.b.schema = nil
	j.key = ""
	j.cols = j.cols[:0]
	jobPool.Put(j)
}

func getBlockEncoder(opts WriteOptions) *blockEncoder {
	e := encoderPool.Get().(*blockEncoder)
	e.codec, e.level, e.noBlooms = opts.Codec, opts.ZstdLevel, opts.NoBlooms
	return e
}

func putBlockEncoder(e *blockEncoder) {
	clear(e.dict) // no references to the last block's strings
	clear(e.dictIdx)
	encoderPool.Put(e)
}

// blockEncoder is the scratch of one encoding goroutine, reused from block
// to block.
type blockEncoder struct {
	codec     Codec
	level     int
	noBlooms  bool
	raw       []byte
	set       hashSet
	dictIdx   map[string]int
	dict      []string
	codes     []byte
	tmpl      templateEncoder
	tokens    tokenCounter
	sumCounts [maxDictLen]uint32
}

// encode encodes j's rows (sorted by time) into j's outputs and resets
// j's builder.
func (e *blockEncoder) encode(j *blockJob) {
	b := j.b
	j.err = nil
	j.data, j.blooms, j.cols = j.data[:0], j.blooms[:0], j.cols[:0]
	j.rows = b.rows()
	if j.rows == 0 {
		return
	}
	b.finish()
	ts := b.ts
	j.minT, j.maxT = ts[0], ts[j.rows-1]
	if j.minT > j.maxT {
		panic("BUG: block rows not sorted by time")
	}
	j.raw = b.raw

	e.raw = appendTimestamps(e.raw[:0], ts)
	j.data = appendSection(j.data, e.raw, e.codec, e.level)
	j.tsLen = len(j.data)
	j.tsCRC = crc(j.data)

	for i := range b.cols {
		c := &b.cols[i]
		if c.nonEmpty == 0 {
			continue
		}
		e.set.reset()
		var headLen int
		var enc byte
		e.raw, headLen, enc = e.encodeColumn(e.raw[:0], c.vals, c.bytes)
		if len(e.raw) > maxSectionRaw {
			j.err = fmt.Errorf("column %q of a block is %d bytes, over the %d limit", c.name, len(e.raw), maxSectionRaw)
			break
		}
		start, bstart := len(j.data), len(j.blooms)
		if headLen > 0 {
			j.data = append(j.data, e.raw...)
		} else {
			j.data = appendSection(j.data, e.raw, e.codec, e.level)
		}
		if !e.noBlooms {
			j.blooms = appendBloom(j.blooms, e.set.keys)
		}
		sstart := len(j.blooms)
		j.blooms = e.appendSummary(j.blooms, enc, j.rows)
		j.cols = append(j.cols, encodedCol{
			name:     c.name,
			secLen:   len(j.data) - start,
			crc:      crc(j.data[start:]),
			bloomLen: sstart - bstart,
			headLen:  headLen,
			sumLen:   len(j.blooms) - sstart,
		})
	}
	b.reset()
}

// maxDictAvgLen is the longest average value for which encodeColumn tries
// a dictionary. Longer values are messages and stack traces: on the corpus
// the attempt cost 0.6 of 1.5 µs/event of a block's encoding (comparing and
// hashing long strings until 257 distinct ones were seen) and almost never
// succeeded; when it would have, zstd finds the repeats anyway.
const maxDictAvgLen = 48

// encodeColumn appends the raw encoding of vals (size bytes in all) to dst,
// choosing const, dict, templates (zstd parts only) or plain, and adds the
// tokens of the values to e.set. Dictionary and constant columns tokenize
// each distinct value once. A template column comes back framed as a whole
// section, to be stored as it is, with the length of its head (headLen >
// 0); the others raw. enc is the encoding chosen (encDict for const too),
// which decides the column's summary.
func (e *blockEncoder) encodeColumn(dst []byte, vals []string, size int) (out []byte, headLen int, enc byte) {
	if size <= maxDictAvgLen*len(vals) {
		if out, ok := e.encodeDict(dst, vals); ok {
			return out, 0, encDict
		}
	}
	if e.codec == CodecZstd {
		set := &e.set
		if e.noBlooms {
			set = nil
		}
		if out, headLen, ok := e.tmpl.appendTemplates(dst, vals, size, e.codec, e.level, set); ok {
			return out, headLen, encTemplate
		}
	}
	prev := ""
	for i, v := range vals {
		// Neighbouring rows often repeat a value (a trace's id, a host).
		// Long values are only compared by address: messages of one
		// template share length and prefix, and comparing their bytes cost
		// 0.2 µs/event on the corpus, more than the repeats saved.
		if !e.noBlooms && (i == 0 || !sameString(v, prev, maxCompareLen)) {
			e.set.addTokens(v)
		}
		prev = v
	}
	return appendPlain(dst, vals), 0, encPlain
}

// encodeDict appends vals as const or dict when they have at most
// maxDictLen distinct values; false (and dst unchanged) when they have more.
func (e *blockEncoder) encodeDict(dst []byte, vals []string) ([]byte, bool) {
	clear(e.dictIdx)
	e.dict = e.dict[:0]
	e.codes = e.codes[:0]
	prev, code := "", -1
	for _, v := range vals {
		// Neighbouring rows mostly repeat a value (an index, a level, a
		// host): compare with the last one before hashing into the map,
		// but only short values byte by byte (see sameString).
		if code < 0 || !sameString(v, prev, maxDictCompareLen) {
			i, ok := e.dictIdx[v]
			if !ok {
				if len(e.dict) == maxDictLen {
					return dst, false
				}
				i = len(e.dict)
				e.dictIdx[v] = i
				e.dict = append(e.dict, v)
			}
			prev, code = v, i
		}
		e.codes = append(e.codes, byte(code))
	}
	if !e.noBlooms {
		for _, v := range e.dict {
			e.set.addTokens(v)
		}
	}
	if len(e.dict) == 1 {
		return appendConst(dst, e.dict[0]), true
	}
	return appendDict(dst, e.dict, e.codes), true
}

// appendSummary appends the summary of the column encodeColumn just
// encoded as enc (encDict standing for const too), if that encoding has
// one: a const or dict column's values, a template column's tokens
// (summary.go).
func (e *blockEncoder) appendSummary(dst []byte, enc byte, rows int) []byte {
	switch enc {
	case encDict:
		codes := e.codes
		if len(e.dict) == 1 {
			codes = nil
		}
		return appendValueSummary(dst, e.dict, codes, rows, &e.sumCounts)
	case encTemplate:
		return e.tokens.appendTokenSummary(dst, e.tmpl.tmpls, e.tmpl.codes, e.tmpl.grams[:])
	}
	return dst
}

// maxCompareLen is the longest value encodeColumn compares byte by byte
// with its neighbour to skip tokenizing it again; maxDictCompareLen the
// longest encodeDict compares before a map lookup (which compares again on
// a hit: trace ids and short messages were 0.45 µs/event of memeqbody).
const (
	maxCompareLen     = 64
	maxDictCompareLen = 16
)

// sameString reports whether a and b are equal, comparing bytes only when
// they are at most limit long; longer strings are equal only when they are
// the same memory.
func sameString(a, b string, limit int) bool {
	if len(a) != len(b) {
		return false
	}
	if unsafe.StringData(a) == unsafe.StringData(b) {
		return true
	}
	return len(a) <= limit && a == b
}
