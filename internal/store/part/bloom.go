package part

import (
	"encoding/binary"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"github.com/logcaster/logcaster/internal/tokenize"
)

// Bloom filters: one per column of each block, over the tokenize.Hash of
// every token (tokenize.Each, tokens up to tokenize.MaxTokenLen bytes) of
// the column's values. Layout: one byte k (the number of probes), then the
// bit array as little-endian uint64 words. A token's probes are
// h1 + i*h2 (i < k), with h1 and h2 the low and high 32 bits of its hash,
// each reduced to [0, m) by multiply-shift, m = 64 × words.
//
// bloomBitsPerToken was measured on the gencorpus data: at 10 bits and k=7
// the false-positive rate is about 1%, so a needle over 1M events (~130
// blocks) touches the right block and one or two others.
const (
	bloomBitsPerToken = 10
	bloomK            = 7
	// bloomMaxK bounds k read from a file: more probes only cost time.
	bloomMaxK = 16
)

// bloomLen is the encoded size of a bloom over n distinct tokens.
func bloomLen(n int) int {
	words := (n*bloomBitsPerToken + 63) / 64
	return 1 + 8*max(words, 1)
}

// appendBloom appends a bloom over the distinct hashes hs to dst.
func appendBloom(dst []byte, hs []uint64) []byte {
	start := len(dst)
	n := bloomLen(len(hs))
	dst = append(dst, make([]byte, n)...)
	b := dst[start:]
	b[0] = bloomK
	words := b[1:]
	m := uint64(len(words) / 8 * 64)
	for _, h := range hs {
		h1, h2 := uint32(h), uint32(h>>32)|1
		for i := uint32(0); i < bloomK; i++ {
			bit := (uint64(h1+i*h2) * m) >> 32
			w := words[bit/64*8:]
			binary.LittleEndian.PutUint64(w, binary.LittleEndian.Uint64(w)|1<<(bit%64))
		}
	}
	return dst
}

// bloomMayContain reports whether the bloom b may hold every hash in hs.
// An empty or malformed b (never produced by Write, and rejected by Open)
// answers true, which is always safe.
func bloomMayContain(b []byte, hs []uint64) bool {
	if len(b) < 9 || (len(b)-1)%8 != 0 {
		return true
	}
	k := uint32(b[0])
	words := b[1:]
	m := uint64(len(words) / 8 * 64)
	for _, h := range hs {
		h1, h2 := uint32(h), uint32(h>>32)|1
		for i := uint32(0); i < k; i++ {
			bit := (uint64(h1+i*h2) * m) >> 32
			if binary.LittleEndian.Uint64(words[bit/64*8:])&(1<<(bit%64)) == 0 {
				return false
			}
		}
	}
	return true
}

// hashSet collects the distinct token hashes of one column of a block. It
// is an open-addressing table reused from block to block: sorting the
// hashes instead cost several times more at flush rates.
type hashSet struct {
	slots []uint64 // 0 marks an empty slot; a zero hash is kept in hasZero
	keys  []uint64 // distinct hashes in insertion order
	zero  bool
}

func (s *hashSet) reset() {
	if len(s.keys)*8 < len(s.slots) {
		// A small column after a big one (a level after a message):
		// find and zero its few slots rather than clear the whole table.
		mask := uint64(len(s.slots) - 1)
		for _, h := range s.keys {
			if h == 0 {
				continue // kept in zero, not in slots
			}
			i := (h * 0x9E3779B97F4A7C15) >> 20 & mask
			for s.slots[i] != h {
				i = (i + 1) & mask
			}
			s.slots[i] = 0
		}
	} else {
		clear(s.slots)
	}
	s.keys = s.keys[:0]
	s.zero = false
}

func (s *hashSet) add(h uint64) {
	if h == 0 {
		if !s.zero {
			s.zero = true
			s.keys = append(s.keys, 0)
		}
		return
	}
	if len(s.keys)*2 >= len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	// The hash is already uniform (xxhash); mix anyway so probing does not
	// correlate with the bloom's use of the low bits.
	i := (h * 0x9E3779B97F4A7C15) >> 20 & mask
	for {
		switch s.slots[i] {
		case h:
			return
		case 0:
			s.slots[i] = h
			s.keys = append(s.keys, h)
			return
		}
		i = (i + 1) & mask
	}
}

func (s *hashSet) grow() {
	n := max(1024, 2*len(s.slots))
	s.slots = make([]uint64, n)
	mask := uint64(n - 1)
	for _, h := range s.keys {
		if h == 0 {
			continue
		}
		i := (h * 0x9E3779B97F4A7C15) >> 20 & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = h
	}
}

// addTokens adds the hashes of the indexable tokens of v: the same hashes
// as tokenize.Hash of every tokenize.Each token no longer than
// tokenize.MaxTokenLen. ASCII text, nearly all of a log, takes a loop that
// folds case through a table as it walks and hashes each token once; the
// first non-ASCII byte hands the whole value to the general path (adding a
// hash twice is harmless in a set). Measured on the corpus flush this cut
// bloom building from 0.86 to about 0.3 µs/event.
func (s *hashSet) addTokens(v string) {
	var buf [tokenize.MaxTokenLen]byte
	n := 0        // bytes of the current token, folded, in buf
	long := false // the current token is longer than MaxTokenLen: not indexed
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= utf8.RuneSelf {
			s.addTokensSlow(v)
			return
		}
		if f := tokenFold[c]; f != 0 {
			if n < len(buf) {
				buf[n] = f
				n++
			} else {
				long = true
			}
			continue
		}
		if n > 0 && !long {
			s.add(xxhash.Sum64(buf[:n]))
		}
		n, long = 0, false
	}
	if n > 0 && !long {
		s.add(xxhash.Sum64(buf[:n]))
	}
}

// addTokensSlow is addTokens for any UTF-8 text.
func (s *hashSet) addTokensSlow(v string) {
	tokenize.Each(v, func(tok string) {
		if len(tok) <= tokenize.MaxTokenLen {
			s.add(tokenize.Hash(tok))
		}
	})
}

// tokenFold maps an ASCII token byte to its lower case and every other
// byte to 0 (which tokenize.IsTokenByte never accepts).
var tokenFold = func() (t [256]byte) {
	for c := 0; c < utf8.RuneSelf; c++ {
		if tokenize.IsTokenByte(byte(c)) {
			t[c] = byte(unicode.ToLower(rune(c)))
		}
	}
	return t
}()
