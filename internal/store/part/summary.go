package part

import (
	"encoding/binary"
	"slices"
	"strings"
	"unsafe"

	"github.com/logcaster/logcaster/internal/tokenize"
)

// Column summaries (format 4): beside its bloom filter in blooms.bin, which
// Open reads whole, a block column may carry row counts that answer
// count-only queries without reading data.bin:
//
//   - values: the distinct values of a const or dict column and how many
//     rows hold each, so `* | stats count() by (service, level)` adds a
//     handful of counts a block;
//   - tokens: for a template column, every token of its templates' text
//     (ASCII, no digit, so never a variable's), lower-cased, with the rows
//     whose template holds it, so `from | stats count()` is one lookup a
//     block.
//
// Without them both queries decompressed and walked every block, which
// made them grow with the store: on the merged corpus the 10M-event store
// has 9.6 times the 1M one's blocks and the two queries took 9-10 times as
// long, against the 10 the issue allows.
const (
	sumValues byte = 1
	sumTokens byte = 2
)

// maxSummaryValueBytes bounds the values a values summary holds: levels,
// services, hosts and status codes fit, stack traces kept in dictionaries
// (6 KB a block on the corpus) do not, and keep blooms.bin, which lives in
// memory, small.
const maxSummaryValueBytes = 1024

// appendValueSummary appends the values summary of a const or dict column
// (dict's values in code order, codes one a row; nil codes: every row is
// dict[0]), or nothing when its values are too long.
func appendValueSummary(dst []byte, dict []string, codes []byte, rows int, counts *[maxDictLen]uint32) []byte {
	size := 0
	for _, v := range dict {
		size += len(v)
	}
	if size > maxSummaryValueBytes {
		return dst
	}
	clear(counts[:])
	if codes == nil {
		counts[0] = uint32(rows)
	} else {
		for _, c := range codes {
			counts[c]++
		}
	}
	dst = append(dst, sumValues)
	dst = binary.AppendUvarint(dst, uint64(len(dict)))
	for i, v := range dict {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
		dst = binary.AppendUvarint(dst, uint64(counts[i]))
	}
	return dst
}

// tokenCounter is the scratch of appendTokenSummary, reused from block to
// block.
type tokenCounter struct {
	rowsOf []uint32       // rows per template code
	idx    map[string]int // lower-cased token -> entry
	toks   []string       // entries' tokens, views of buf
	counts []uint32
	last   []int32 // the last template that counted entry i
	buf    []byte  // the tokens' bytes; strings view it, see below
	order  []int
}

// appendTokenSummary appends the tokens summary of a template column.
func (t *tokenCounter) appendTokenSummary(dst []byte, tmpls []string, codes []uint16) []byte {
	t.rowsOf = slices.Grow(t.rowsOf[:0], len(tmpls))[:len(tmpls)]
	clear(t.rowsOf)
	for _, c := range codes {
		t.rowsOf[c]++
	}
	if t.idx == nil {
		t.idx = map[string]int{}
	}
	clear(t.idx)
	t.toks, t.counts, t.last = t.toks[:0], t.counts[:0], t.last[:0]
	// The entries' strings view buf; a new buf when it is full leaves the
	// old one to them, and buf is only rewritten after idx and toks forget
	// the last block.
	t.buf = t.buf[:0]
	var low [tokenize.MaxTokenLen]byte
	for code, tm := range tmpls {
		for i := 0; ; {
			start, end := tokenize.Next(tm, i)
			if start < 0 {
				break
			}
			i = end
			tok, ok := summaryToken(tm[start:end], &low)
			if !ok {
				continue
			}
			e, seen := t.idx[string(tok)]
			if !seen {
				if cap(t.buf)-len(t.buf) < len(tok) {
					t.buf = make([]byte, 0, max(4096, 2*cap(t.buf)))
				}
				at := len(t.buf)
				t.buf = append(t.buf, tok...)
				s := unsafe.String(&t.buf[at], len(tok))
				e = len(t.toks)
				t.idx[s] = e
				t.toks = append(t.toks, s)
				t.counts = append(t.counts, 0)
				t.last = append(t.last, -1)
			}
			if t.last[e] != int32(code) {
				t.last[e] = int32(code)
				t.counts[e] += t.rowsOf[code]
			}
		}
	}
	t.order = t.order[:0]
	for e := range t.toks {
		t.order = append(t.order, e)
	}
	slices.SortFunc(t.order, func(a, b int) int { return strings.Compare(t.toks[a], t.toks[b]) })
	dst = append(dst, sumTokens)
	dst = binary.AppendUvarint(dst, uint64(len(t.order)))
	for _, e := range t.order {
		dst = binary.AppendUvarint(dst, uint64(len(t.toks[e])))
		dst = append(dst, t.toks[e]...)
		dst = binary.AppendUvarint(dst, uint64(t.counts[e]))
	}
	return dst
}

// summaryToken returns tok lower-cased into low when a tokens summary
// holds it: 1..MaxTokenLen ASCII token bytes, no digit. A token with a
// digit is a template's placeholder; one with other bytes never equals an
// ASCII word, the only words a summary answers.
func summaryToken(tok string, low *[tokenize.MaxTokenLen]byte) ([]byte, bool) {
	if len(tok) > tokenize.MaxTokenLen {
		return nil, false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case 'a' <= c && c <= 'z' || c == '_':
		default:
			return nil, false
		}
		low[i] = c
	}
	return low[:len(tok)], len(tok) > 0
}

// checkSummary checks a summary of a block of rows rows as Open reads it,
// so that lookups trust its layout.
func checkSummary(b []byte, rows int) string {
	if len(b) == 0 {
		return ""
	}
	if b[0] != sumValues && b[0] != sumTokens {
		return "unknown summary kind"
	}
	d := decoder{b: b[1:]}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return "summary entry count exceeds it"
	}
	var sum uint64
	prev := ""
	for i := uint64(0); i < n && d.err == ""; i++ {
		l := d.uvarint()
		if l > uint64(len(d.b)) {
			d.err = "summary entry beyond it"
			break
		}
		s := bstr(d.bytes(l))
		c := d.uvarint()
		if c > uint64(rows) {
			return "summary count above the block's rows"
		}
		sum += c
		if b[0] == sumTokens {
			var low [tokenize.MaxTokenLen]byte
			if t, ok := summaryToken(s, &low); !ok || string(t) != s || c == 0 {
				return "bad summary token"
			}
			if i > 0 && s <= prev {
				return "summary tokens out of order"
			}
			prev = s
		}
	}
	switch {
	case d.err != "":
		return d.err
	case len(d.b) != 0:
		return "trailing bytes in summary"
	case b[0] == sumValues && sum != uint64(rows):
		return "summary counts disagree with the block's rows"
	}
	return ""
}

// summary returns the column's summary in blooms.bin when it is of kind.
func (r *BlockReader) summary(c *colHeader, kind byte) ([]byte, bool) {
	if c.sumLen == 0 || r.p.blooms[c.sumOff] != kind {
		return nil, false
	}
	return r.p.blooms[c.sumOff+1 : c.sumOff+c.sumLen], true
}

// ValueCounts appends to vals and counts the distinct values of the
// column in the block and the rows holding each ("" counts the rows that
// lack it), when the part knows them without reading data: a format-4
// part's const and dict columns whose values are short, and a column the
// block lacks (every row ""). ok is false otherwise. The strings are valid
// while the part is open.
func (r *BlockReader) ValueCounts(name string, vals []string, counts []uint32) ([]string, []uint32, bool) {
	if r.p.version < 4 {
		return vals, counts, false
	}
	c := r.colHeader(name)
	if c == nil {
		return append(vals, ""), append(counts, uint32(r.h.rows)), true
	}
	b, ok := r.summary(c, sumValues)
	if !ok {
		return vals, counts, false
	}
	n, k := binary.Uvarint(b) // checked by Open
	b = b[k:]
	for range n {
		l, k := binary.Uvarint(b)
		vals = append(vals, bstr(b[k:k+int(l)]))
		b = b[k+int(l):]
		cnt, k := binary.Uvarint(b)
		counts = append(counts, uint32(cnt))
		b = b[k:]
	}
	return vals, counts, true
}

// TokenRows returns how many rows of the column hold word as a whole
// token, ignoring ASCII case, when the part knows it without reading data:
// in a format-4 part, for a template column and a word of 1..MaxTokenLen
// ASCII letters and '_' (no digit), and for a column the block lacks (no
// row). ok is false otherwise.
func (r *BlockReader) TokenRows(name, word string) (n int, ok bool) {
	var low [tokenize.MaxTokenLen]byte
	w, ok := summaryToken(word, &low)
	if !ok || r.p.version < 4 {
		return 0, false
	}
	c := r.colHeader(name)
	if c == nil {
		return 0, true
	}
	b, ok := r.summary(c, sumTokens)
	if !ok {
		return 0, false
	}
	// Entries are sorted: stop at the first one past the word. A block
	// has ~420 on the corpus; a scan is cheaper than keeping offsets.
	cnt, k := binary.Uvarint(b)
	b = b[k:]
	for range cnt {
		l, k := binary.Uvarint(b)
		tok := b[k : k+int(l)]
		b = b[k+int(l):]
		rows, k := binary.Uvarint(b)
		b = b[k:]
		switch cmp := strings.Compare(bstr(tok), bstr(w)); {
		case cmp == 0:
			return int(rows), true
		case cmp > 0:
			return 0, true
		}
	}
	return 0, true
}
