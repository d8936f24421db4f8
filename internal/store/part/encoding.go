package part

import (
	"encoding/binary"
	"slices"
	"unsafe"

	"github.com/klauspost/compress/s2"
)

// Section framing: every timestamp and column section in data.bin starts
// with a compression byte and the decoded length.
const (
	compNone byte = 0
	compZstd byte = 1
	compS2   byte = 2
)

// minCompress is the smallest payload worth compressing: below it the
// frame header costs more than it saves.
const minCompress = 64

// Column encodings: the first byte of a decoded column section.
const (
	encPlain byte = 0 // rows × uvarint length, then the values back to back
	encDict  byte = 1 // uvarint n, n × (uvarint length, bytes), rows × 1-byte code
	encConst byte = 2 // uvarint length, bytes: every row has this value
)

// appendSection appends raw as a section to dst, compressed with codec
// (zstd at level) when that makes it smaller.
func appendSection(dst, raw []byte, codec Codec, level int) []byte {
	if len(raw) >= minCompress {
		start := len(dst)
		comp := compZstd
		if codec == CodecS2 {
			comp = compS2
		}
		dst = append(dst, comp)
		dst = binary.AppendUvarint(dst, uint64(len(raw)))
		hdr := len(dst) - start
		if codec == CodecS2 {
			need := s2.MaxEncodedLen(len(raw))
			if need < 0 {
				panic("BUG: section too large for s2")
			}
			dst = slices.Grow(dst, need)
			out := s2.Encode(dst[len(dst):len(dst)+need], raw)
			dst = dst[:len(dst)+len(out)]
		} else {
			dst = getEncoder(level).EncodeAll(raw, dst)
		}
		if len(dst)-start-hdr < len(raw) {
			return dst
		}
		dst = dst[:start]
	}
	dst = append(dst, compNone)
	dst = binary.AppendUvarint(dst, uint64(len(raw)))
	return append(dst, raw...)
}

// decodeSection returns the decoded bytes of section sec: sec itself when
// it is stored uncompressed, else *buf, grown as needed, holding the
// decompressed bytes. It returns a reason on damage.
func decodeSection(bufp *[]byte, sec []byte) ([]byte, string) {
	buf := *bufp
	d := decoder{b: sec}
	comp := d.byte1()
	n := d.uvarint()
	if d.err != "" {
		return buf, "section header: " + d.err
	}
	if n > maxSectionRaw {
		return buf, "section length over limit"
	}
	switch comp {
	case compNone:
		if uint64(len(d.b)) != n {
			return buf, "section length mismatch"
		}
		return d.b, ""
	case compZstd:
		// Grow buf only as far as zstd can plausibly expand this input,
		// so a forged length cannot make us allocate 64 MiB up front.
		if uint64(cap(buf)) < n && n <= uint64(len(d.b))*64+4096 {
			buf = make([]byte, 0, n)
		}
		out, err := getDecoder().DecodeAll(d.b, buf[:0])
		*bufp = out[:0]
		if err != nil {
			return buf, "zstd: " + err.Error()
		}
		if uint64(len(out)) != n {
			return out, "decoded length mismatch"
		}
		return out, ""
	case compS2:
		if dl, err := s2.DecodedLen(d.b); err != nil || uint64(dl) != n {
			return buf, "s2 length mismatch"
		}
		out, err := s2.Decode(buf[:cap(buf)], d.b)
		if err != nil {
			return buf, "s2: " + err.Error()
		}
		*bufp = out[:0]
		return out, ""
	}
	return buf, "unknown compression"
}

// appendTimestamps appends the raw (uncompressed) encoding of ascending
// timestamps ts: uvarint scale, varint first, then (len-1) uvarint deltas
// divided by scale. The scale is the largest of 1e6, 1e3, 1 that divides
// every delta: senders mostly stamp in ms or µs, and dividing shrinks each
// delta by one or two varint bytes before zstd sees it.
func appendTimestamps(dst []byte, ts []int64) []byte {
	scale := uint64(1_000_000)
	for i := 1; i < len(ts) && scale > 1; i++ {
		d := uint64(ts[i] - ts[i-1])
		for d%scale != 0 {
			scale /= 1000
		}
	}
	dst = binary.AppendUvarint(dst, scale)
	if len(ts) == 0 {
		return dst
	}
	dst = binary.AppendVarint(dst, ts[0])
	for i := 1; i < len(ts); i++ {
		dst = binary.AppendUvarint(dst, uint64(ts[i]-ts[i-1])/scale)
	}
	return dst
}

// decodeTimestamps decodes rows timestamps from raw into dst[:0] and checks
// they ascend from minT to maxT.
func decodeTimestamps(dst []int64, raw []byte, rows int, minT, maxT int64) ([]int64, string) {
	d := decoder{b: raw}
	scale := d.uvarint()
	if scale != 1 && scale != 1000 && scale != 1_000_000 {
		return dst, "bad timestamp scale"
	}
	dst = dst[:0]
	if rows == 0 {
		return dst, ""
	}
	if len(raw) < rows { // every row takes at least one byte
		return dst, "timestamps truncated"
	}
	t := d.varint()
	if d.err != "" {
		return dst, "timestamps: " + d.err
	}
	if cap(dst) < rows {
		dst = make([]int64, 0, rows)
	}
	dst = append(dst, t)
	// Deltas of a stream's events take one or two bytes, mixed at random
	// in a dense stream: those are decoded without a branch on their
	// length (a mispredicted one per row made the 10M-event store's
	// timestamps cost 17 times the 1M one's instead of 10), and checked
	// against the block's range with a multiplication (a 14-bit delta
	// times the scale cannot overflow) rather than a division per row.
	b := d.b
	for i := 1; i < rows; i++ {
		var v uint64
		if len(b) >= 2 {
			b0, b1 := uint64(b[0]), uint64(b[1])
			c := b0 >> 7 // 1 when a second byte follows
			if c&(b1>>7) == 0 {
				v = b0&0x7f | (b1<<7)&-c
				b = b[1+c:]
				delta := int64(v * scale)
				if delta > maxT-t {
					return dst, "timestamp out of block range"
				}
				t += delta
				dst = append(dst, t)
				continue
			}
		}
		var n int
		if v, n = binary.Uvarint(b); n <= 0 {
			return dst, "timestamps: bad uvarint"
		}
		b = b[n:]
		// v*scale <= maxT-t, asked without the multiplication overflowing.
		if v > uint64(maxT-t)/scale {
			return dst, "timestamp out of block range"
		}
		t += int64(v * scale)
		dst = append(dst, t)
	}
	if len(b) != 0 {
		return dst, "timestamps: trailing bytes"
	}
	if dst[0] != minT || t != maxT {
		return dst, "timestamps disagree with block header"
	}
	return dst, ""
}

// appendPlain appends the encPlain encoding of vals.
func appendPlain(dst []byte, vals []string) []byte {
	dst = append(dst, encPlain)
	for _, v := range vals {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
	}
	for _, v := range vals {
		dst = append(dst, v...)
	}
	return dst
}

// appendDict appends the encDict encoding of vals, whose distinct values
// are dict and whose codes (indexes into dict) are codes.
func appendDict(dst []byte, dict []string, codes []byte) []byte {
	dst = append(dst, encDict)
	dst = binary.AppendUvarint(dst, uint64(len(dict)))
	for _, v := range dict {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return append(dst, codes...)
}

func appendConst(dst []byte, v string) []byte {
	dst = append(dst, encConst)
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}

// decodeCodes parses a dict or const column section: its values into
// dict[:0] (strings aliasing raw) and, for dict, the rows' codes (aliasing
// raw, each checked to be < len(dict)); a const column has one value and
// nil codes (every row is code 0).
func decodeCodes(dict []string, raw []byte, rows int) ([]string, []byte, string) {
	d := decoder{b: raw}
	dict = dict[:0]
	switch d.byte1() {
	case encDict:
		n := d.uvarint()
		if n == 0 || n > maxDictLen {
			return dict, nil, "bad dictionary size"
		}
		for i := uint64(0); i < n; i++ {
			dict = append(dict, bstr(d.bytes(d.uvarint())))
		}
		if d.err != "" {
			return dict, nil, "dictionary: " + d.err
		}
		if len(d.b) != rows {
			return dict, nil, "dictionary codes length mismatch"
		}
		for _, c := range d.b {
			if int(c) >= len(dict) {
				return dict, nil, "dictionary code out of range"
			}
		}
		return dict, d.b, ""
	case encConst:
		v := bstr(d.bytes(d.uvarint()))
		if d.err != "" {
			return dict, nil, "const column: " + d.err
		}
		if len(d.b) != 0 {
			return dict, nil, "const column: trailing bytes"
		}
		return append(dict, v), nil, ""
	case encPlain:
		return dict, nil, "plain column has no codes"
	}
	if d.err != "" {
		return dict, nil, "column: " + d.err
	}
	return dict, nil, "unknown column encoding"
}

// appendCoded appends the rows' values of a dict (codes) or const (nil
// codes) column to dst.
func appendCoded(dst, dict []string, codes []byte, rows int) []string {
	if codes == nil {
		for i := 0; i < rows; i++ {
			dst = append(dst, dict[0])
		}
		return dst
	}
	for _, c := range codes {
		dst = append(dst, dict[c])
	}
	return dst
}

// decodePlain parses the body of an encPlain column (after the encoding
// byte): it appends to ends[:0] the end offset in vals of each of rows
// values (row i is vals[ends[i-1]:ends[i]], from 0 for row 0) and returns
// vals, the values back to back. One pass with an inline one-byte varint
// case: lengths under 128 are most of them, and binary.Uvarint through
// decoder per row was 13% of a message-column scan.
func decodePlain(ends []uint32, b []byte, rows int) ([]uint32, []byte, string) {
	ends = ends[:0]
	if len(b) < rows { // every row takes at least one length byte
		return ends, nil, "plain column truncated"
	}
	p := 0
	var end uint64
	for i := 0; i < rows; i++ {
		if p >= len(b) {
			return ends, nil, "plain column lengths truncated"
		}
		if c := b[p]; c < 0x80 {
			end += uint64(c)
			p++
		} else {
			v, n := binary.Uvarint(b[p:])
			if n <= 0 {
				return ends, nil, "plain column lengths: bad uvarint"
			}
			end += v
			p += n
		}
		if end > maxSectionRaw { // also keeps the sum from wrapping
			return ends, nil, "plain column length mismatch"
		}
		ends = append(ends, uint32(end))
	}
	vals := b[p:]
	if end != uint64(len(vals)) {
		return ends, nil, "plain column length mismatch"
	}
	return ends, vals, ""
}

// appendPlainStrings appends the values of a decoded plain column to dst,
// as strings aliasing vals.
func appendPlainStrings(dst []string, vals []byte, ends []uint32) []string {
	start := uint32(0)
	for _, e := range ends {
		dst = append(dst, bstr(vals[start:e]))
		start = e
	}
	return dst
}

// bstr views b as a string without copying; b must not change while the
// string is in use.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
