package query

import (
	"sort"
	"strings"

	"github.com/logcaster/logcaster/internal/event"
)

// The searches below run once over a whole column, its values back to back
// (a part block's ColumnRaw), instead of once per row: one vectorised
// IndexByte pass finds the candidates of a block, a walk of the row ends
// maps each to its row, and the per-row checks (token boundaries, the rest
// of a phrase) run on that row alone, so a hit never spans two rows. The
// per-row matchers remain the reference; these give the same answers
// (match_raw_test.go compares them). They save building a string header
// per row and a call per row: on the merged 10M-event gencorpus store,
// `from | stats count()` went from 1,982 to 1,595 CPU ms and the rare word
// from 117 to 85 (BenchmarkStore*, cpu-ms/op); what is left is mostly zstd.

// rawColumner is what a part block offers beside store.Block; the head's
// MemBlocks have no flat copy of a column and use the per-row path.
type rawColumner interface {
	ColumnRaw(name string) (data []byte, ends []uint32, err error)
}

// rawMinDensity: below one row in this many still set, the per-row path
// looks at fewer bytes than a pass over the whole column.
const rawMinDensity = 8

// columnRaw returns field's values back to back, as a string aliasing the
// block's buffer, when a whole-column search is worth it: a part block,
// the message column (the others are dictionary-encoded, where the memo
// of the per-row path decides each distinct value once), and enough rows
// of bm still set. ok=false sends the caller to the per-row path, which
// also reports a missing column and read errors.
func (bc *blockCtx) columnRaw(field string, bm *bitmap) (data string, ends []uint32, ok bool) {
	if field != event.FieldMessage {
		return "", nil, false
	}
	rc, isRaw := bc.b.(rawColumner)
	if !isRaw || bm.count()*rawMinDensity < bm.n {
		return "", nil, false
	}
	d, ends, err := rc.ColumnRaw(field)
	if err != nil || ends == nil || len(ends) != bm.n {
		return "", nil, false
	}
	return bytesString(d), ends, true
}

// rowAt returns the first row at or after r whose end lies past p, and the
// offset where that row starts; rows are searched linearly for a few steps
// (common words hit nearly every row) and then by bisection (rare ones).
func rowAt(ends []uint32, r, p int) (row, start int) {
	const linear = 8
	for n := 0; r < len(ends) && int(ends[r]) <= p; n++ {
		if n == linear {
			r += sort.Search(len(ends)-r, func(i int) bool { return int(ends[r+i]) > p })
			break
		}
		r++
	}
	if r > 0 && r <= len(ends) {
		start = int(ends[r-1])
	}
	return r, start
}

// scanTokens sets in hits each row of bm whose value holds m's word as a
// whole token, followed by the rest of pm's phrase when pm is not nil. m
// must be ASCII, not a prefix matcher, with a non-empty word.
func scanTokens(m *tokenMatcher, pm *phraseMatcher, data string, ends []uint32, bm, hits *bitmap) {
	w, k := m.word, m.k
	// Candidates as in tokenMatcher.index: the next position of each case
	// of the rarest byte, kept so neither is searched twice.
	nextLo, nextUp := -2, -2
	if m.lo == m.up {
		nextUp = -1
	}
	r, rs := 0, 0
	for from := 0; from <= len(data)-len(w); {
		at := from + k
		if nextLo != -1 && nextLo < at {
			nextLo = strings.IndexByte(data[at:], m.lo)
			if nextLo >= 0 {
				nextLo += at
			}
		}
		if nextUp != -1 && nextUp < at {
			nextUp = strings.IndexByte(data[at:], m.up)
			if nextUp >= 0 {
				nextUp += at
			}
		}
		j := nextLo
		if j < 0 || (nextUp >= 0 && nextUp < j) {
			j = nextUp
		}
		if j < 0 || j-k > len(data)-len(w) {
			return
		}
		p := j - k
		// Most candidates are the byte inside another word: compare the
		// bytes first, and look up the row only for the few that pass.
		if !equalFoldASCII(data[p:p+len(w)], w) {
			from = p + 1
			continue
		}
		r, rs = rowAt(ends, r, p)
		if r == len(ends) {
			return
		}
		re := int(ends[r])
		if !bm.isSet(r) {
			from = re
			continue
		}
		if p+len(w) <= re {
			row, i := data[rs:re], p-rs
			e := i + len(w)
			if tokenStartAt(row, i) && tokenEndAt(row, e) && (pm == nil || pm.restAt(row, e)) {
				hits.set(r)
				from = re
				continue
			}
		}
		from = p + 1
	}
}

// scanSubstr sets in hits each row of bm whose value contains m's needle,
// which must not be empty.
func scanSubstr(m *substrMatcher, data string, ends []uint32, bm, hits *bitmap) {
	n := len(m.needle)
	r := 0
	for i := m.k; i <= len(data)-n+m.k; {
		j := strings.IndexByte(data[i:], m.c)
		if j < 0 {
			return
		}
		p := i + j - m.k
		if p+n > len(data) {
			return
		}
		if data[p:p+n] != m.needle {
			i += j + 1
			continue
		}
		r, _ = rowAt(ends, r, p)
		if r == len(ends) {
			return
		}
		re := int(ends[r])
		if !bm.isSet(r) {
			i = re + m.k
			continue
		}
		if p+n <= re {
			hits.set(r)
			i = re + m.k
			continue
		}
		i += j + 1
	}
}

// applyRawTokens narrows bm by a whole-column token search when the block
// and the matcher allow it, and reports whether it did.
func applyRawTokens(bc *blockCtx, bm *bitmap, field string, m *tokenMatcher, pm *phraseMatcher) bool {
	if !m.ascii || m.prefix || m.word == "" {
		return false
	}
	if applyTemplateTokens(bc, bm, field, m, pm) {
		return true
	}
	data, ends, ok := bc.columnRaw(field, bm)
	if !ok {
		return false
	}
	hits := bc.getBitmap()
	hits.init(bm.n, false)
	scanTokens(m, pm, data, ends, bm, hits)
	bm.and(hits)
	bc.putBitmap(hits)
	return true
}

// applyRawSubstr is applyRawTokens for a fixed substring.
func applyRawSubstr(bc *blockCtx, bm *bitmap, field string, m *substrMatcher) bool {
	if m.needle == "" {
		return false
	}
	if applyTemplateSubstr(bc, bm, field, m) {
		return true
	}
	data, ends, ok := bc.columnRaw(field, bm)
	if !ok {
		return false
	}
	hits := bc.getBitmap()
	hits.init(bm.n, false)
	scanSubstr(m, data, ends, bm, hits)
	bm.and(hits)
	bc.putBitmap(hits)
	return true
}
