package part

import (
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// BenchmarkMessageCodecs compresses the corpus's message column, in blocks
// of 8,192 rows of one stream as the store cuts them, with the codecs and
// settings a faster word search could trade for (zstd levels and windows,
// S2), and reports each one's size and single-threaded decode speed:
//
//	LOGCASTER_CORPUS=/tmp/corpus1m.jsonl go test -run XXX -bench MessageCodecs -benchtime 5x ./internal/store/part/
func BenchmarkMessageCodecs(b *testing.B) {
	evs := loadCorpus(b)
	byStream := map[string][]byte{}
	rows := map[string]int{}
	var blocks [][]byte
	for i := range evs {
		k, _ := evs[i].Get("service")
		byStream[k] = append(byStream[k], evs[i].Message...)
		if rows[k]++; rows[k] == 8192 {
			blocks, byStream[k], rows[k] = append(blocks, byStream[k]), nil, 0
		}
	}
	for _, blk := range byStream {
		blocks = append(blocks, blk)
	}
	raw := 0
	for _, blk := range blocks {
		raw += len(blk)
	}
	type codec struct {
		name   string
		encode func([]byte) []byte
		decode func(dst, src []byte) ([]byte, error)
	}
	dec, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	zstdCodec := func(name string, opts ...zstd.EOption) codec {
		enc, _ := zstd.NewWriter(nil, append([]zstd.EOption{zstd.WithEncoderCRC(false)}, opts...)...)
		return codec{name, func(src []byte) []byte { return enc.EncodeAll(src, nil) },
			func(dst, src []byte) ([]byte, error) { return dec.DecodeAll(src, dst[:0]) }}
	}
	codecs := []codec{
		zstdCodec("zstd-3", zstd.WithEncoderLevel(zstd.SpeedDefault)),
		zstdCodec("zstd-7", zstd.WithEncoderLevel(zstd.SpeedBetterCompression)),
		zstdCodec("zstd-11", zstd.WithEncoderLevel(zstd.SpeedBestCompression)),
		zstdCodec("zstd-7-window-64KiB", zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(64<<10)),
		{"s2-better", func(src []byte) []byte { return s2.EncodeBetter(nil, src) },
			func(dst, src []byte) ([]byte, error) { return s2.Decode(dst[:cap(dst)], src) }},
	}
	for _, c := range codecs {
		b.Run(c.name, func(b *testing.B) {
			var comp [][]byte
			size := 0
			for _, blk := range blocks {
				out := c.encode(blk)
				comp = append(comp, out)
				size += len(out)
			}
			var buf []byte
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, src := range comp {
					var err error
					if buf, err = c.decode(buf, src); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(size)/float64(len(evs)), "B/event")
			b.ReportMetric(float64(raw)*float64(b.N)/b.Elapsed().Seconds()/1e6, "decode-MB/s")
		})
	}
}
