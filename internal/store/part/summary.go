package part

import (
	"bytes"
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
//   - tokens: for a template column, every word of its templates' text
//     (no digit, so never a variable's; ASCII letters lower-cased), with
//     the rows whose template holds it, so `from | stats count()` is one
//     lookup a block; and, so that a substring search skips a block
//     without reading it, whether that list is every word of the templates
//     (words over MaxTokenLen bytes are not listed) and a copy of the
//     head's bigram filter of the word variables.
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

// appendTokenSummary appends the tokens summary of a template column
// whose word variables' bigram filter is grams.
func (t *tokenCounter) appendTokenSummary(dst []byte, tmpls []string, codes []uint16, grams []byte) []byte {
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
	complete := byte(1)
	for code, tm := range tmpls {
		for i := 0; ; {
			start, end := tokenize.Next(tm, i)
			if start < 0 {
				break
			}
			i = end
			tok, ok := summaryKey(tm[start:end], &low)
			if !ok {
				if !isPlaceholder(tm[start:end]) {
					complete = 0 // too long: not listed
				}
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
	dst = append(dst, complete)
	dst = binary.AppendUvarint(dst, uint64(len(grams)))
	return append(dst, grams...)
}

// isPlaceholder reports whether a template's token is a variable's
// placeholder: in a template, only those hold a digit.
func isPlaceholder(tok string) bool {
	return len(tok) == 1 && (tok[0] == NumVar || tok[0] == WordVar)
}

// summaryKey returns a template's token as a tokens summary lists it,
// its ASCII letters lower-cased into low; false for a placeholder (the
// only tokens of a template with an ASCII digit) and a token over
// MaxTokenLen bytes, which are not listed.
func summaryKey(tok string, low *[tokenize.MaxTokenLen]byte) ([]byte, bool) {
	if len(tok) == 0 || len(tok) > tokenize.MaxTokenLen {
		return nil, false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case '0' <= c && c <= '9':
			return nil, false
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		low[i] = c
	}
	return low[:len(tok)], true
}

// validKey reports whether s could be a listed token: as summaryKey
// returns them, and holding only token bytes where it is ASCII.
func validKey(s string) bool {
	if len(s) == 0 || len(s) > tokenize.MaxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && (!tokenize.IsTokenByte(c) || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// summaryToken returns a searched word lower-cased into low when a tokens
// summary answers for it: 1..MaxTokenLen ASCII letters and '_'. Such a
// word is in a value exactly when it equals one of its tokens, ignoring
// ASCII case (query's tokenMatcher), so exactly when its template lists
// it; a word with other bytes is left to the other paths.
func summaryToken(tok string, low *[tokenize.MaxTokenLen]byte) ([]byte, bool) {
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c >= 0x80 || !tokenize.IsTokenByte(c) {
			return nil, false
		}
	}
	return summaryKey(tok, low) // no digit, lower-cased
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
			if !validKey(s) || c == 0 {
				return "bad summary token"
			}
			if i > 0 && s <= prev {
				return "summary tokens out of order"
			}
			prev = s
		}
	}
	if b[0] == sumTokens {
		if complete := d.byte1(); complete > 1 {
			return "bad summary flag"
		}
		g := d.uvarint()
		if g != 0 && g != gramBytes {
			return "bad summary bigram filter"
		}
		d.bytes(g)
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

// openSummary checks column c's summary, of a block of rows rows, and
// builds its letter table if it has tokens.
func (p *Part) openSummary(c *colHeader, rows int) string {
	sum := p.blooms[c.sumOff : c.sumOff+c.sumLen]
	if reason := checkSummary(sum, rows); reason != "" {
		return reason
	}
	if len(sum) > 0 && sum[0] == sumTokens {
		p.jumps = append(p.jumps, letterJumps(sum))
		c.jumps = len(p.jumps)
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
	// Entries are sorted: scan those of the word's first letter, which
	// the letter table finds (a block has ~420 entries on the corpus).
	_, k := binary.Uvarint(b) // checked by Open
	j := &r.p.jumps[c.jumps-1]
	slot := letterSlot(w[0])
	b = b[k+int(j[slot]) : k+int(j[slot+1])]
	for len(b) > 0 {
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

// tokenJumps is the letter table of a tokens summary: entry i is the
// offset, from the first entry, of the first token starting at or after
// letter slot i ('_', then 'a'..'z'); entry letterSlots is where tokens
// of other bytes (non-ASCII) start, and entriesEnd where the entries end.
// Open builds it, so TokenRows scans one letter's tokens (1/20 of them)
// instead of all, and ColumnMayContain finds the bigrams without a walk.
type tokenJumps [entriesEnd + 1]uint32

// letterSlots is the number of letter slots; the table's last entry,
// entriesEnd, is where the entries end and the flag and bigrams begin.
const (
	letterSlots = 27
	entriesEnd  = letterSlots + 1
)

// letterSlot numbers the first byte of a listed ASCII word: '_' 0, 'a'..'z'
// 1..26.
func letterSlot(c byte) int {
	if c == '_' {
		return 0
	}
	return int(c-'a') + 1
}

// letterJumps builds the letter table of a tokens summary Open checked
// (its tokens start with '_', 'a'..'z' or a non-ASCII byte, in that order).
func letterJumps(sum []byte) tokenJumps {
	var j tokenJumps
	n, k := binary.Uvarint(sum[1:])
	entries := sum[1+k:]
	off, slot := 0, 0
	for range n {
		l, k := binary.Uvarint(entries[off:])
		sl := letterSlots // non-ASCII
		if first := entries[off+k]; first < 0x80 {
			sl = letterSlot(first)
		}
		for ; slot <= sl; slot++ {
			j[slot] = uint32(off)
		}
		off += k + int(l)
		_, k = binary.Uvarint(entries[off:])
		off += k
	}
	for ; slot <= entriesEnd; slot++ {
		j[slot] = uint32(off)
	}
	return j
}

// ColumnMayContain reports whether some value of the column may hold s
// (ASCII token bytes, case-sensitive) as a substring; false is definite.
// It answers from a template column's tokens summary alone, reading
// nothing: s lies inside one token, and a token is a template's word
// (listed, lower-cased, when the list is complete), a number (only when s
// is all digits) or a word variable (the bigram filter). Anything else
// answers true.
func (r *BlockReader) ColumnMayContain(name, s string) bool {
	if r.p.version < 4 || len(s) == 0 {
		return true
	}
	letters, digits := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits = true
		case tokenize.IsTokenByte(c):
			letters = true
		default:
			return true
		}
	}
	c := r.colHeader(name)
	if c == nil {
		return false
	}
	b, ok := r.summary(c, sumTokens)
	if !ok || !letters {
		return true // no summary, or s may be a number
	}
	// The flag and the bigrams follow the entries, which end where the
	// letter table says.
	_, k := binary.Uvarint(b) // checked by Open
	end := k + int(r.p.jumps[c.jumps-1][entriesEnd])
	entries, p := b[k:end], b[end:]
	complete := p[0] == 1
	g, k := binary.Uvarint(p[1:])
	grams := p[1+k : 1+k+int(g)]
	if mayHoldGrams(grams, s, false) {
		return true
	}
	if digits {
		return false // not a template's word, nor in a word variable
	}
	if !complete {
		return true
	}
	// A listed token holding s, lower-cased; the entries' length and count
	// bytes between the tokens only add false positives.
	var low [tokenize.MaxTokenLen]byte
	key, ok := summaryKey(s, &low)
	return !ok || bytes.Contains(entries, key)
}
