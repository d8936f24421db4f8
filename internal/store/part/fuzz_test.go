package part

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// FuzzBlockDecode feeds arbitrary bytes to the section, column and
// timestamp decoders: they must return a reason, never panic or allocate
// beyond the limits.
func FuzzBlockDecode(f *testing.F) {
	var raw []byte
	f.Add(appendSection(nil, appendPlain(nil, []string{"a", "", "hello world"}), CodecZstd, 1), 3)
	f.Add(appendSection(nil, appendDict(nil, []string{"x", "y"}, []byte{0, 1, 1, 0}), CodecZstd, 1), 4)
	f.Add(appendSection(nil, appendConst(nil, "same"), CodecZstd, 1), 5)
	f.Add(appendSection(nil, appendTimestamps(nil, []int64{1e9, 2e9, 2e9, 5e9}), CodecZstd, 1), 4)
	f.Add(appendSection(nil, appendPlain(nil, []string{"s2 value one", "s2 value one", "s2 value two", "s2 value one"}), CodecS2, 0), 4)
	ts := make([]int64, 100) // long enough for S2 to compress
	for i := range ts {
		ts[i] = 1e9 + int64(i)*4e7
	}
	f.Add(appendSection(nil, appendTimestamps(nil, ts), CodecS2, 0), len(ts))
	long := make([]string, 200)
	for i := range long {
		long[i] = "value number one two three"
	}
	f.Add(appendSection(nil, appendPlain(nil, long), CodecZstd, 3), 200)
	var te templateEncoder
	msgs := make([]string, 64)
	for i := range msgs {
		msgs[i] = fmt.Sprintf("Received block blk_%d of size %d from /10.0.0.%d", i*7919, i*64, i%9)
	}
	tsec, _, ok := te.appendTemplates(nil, msgs, 64*50, CodecZstd, 1, nil)
	if !ok {
		f.Fatal("the template seed is not stored as templates")
	}
	f.Add(tsec, len(msgs))
	tsec, _, _ = te.appendTemplates(nil, msgs, 64*50, CodecS2, 0, nil)
	f.Add(tsec, len(msgs))
	f.Fuzz(func(t *testing.T, sec []byte, rows int) {
		if rows < 0 || rows > maxBlockRows {
			return
		}
		dec, reason := decodeSection(&raw, sec)
		if reason != "" {
			return
		}
		vals, _, reason := decodeColumn(nil, nil, dec, rows)
		if reason == "" && len(vals) != rows {
			t.Fatalf("%d values for %d rows", len(vals), rows)
		}
		ts, reason := decodeTimestamps(nil, dec, rows, 1e9, 5e9)
		if reason == "" {
			if len(ts) != rows {
				t.Fatalf("%d timestamps for %d rows", len(ts), rows)
			}
			for i := 1; i < len(ts); i++ {
				if ts[i] < ts[i-1] {
					t.Fatalf("timestamps descend")
				}
			}
		}
	})
}

// FuzzOpen puts arbitrary bytes in place of index.bin's body (framed with a
// valid header and CRC, so the parser itself is exercised) and of
// meta.bin: opening and reading the part must fail cleanly or succeed,
// never panic.
func FuzzOpen(f *testing.F) {
	src := filepath.Join(f.TempDir(), "src")
	evs := genEvents(rand.New(rand.NewSource(4)), 300)
	if _, err := Write(src, evs, Meta{}, WriteOptions{ZstdLevel: 1, MaxBlockRows: 50, MaxBlockBytes: 1 << 20}); err != nil {
		f.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(src, indexFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(index[headerLen:len(index)-crcLen], false)
	f.Add([]byte{0, 0, 0}, false)
	f.Add([]byte{1, 1, 'a', 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0}, true)
	f.Fuzz(func(t *testing.T, body []byte, asMeta bool) {
		dir := filepath.Join(t.TempDir(), "p")
		copyPart(t, src, dir)
		name, magic := indexFile, indexMagic
		if asMeta {
			name, magic = metaFile, metaMagic
		}
		b := append([]byte(magic), formatVersion)
		b = append(b, body...)
		b = binary.LittleEndian.AppendUint32(b, crc(b))
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := openAndReadAll(dir); err != nil && !IsCorrupt(err) {
			t.Fatalf("error not marked corrupt: %v", err)
		}
	})
}

// decodeColumn decodes a column section's raw bytes into rows strings
// appended to dst[:0], through the same functions BlockReader uses
// (decodePlain, decodeCodes), so the fuzz test reaches every encoding.
func decodeColumn(dst []string, dict []string, raw []byte, rows int) ([]string, []string, string) {
	dst = dst[:0]
	if len(raw) > 0 && raw[0] == encPlain {
		ends, vals, reason := decodePlain(nil, raw[1:], rows)
		if reason != "" {
			return dst, dict, reason
		}
		return appendPlainStrings(dst, vals, ends), dict, ""
	}
	if len(raw) > 0 && raw[0] == encTemplate {
		var tc templateCol
		if reason := tc.decode(raw, len(raw), rows); reason != "" {
			return dst, dict, reason
		}
		for k := range tc.vs {
			if reason := tc.decodeVars(k); reason != "" {
				return dst, dict, reason
			}
		}
		flat, ends, reason := tc.appendValues(nil, nil)
		if reason != "" {
			return dst, dict, reason
		}
		return appendPlainStrings(dst, flat, ends), dict, ""
	}
	dict, codes, reason := decodeCodes(dict, raw, rows)
	if reason != "" {
		return dst, dict, reason
	}
	return appendCoded(dst, dict, codes, rows), dict, ""
}
