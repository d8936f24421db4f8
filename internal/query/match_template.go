package query

import (
	"math/bits"
	"strings"
	"unsafe"

	"github.com/logcaster/logcaster/internal/tokenize"
)

// Searches over a column a part stores as templates (store/part's
// template.go: each distinct wording once, a code a row, and the variable
// tokens, those holding an ASCII digit, in two sections of their own,
// numbers and the others):
//
//   - a word or phrase of ASCII tokens without digits is in a value exactly
//     when it is in the value's template, whose placeholders are token
//     bytes as the variables were: each template is decided once with the
//     per-row matcher and rows follow their code; the variables are not
//     even decompressed;
//   - a word with digits can only be a whole variable, a number when it is
//     all digits: that one section is searched, with the whole-column scan
//     of match_raw.go (a VarEnd byte after each variable is a token
//     boundary);
//   - a case-sensitive substring of token bytes lies inside one token: the
//     templates when it has no digit, the numbers when it has only digits,
//     and the other variables always.
//
// Anything else (prefixes, non-ASCII words, phrases with digits, regular
// expressions) reads the values rebuilt, and a result rebuilds only its
// rows (ColumnRows). On the merged 1M-event corpus (BenchmarkStore*, CPU
// ms a query, plain → templates): `from | stats count()` 160 → 16,
// `~"ockMana" | stats count()` 160 → 81 (→ 39 once numbers had a
// section of their own, and to a templates-only search once the words
// section had its bigram filter), `forbidden` 10.5 → 7.3, the newest 100 of `from`
// 27.4 → 10.8.

// templateColumner is what a part block offers for a template column.
type templateColumner interface {
	ColumnTemplates(name string) (templates []string, codes []uint16, ok bool, err error)
	ColumnVars(name string, numbers bool) (data []byte, ends []uint32, err error)
	// WordVarsMayContain is false when no word variable of the block can
	// hold s (in any case of its letters with fold set): a bigram filter
	// says so, and the words section is then not read.
	WordVarsMayContain(name, s string, fold bool) (bool, error)
}

// What a search text can match in a template column.
type tokenClass struct {
	tokens  bool // non-empty, ASCII token bytes only
	digits  bool // some ASCII digit
	letters bool // some token byte that is not a digit
}

func classify(s string) tokenClass {
	c := tokenClass{tokens: len(s) > 0}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case !tokenize.IsTokenByte(b):
			return tokenClass{}
		case '0' <= b && b <= '9':
			c.digits = true
		default:
			c.letters = true
		}
	}
	return c
}

// templates returns field's templates and row codes when the block stores
// it so; ok false sends the caller to the other paths, which also report
// a read error.
func (bc *blockCtx) templates(field string) (tc templateColumner, tmpls []string, codes []uint16, ok bool) {
	tc, ok = bc.b.(templateColumner)
	if !ok {
		return nil, nil, nil, false
	}
	tmpls, codes, ok, err := tc.ColumnTemplates(field)
	if err != nil || !ok {
		return nil, nil, nil, false
	}
	return tc, tmpls, codes, true
}

// keepTemplates clears in bm the rows whose template fails match, deciding
// each template once.
func (bc *blockCtx) keepTemplates(bm *bitmap, tmpls []string, codes []uint16, match func(string) bool) {
	verdicts := bc.verdicts[:0]
	for _, t := range tmpls {
		verdicts = append(verdicts, match(t))
	}
	bc.verdicts = verdicts
	// bitmap.keepIf's call a row was a sixth of a word count's CPU.
	for wi, w := range bm.words {
		keep := w
		for ; w != 0; w &= w - 1 {
			b := bits.TrailingZeros64(w)
			if !verdicts[codes[wi*64+b]] {
				keep &^= 1 << b
			}
		}
		bm.words[wi] = keep
	}
}

// scanVars runs scan over the variables of one kind of a block of rows
// rows, unless the bigram filter says they cannot hold text (ignoring case
// when fold is set); false when they cannot be read.
func scanVars(tc templateColumner, field string, numbers bool, text string, fold bool, rows int, scan func(data string, ends []uint32)) bool {
	if !numbers {
		may, err := tc.WordVarsMayContain(field, text, fold)
		if err != nil {
			return false
		}
		if !may {
			return true // nothing to find there
		}
	}
	data, ends, err := tc.ColumnVars(field, numbers)
	if err != nil || len(ends) != rows {
		return false
	}
	scan(bytesString(data), ends)
	return true
}

// applyTemplateTokens is applyRawTokens for a template column; it reports
// whether it narrowed bm. m must be ASCII, not a prefix, non-empty.
func applyTemplateTokens(bc *blockCtx, bm *bitmap, field string, m *tokenMatcher, pm *phraseMatcher) bool {
	c := classify(m.word)
	if !c.tokens || (pm != nil && c.digits) {
		return false
	}
	if pm != nil {
		for _, t := range pm.rest {
			if rc := classify(t); !rc.tokens || rc.digits {
				return false
			}
		}
	}
	tc, tmpls, codes, ok := bc.templates(field)
	if !ok {
		return false
	}
	if !c.digits {
		if pm != nil {
			bc.keepTemplates(bm, tmpls, codes, pm.match)
		} else {
			bc.keepTemplates(bm, tmpls, codes, m.match)
		}
		return true
	}
	hits := bc.getBitmap()
	defer bc.putBitmap(hits)
	hits.init(bm.n, false)
	// A whole token with digits is a number or another variable, by its
	// bytes.
	if !scanVars(tc, field, !c.letters, m.word, true, bm.n, func(data string, ends []uint32) {
		scanTokens(m, nil, data, ends, bm, hits)
	}) {
		return false
	}
	bm.and(hits)
	return true
}

// applyTemplateSubstr is applyRawSubstr for a template column.
func applyTemplateSubstr(bc *blockCtx, bm *bitmap, field string, m *substrMatcher) bool {
	c := classify(m.needle)
	if !c.tokens {
		return false
	}
	tc, tmpls, codes, ok := bc.templates(field)
	if !ok {
		return false
	}
	hits := bc.getBitmap()
	defer bc.putBitmap(hits)
	hits.init(bm.n, false)
	scan := func(data string, ends []uint32) { scanSubstr(m, data, ends, bm, hits) }
	if !scanVars(tc, field, false, m.needle, false, bm.n, scan) {
		return false
	}
	if !c.letters && !scanVars(tc, field, true, m.needle, false, bm.n, scan) {
		return false
	}
	if !c.digits {
		inTmpl := bc.getBitmap()
		inTmpl.copyFrom(bm)
		bc.keepTemplates(inTmpl, tmpls, codes, func(t string) bool { return strings.Contains(t, m.needle) })
		hits.or(inTmpl)
		bc.putBitmap(inTmpl)
	}
	bm.and(hits)
	return true
}

// bytesString views b as a string without copying.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
