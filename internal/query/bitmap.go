package query

import "math/bits"

// bitmap marks the rows of a block that still match. Filters narrow it in
// place and look only at rows still set, so an AND of a cheap selective
// filter and an expensive one runs the expensive one on few rows.
type bitmap struct {
	words []uint64
	n     int
}

// init sizes the bitmap for n rows, all set or all clear, reusing memory.
func (bm *bitmap) init(n int, all bool) {
	nw := (n + 63) / 64
	if cap(bm.words) < nw {
		bm.words = make([]uint64, nw)
	}
	bm.words = bm.words[:nw]
	bm.n = n
	var fill uint64
	if all {
		fill = ^uint64(0)
	}
	for i := range bm.words {
		bm.words[i] = fill
	}
	if all && n%64 != 0 {
		bm.words[nw-1] = (1 << (n % 64)) - 1
	}
}

func (bm *bitmap) isSet(i int) bool { return bm.words[i/64]&(1<<(i%64)) != 0 }

func (bm *bitmap) reset() {
	for i := range bm.words {
		bm.words[i] = 0
	}
}

func (bm *bitmap) copyFrom(o *bitmap) {
	bm.init(o.n, false)
	copy(bm.words, o.words)
}

func (bm *bitmap) or(o *bitmap) {
	for i := range bm.words {
		bm.words[i] |= o.words[i]
	}
}

func (bm *bitmap) andNot(o *bitmap) {
	for i := range bm.words {
		bm.words[i] &^= o.words[i]
	}
}

func (bm *bitmap) isZero() bool {
	for _, w := range bm.words {
		if w != 0 {
			return false
		}
	}
	return true
}

func (bm *bitmap) count() int {
	n := 0
	for _, w := range bm.words {
		n += bits.OnesCount64(w)
	}
	return n
}

// keepIf clears every set row for which keep returns false.
func (bm *bitmap) keepIf(keep func(i int) bool) {
	for wi, w := range bm.words {
		if w == 0 {
			continue
		}
		orig := w
		for w != 0 {
			b := bits.TrailingZeros64(w)
			w &= w - 1
			if !keep(wi*64 + b) {
				orig &^= 1 << b
			}
		}
		bm.words[wi] = orig
	}
}

// last returns the highest set row below end, or -1.
func (bm *bitmap) last(end int) int {
	for i := end - 1; i >= 0; {
		wi := i / 64
		w := bm.words[wi] & (^uint64(0) >> (63 - i%64))
		if w != 0 {
			return wi*64 + 63 - bits.LeadingZeros64(w)
		}
		i = wi*64 - 1
	}
	return -1
}

// setRange sets rows [lo, hi).
func (bm *bitmap) setRange(lo, hi int) {
	for i := lo; i < hi; {
		if i%64 == 0 && hi-i >= 64 {
			bm.words[i/64] = ^uint64(0)
			i += 64
			continue
		}
		bm.words[i/64] |= 1 << (i % 64)
		i++
	}
}

func (bm *bitmap) set(i int) { bm.words[i/64] |= 1 << (i % 64) }

// and keeps the rows set in both bm and o.
func (bm *bitmap) and(o *bitmap) {
	for i := range bm.words {
		bm.words[i] &= o.words[i]
	}
}
