package query

// Count-only stats from the parts' column summaries (store/part's
// summary.go): a block wholly inside the query's time range whose filter
// and group-by fields its summaries answer is counted without reading
// data.bin. That is what keeps such queries from growing with the store:
// on the merged corpus, `* | stats count() by (service, level)` and
// `from | stats count()` decompressed and walked every block, and took
// 9-10 times as long on 10M events as on 1M.
//
// A summary answers:
//   - `*`: the block's rows;
//   - a word: over a template column, the rows whose template holds it (an
//     ASCII word without digits); over a const or dict column, the rows of
//     the values the word's matcher accepts (the same matcher the per-row
//     path runs, once a distinct value);
//   - a group-by field: its distinct values and their rows, a `_time`
//     bucket when the block lies inside one. Under `*` one field may vary
//     within the block; otherwise every field must be constant there, as
//     the summaries count each field apart.

// summaryReader is what a part block offers for it; the head's
// MemBlocks have none.
type summaryReader interface {
	ValueCounts(name string, vals []string, counts []uint32) ([]string, []uint32, bool)
	TokenRows(name, word string) (int, bool)
	// ColumnMayContain is false when no value of the column can hold s as
	// a substring, as the summary alone tells.
	ColumnMayContain(name, s string) bool
}

// mayHoldSubstr is false when the block's summaries rule out every value
// of field holding s: a substring search then skips the block unread, as
// a word search does by its bloom filter. On the merged corpus
// `~"ockMana"` read the templates of every block (the bigram filter had
// already ruled out their variables) and took 9 times as long on 10M
// events as on 1M.
func (bc *blockCtx) mayHoldSubstr(field, s string) bool {
	sr, ok := bc.b.(summaryReader)
	return !ok || sr.ColumnMayContain(field, s)
}

// summaryCounter is a filter that can count the rows it keeps in a block
// from the block's summaries; ok false when they do not tell.
type summaryCounter interface {
	countRows(bc *blockCtx, sr summaryReader) (n int, ok bool)
}

func (filterAny) countRows(bc *blockCtx, _ summaryReader) (int, bool) { return bc.b.Rows(), true }

func (f *filterWord) countRows(bc *blockCtx, sr summaryReader) (int, bool) {
	if n, ok := sr.TokenRows(f.field, f.word); ok {
		return n, true
	}
	vals, counts, ok := sr.ValueCounts(f.field, bc.sumVals[:0], bc.sumCounts[:0])
	bc.sumVals, bc.sumCounts = vals, counts
	if !ok {
		return 0, false
	}
	n := 0
	for i, v := range vals {
		if f.m.match(v) {
			n += int(counts[i])
		}
	}
	return n, true
}

// byValues is one group-by field's values in a block, from its summary.
type byValues struct {
	vals   []string
	counts []uint32
}

// addSummary adds the block's counts from its summaries when they answer
// the filter and every group-by field (see above); false, with nothing
// added, when they do not. minT and maxT are the run's time bounds.
func (a *statsAgg) addSummary(bc *blockCtx, filter filter, minT, maxT int64) bool {
	p := a.p
	sr, ok := bc.b.(summaryReader)
	fc, countable := filter.(summaryCounter)
	bmin, bmax := bc.b.TimeRange()
	if !ok || !countable || !a.counts || bmin < minT || bmax > maxT {
		return false
	}
	_, all := filter.(filterAny)
	if len(a.byVals) < len(p.by) {
		a.byVals = make([]byValues, len(p.by))
	}
	var bucket int64
	varying := -1
	for j, f := range p.by {
		bv := &a.byVals[j]
		bv.vals, bv.counts = bv.vals[:0], bv.counts[:0]
		if f == timeField {
			if !p.inOneBucket(bmin, bmax) {
				return false
			}
			bucket = bucketOf(bmin, int64(p.step))
			bv.vals, bv.counts = append(bv.vals, ""), append(bv.counts, uint32(bc.b.Rows()))
			continue
		}
		if bv.vals, bv.counts, ok = sr.ValueCounts(f, bv.vals, bv.counts); !ok || len(bv.vals) == 0 {
			return false
		}
		if len(bv.vals) > 1 {
			if varying >= 0 || !all {
				return false
			}
			varying = j
		}
	}
	n := 0
	if varying < 0 {
		if n, ok = fc.countRows(bc, sr); !ok {
			return false
		}
	}
	if len(a.vals) < len(p.by) {
		a.vals = make([]string, len(p.by))
	}
	vals := a.vals[:len(p.by)]
	for j := range p.by {
		vals[j] = a.byVals[j].vals[0]
	}
	if varying < 0 {
		a.addCount(vals, bucket, uint64(n))
		return true
	}
	bv := &a.byVals[varying]
	for i, v := range bv.vals {
		vals[varying] = v
		a.addCount(vals, bucket, uint64(bv.counts[i]))
	}
	return true
}

// addCount adds n rows to the group of vals (bucket for a _time field);
// none makes no group, as no row would.
func (a *statsAgg) addCount(vals []string, bucket int64, n uint64) {
	if n == 0 {
		return
	}
	for _, s := range a.groupOfValues(vals, bucket).states {
		s.(*countState).n += n
	}
}
