package query

// A part block hands a dictionary-encoded column (level, service, host)
// over as its distinct values and one code a row
// (part.BlockReader.ColumnCodes): a filter decides each distinct value
// once and keeps rows by a table lookup on their code, and a group-by maps
// codes to group ids the same way, without a string per row. On the merged
// 10M-event corpus `* | stats count() by (service, level)` spent half its
// CPU giving every row a local id from its string.

// codesColumner is what a part block offers beside store.Block; the head's
// MemBlocks have none and use the per-row paths.
type codesColumner interface {
	ColumnCodes(name string) (dict []string, codes []byte, ok bool, err error)
}

// codes returns field's dictionary and codes (nil codes: a constant
// column, every row dict[0]) when the block stores it so; ok=false sends
// the caller to bc.column, which also reports a missing column and read
// errors.
func (bc *blockCtx) codes(field string) (dict []string, codes []byte, ok bool) {
	cc, isCoded := bc.b.(codesColumner)
	if !isCoded {
		return nil, nil, false
	}
	dict, codes, ok, err := cc.ColumnCodes(field)
	if err != nil || !ok || len(dict) == 0 {
		return nil, nil, false
	}
	return dict, codes, true
}

// keepIfCodes narrows bm to the rows whose value of field satisfies match,
// deciding each distinct value once, and reports whether the block's column
// was coded so that it could.
func keepIfCodes(bc *blockCtx, bm *bitmap, field string, match func(v string) bool) bool {
	dict, codes, ok := bc.codes(field)
	if !ok {
		return false
	}
	var keep [256]bool
	any := false
	for k, v := range dict {
		keep[k] = match(v)
		any = any || keep[k]
	}
	if !any {
		bm.reset()
		return true
	}
	if codes == nil {
		return true // a constant column that matches: every row stays
	}
	hits := bc.getBitmap()
	hits.init(bm.n, false)
	w := hits.words
	for i, c := range codes {
		if keep[c] {
			w[i>>6] |= 1 << (uint(i) & 63)
		}
	}
	bm.and(hits)
	bc.putBitmap(hits)
	return true
}
