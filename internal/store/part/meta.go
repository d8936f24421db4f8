package part

import (
	"encoding/binary"

	"hash/crc32"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, crcTable) }

// metaFixedLen is the fixed-width part of meta.bin after the header: eight
// 8-byte fields. Fixed width lets Write know the file's size before it
// knows DiskBytes, which includes that size.
const metaFixedLen = 8 * 8

// marshalMeta appends meta.bin's bytes to dst.
func marshalMeta(dst []byte, m *Meta) []byte {
	start := len(dst)
	dst = append(dst, metaMagic...)
	dst = append(dst, formatVersion)
	for _, v := range [...]uint64{
		m.Rows, uint64(m.Blocks), uint64(m.MinTime), uint64(m.MaxTime),
		m.FlushSeq, uint64(m.Generation), m.DiskBytes, m.RawBytes,
	} {
		dst = binary.LittleEndian.AppendUint64(dst, v)
	}
	dst = binary.AppendUvarint(dst, uint64(len(m.Sources)))
	for _, s := range m.Sources {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return binary.LittleEndian.AppendUint32(dst, crc(dst[start:]))
}

// metaLen is the size marshalMeta will produce.
func metaLen(m *Meta) int {
	n := headerLen + metaFixedLen + uvarintLen(uint64(len(m.Sources))) + crcLen
	for _, s := range m.Sources {
		n += uvarintLen(uint64(len(s))) + len(s)
	}
	return n
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// unmarshalMeta parses meta.bin; the caller wraps errors as corruption.
func unmarshalMeta(b []byte) (Meta, string) {
	var m Meta
	if len(b) < headerLen+metaFixedLen+1+crcLen {
		return m, "too short"
	}
	body, sum := b[:len(b)-crcLen], binary.LittleEndian.Uint32(b[len(b)-crcLen:])
	if crc(body) != sum {
		return m, "checksum mismatch"
	}
	if string(body[:4]) != metaMagic {
		return m, "bad magic"
	}
	if !readableVersion(body[4]) {
		return m, "unknown format version"
	}
	m.Format = int(body[4])
	f := body[headerLen:]
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(f[i*8:]) }
	m.Rows, m.Blocks, m.MinTime, m.MaxTime = u(0), int(u(1)), int64(u(2)), int64(u(3))
	m.FlushSeq, m.Generation, m.DiskBytes, m.RawBytes = u(4), int(u(5)), u(6), u(7)
	d := decoder{b: f[metaFixedLen:]}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return m, "source count exceeds file"
	}
	for i := uint64(0); i < n && d.err == ""; i++ {
		m.Sources = append(m.Sources, string(d.bytes(d.uvarint())))
	}
	if d.err == "" && len(d.b) != 0 {
		d.err = "trailing bytes"
	}
	return m, d.err
}

// decoder reads varints and byte strings from b, remembering the first
// problem instead of returning an error from every call, so parsers read
// straight through and check once.
type decoder struct {
	b   []byte
	err string
}

func (d *decoder) uvarint() uint64 {
	if d.err != "" {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = "bad uvarint"
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != "" {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = "bad varint"
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) u32() uint32 {
	if d.err != "" {
		return 0
	}
	if len(d.b) < 4 {
		d.err = "truncated"
		d.b = nil
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) byte1() byte {
	if d.err != "" {
		return 0
	}
	if len(d.b) < 1 {
		d.err = "truncated"
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// bytes returns the next n bytes (aliasing the input).
func (d *decoder) bytes(n uint64) []byte {
	if d.err != "" {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = "length exceeds input"
		d.b = nil
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}
