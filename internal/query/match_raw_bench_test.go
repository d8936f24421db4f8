package query

import (
	"os"
	"strings"
	"testing"
	"unsafe"
)

// BenchmarkRawScan compares a whole-column search with the per-row one on
// the gencorpus sample (1,500 messages, 205 kB), every row set:
//
//	go test -run XXX -bench RawScan -benchmem ./internal/query/
func BenchmarkRawScan(b *testing.B) {
	raw, err := os.ReadFile("testdata/gencorpus_messages.txt")
	if err != nil {
		b.Fatal(err)
	}
	vals := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	d, ends := flatten(vals)
	data := unsafe.String(unsafe.SliceData(d), len(d))
	var bm, hits bitmap
	word := newTokenMatcher("from", false)
	sub := newSubstrMatcher("ockMana")
	b.Run("word/per-row", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bm.init(len(vals), true)
			bm.keepIf(func(i int) bool { return word.match(vals[i]) })
		}
	})
	b.Run("word/raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bm.init(len(vals), true)
			hits.init(len(vals), false)
			scanTokens(&word, nil, data, ends, &bm, &hits)
			bm.and(&hits)
		}
	})
	b.Run("substr/per-row", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bm.init(len(vals), true)
			bm.keepIf(func(i int) bool { return sub.match(vals[i]) })
		}
	})
	b.Run("substr/raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bm.init(len(vals), true)
			hits.init(len(vals), false)
			scanSubstr(&sub, data, ends, &bm, &hits)
			bm.and(&hits)
		}
	})
}
