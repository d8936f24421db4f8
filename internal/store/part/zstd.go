package part

import (
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstd encoders and decoders are expensive to create (they own large
// tables); one of each per level lives for the life of the process. Their
// EncodeAll/DecodeAll are safe for concurrent use.
var (
	zstdMu       sync.Mutex
	zstdEncoders = map[zstd.EncoderLevel]*zstd.Encoder{}
	zstdDecoder  *zstd.Decoder
	zstdDecOnce  sync.Once
)

func getEncoder(level int) *zstd.Encoder {
	l := zstd.EncoderLevelFromZstd(level)
	zstdMu.Lock()
	defer zstdMu.Unlock()
	e := zstdEncoders[l]
	if e == nil {
		var err error
		// Our own CRC covers every section; zstd's would be checked twice.
		e, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(l), zstd.WithEncoderCRC(false),
			zstd.WithZeroFrames(true))
		if err != nil {
			panic("BUG: zstd encoder with static options: " + err.Error())
		}
		zstdEncoders[l] = e
	}
	return e
}

func getDecoder() *zstd.Decoder {
	zstdDecOnce.Do(func() {
		var err error
		zstdDecoder, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(maxSectionRaw), zstd.IgnoreChecksum(true))
		if err != nil {
			panic("BUG: zstd decoder with static options: " + err.Error())
		}
	})
	return zstdDecoder
}
