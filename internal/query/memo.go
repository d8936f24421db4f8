package query

import "unsafe"

// valueMemo remembers a small per-value result (a filter's verdict, a
// group's local id) keyed by the identity of the string: its data pointer
// and length. Two strings with the same pointer and length have the same
// bytes, so a hit is always right whatever the store does; a miss only
// costs the computation. It pays off on dictionary-encoded columns (level,
// service, host), whose rows share a few backing strings, so a filter or a
// group-by looks at each distinct value once per block instead of once per
// row.
//
// On a column of distinct strings (messages) every lookup misses; after
// memoProbe lookups with fewer than one hit in memoMinHitRate the memo
// turns itself off for the rest of the block, so the loss there is bounded
// to a few nanoseconds on the first rows.
type valueMemo struct {
	slots  [memoSlots]memoSlot
	looks  int
	hits   int
	off    bool
	filled bool
}

type memoSlot struct {
	p   *byte
	n   int
	val int32
}

const (
	// memoSlots is a power of two above maxDictLen (256) of the store, so
	// a block's dictionary rarely collides with itself.
	memoSlots = 512
	// memoProbe lookups decide whether the memo stays on for a block.
	memoProbe = 256
	// memoMinHitRate: below one hit in this many lookups, it turns off.
	memoMinHitRate = 2
)

// reset empties the memo for a new block (or a new column).
func (m *valueMemo) reset() {
	if m.filled {
		clear(m.slots[:])
		m.filled = false
	}
	m.looks, m.hits, m.off = 0, 0, false
}

func memoIndex(p *byte, n int) int {
	h := uintptr(unsafe.Pointer(p))>>3 ^ uintptr(n)*0x9E37
	return int(h^h>>9) & (memoSlots - 1)
}

// get returns the value remembered for s.
func (m *valueMemo) get(s string) (int32, bool) {
	if m.off || len(s) == 0 {
		return 0, false
	}
	p := unsafe.StringData(s)
	sl := &m.slots[memoIndex(p, len(s))]
	m.looks++
	if sl.p == p && sl.n == len(s) {
		m.hits++
		return sl.val, true
	}
	if m.looks == memoProbe && m.hits*memoMinHitRate < m.looks {
		m.off = true
	}
	return 0, false
}

// put remembers v for s. s must stay alive and unchanged while the memo is
// in use (true of a block's column during its callback).
func (m *valueMemo) put(s string, v int32) {
	if m.off || len(s) == 0 {
		return
	}
	p := unsafe.StringData(s)
	m.slots[memoIndex(p, len(s))] = memoSlot{p: p, n: len(s), val: v}
	m.filled = true
}

// keepIfMemo is bm.keepIf(match over col) with match results memoised by
// value identity; "" is decided once.
func keepIfMemo(bc *blockCtx, bm *bitmap, col []string, match func(v string) bool) {
	m := &bc.memo
	m.reset()
	empty := int32(-1)
	// Rows of a stream repeat the previous row's value most of the time: a
	// pointer compare settles those before the memo's hashing.
	var prevP *byte
	prevN, prevOK := -1, false
	bm.keepIf(func(i int) bool {
		v := col[i]
		if len(v) == prevN && unsafe.StringData(v) == prevP {
			return prevOK
		}
		if v == "" {
			if empty < 0 {
				empty = 0
				if match("") {
					empty = 1
				}
			}
			return empty == 1
		}
		if r, ok := m.get(v); ok {
			prevP, prevN, prevOK = unsafe.StringData(v), len(v), r == 1
			return r == 1
		}
		ok := match(v)
		r := int32(0)
		if ok {
			r = 1
		}
		m.put(v, r)
		prevP, prevN, prevOK = unsafe.StringData(v), len(v), ok
		return ok
	})
	// The memo's pointers must not pin the block's buffers past it.
	m.reset()
}
