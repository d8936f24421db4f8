package part

import (
	"bytes"
	"encoding/binary"
	"strings"

	"github.com/logcaster/logcaster/internal/tokenize"
)

// Template columns. Log messages are mostly fixed wording with a few
// variable parts ("Received block blk_-562 of size 67108864 from
// /10.250.19.102"), and on the gencorpus corpus three quarters of a
// message search's CPU was zstd rebuilding every message's wording in
// order to look for a word in it. A column stored as templates (encTemplate)
// keeps each distinct wording of a block once, one template code a row, and
// the variable parts in sections of their own:
//
//   - a variable is a token (tokenize.Next) holding an ASCII digit; its
//     place in the template is one NumVar byte when it is all digits (a
//     number), one WordVar byte otherwise (blk_562, user42); every other
//     byte of a value, the tokens without digits and everything between
//     tokens, is template text;
//   - so a word or phrase without digits is in a value exactly when it is
//     in the value's template (the placeholders are token bytes, like the
//     variables they stand for, so token boundaries are the same), and a
//     search for one decodes the small templates section, decides each
//     template once and maps rows by code, never touching the variables;
//   - a word with digits can only be a whole variable, of the kind its
//     bytes say, and a run of token bytes only lies inside one token: those
//     searches read one or both variables sections, where VarEnd after each
//     variable keeps a match from spanning two of them. Numbers are two
//     thirds of the variables' bytes on the corpus, and a search for text
//     with a letter never reads them.
//
// On the 1M-event corpus the templates section of a block is a few KB and
// the variables are about 40% of the message bytes; stored this way the
// message column also takes less space than zstd alone makes of it (the
// wording is stored once, and the variables compress better among
// themselves). The writer uses it only where it pays (templateShare,
// minStaticShare) and only for zstd parts: flushed S2 parts are written on
// the ingest path and soon merged.

const (
	encTemplate byte = 3 // see FORMAT.md: templates, numbers and other variables

	// NumVar and WordVar stand for one variable in a template, a number
	// and any other variable. They are token bytes, as the variables they
	// replace are tokens, and no template has them otherwise: any token
	// holding an ASCII digit is a variable.
	NumVar     = '0'
	WordVar    = '1'
	numVarStr  = string(rune(NumVar))
	wordVarStr = string(rune(WordVar))
	// VarEnd follows each variable in a variables section. It is not a
	// token byte, and no variable holds it.
	VarEnd = 0

	// maxTemplates bounds a block's templates: codes take at most two
	// bytes.
	maxTemplates = 1 << 16
	// templateShare: a block's values are stored as templates only when
	// there is at most one template for this many rows; fewer shared
	// wordings save nothing over zstd.
	templateShare = 4
	// minStaticShare: ...and when at least one byte in this many is
	// template text. A column of identifiers (trace ids, all variable)
	// stays plain, where a search reads it without rebuilding anything.
	minStaticShare = 4
	// minTemplateRows: smaller blocks stay plain; their sections are too
	// small for the split to matter.
	minTemplateRows = 32
)

// The two kinds of variables, indexing the per-kind arrays below.
const (
	kindNum  = 0 // NumVar: ASCII digits only
	kindWord = 1 // WordVar: the other tokens holding a digit
	nKinds   = 2
)

// placeholder is each kind's byte in a template.
var placeholder = [nKinds]byte{kindNum: NumVar, kindWord: WordVar}

// templateEncoder is the scratch of appendTemplates, reused from block to
// block by its blockEncoder.
type templateEncoder struct {
	idx   map[string]int
	tmpls []string
	codes []uint16
	tbuf  []byte // the current value's template
	traw  []byte // the raw templates section
	tsec  []byte // compressed
	// Per kind: the variables, each followed by VarEnd; the raw section
	// (row lengths, then the variables); compressed.
	vars  [nKinds][]byte
	vraw  [nKinds][]byte
	vsec  [nKinds][]byte
	grams [gramBytes]byte
}

// appendTemplates appends vals (size bytes in all) to dst as a whole,
// framed encTemplate column section, its inner sections compressed with
// codec at level, and adds the values' tokens to set; headLen is the
// length of the section's head (everything before the variables), which
// a reader reads alone. It returns false (dst and set unchanged) when the
// values do not share enough wording.
func (e *templateEncoder) appendTemplates(dst []byte, vals []string, size int, codec Codec, level int, set *hashSet) (out []byte, headLen int, ok bool) {
	if len(vals) < minTemplateRows {
		return dst, 0, false
	}
	if e.idx == nil {
		e.idx = map[string]int{}
	}
	clear(e.idx)
	clear(e.tmpls) // no references to the last block's strings
	e.tmpls, e.codes = e.tmpls[:0], e.codes[:0]
	for k := range e.vars {
		e.vars[k], e.vraw[k] = e.vars[k][:0], e.vraw[k][:0]
	}
	limit := min(len(vals)/templateShare, maxTemplates)
	varBytes := 0
	for _, v := range vals {
		start := [nKinds]int{len(e.vars[kindNum]), len(e.vars[kindWord])}
		nv := e.split(v)
		for k := range e.vars {
			n := len(e.vars[k]) - start[k]
			varBytes += n
			e.vraw[k] = binary.AppendUvarint(e.vraw[k], uint64(n))
		}
		varBytes -= nv // not the VarEnds
		code, ok := e.idx[string(e.tbuf)]
		if !ok {
			if len(e.tmpls) == limit {
				return dst, 0, false
			}
			code = len(e.tmpls)
			t := string(e.tbuf)
			e.idx[t] = code
			e.tmpls = append(e.tmpls, t)
		}
		e.codes = append(e.codes, uint16(code))
	}
	if (size-varBytes)*minStaticShare < size {
		return dst, 0, false
	}
	if set != nil {
		for _, t := range e.tmpls {
			addTemplateTokens(set, t)
		}
		for _, vars := range e.vars {
			for p := 0; p < len(vars); {
				n := bytes.IndexByte(vars[p:], VarEnd)
				set.addTokens(bstr(vars[p : p+n]))
				p += n + 1
			}
		}
	}

	e.traw = binary.AppendUvarint(e.traw[:0], uint64(len(e.tmpls)))
	for _, t := range e.tmpls {
		e.traw = binary.AppendUvarint(e.traw, uint64(len(t)))
		e.traw = append(e.traw, t...)
	}
	if len(e.tmpls) <= 1<<8 {
		for _, c := range e.codes {
			e.traw = append(e.traw, byte(c))
		}
	} else {
		for _, c := range e.codes {
			e.traw = binary.LittleEndian.AppendUint16(e.traw, c)
		}
	}

	// The whole is stored uncompressed around three compressed sections,
	// each with its CRC, so that a reader reads and decompresses only
	// those a search needs (see FORMAT.md).
	e.tsec = appendSection(e.tsec[:0], e.traw, codec, level)
	for k := range e.vsec {
		e.vraw[k] = append(e.vraw[k], e.vars[k]...)
		e.vsec[k] = appendSection(e.vsec[k][:0], e.vraw[k], codec, level)
	}
	t, n, w := len(e.tsec), len(e.vsec[kindNum]), len(e.vsec[kindWord])
	body := 1 + uvarintLen(uint64(t)) + 4 + t + uvarintLen(uint64(n)) + 8 + uvarintLen(gramBytes) + gramBytes + n + w
	start := len(dst)
	dst = append(dst, compNone)
	dst = binary.AppendUvarint(dst, uint64(body))
	dst = append(dst, encTemplate)
	dst = binary.AppendUvarint(dst, uint64(t))
	dst = binary.LittleEndian.AppendUint32(dst, crc(e.tsec))
	dst = append(dst, e.tsec...)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.LittleEndian.AppendUint32(dst, crc(e.vsec[kindNum]))
	dst = binary.LittleEndian.AppendUint32(dst, crc(e.vsec[kindWord]))
	dst = binary.AppendUvarint(dst, gramBytes)
	dst = append(dst, e.wordGrams()...)
	headLen = len(dst) - start
	dst = append(dst, e.vsec[kindNum]...)
	return append(dst, e.vsec[kindWord]...), headLen, true
}

// Word variables' bigrams: the head of a template column holds one bit for
// every pair of ASCII token bytes (63 × 63) that follow one another in one
// of its word variables, so that a substring search skips the words
// section of a block lacking one of its pairs, as code search engines do
// with trigrams. On the corpus, no block's word variables hold "kM", and
// ~"ockMana" reads only templates. 497 bytes a block, 0.06 B/event.
const (
	gramAlphabet = 63
	gramBytes    = (gramAlphabet*gramAlphabet + 7) / 8
)

// gramIndex maps an ASCII token byte to 1..63, anything else to 0.
var gramIndex = func() (t [256]uint8) {
	n := uint8(0)
	for c := 0; c < 128; c++ {
		if tokenize.IsTokenByte(byte(c)) {
			n++
			t[c] = n
		}
	}
	return t
}()

// wordGrams returns the bigram filter of the block's word variables.
func (e *templateEncoder) wordGrams() []byte {
	clear(e.grams[:])
	vars := e.vars[kindWord]
	for i := 0; i+1 < len(vars); i++ {
		a, b := gramIndex[vars[i]], gramIndex[vars[i+1]]
		if a != 0 && b != 0 {
			g := int(a-1)*gramAlphabet + int(b-1)
			e.grams[g/8] |= 1 << (g % 8)
		}
	}
	return e.grams[:]
}

// mayHoldGrams reports whether filter (a head's, gramBytes long, or empty:
// no filter) has every bigram of s, whose bytes must all be ASCII token
// bytes, in either case of each letter when fold is set; false is
// definite.
func mayHoldGrams(filter []byte, s string, fold bool) bool {
	if len(filter) != gramBytes {
		return true
	}
	has := func(a, b byte) bool {
		x, y := gramIndex[a], gramIndex[b]
		if x == 0 || y == 0 {
			return true // not a token pair: not what the filter holds
		}
		g := int(x-1)*gramAlphabet + int(y-1)
		return filter[g/8]&(1<<(g%8)) != 0
	}
	for i := 0; i+1 < len(s); i++ {
		a, b := s[i], s[i+1]
		if !has(a, b) && !(fold && (has(otherCase(a), b) || has(a, otherCase(b)) || has(otherCase(a), otherCase(b)))) {
			return false
		}
	}
	return true
}

// otherCase returns an ASCII letter in the other case, any other byte as
// it is.
func otherCase(c byte) byte {
	switch {
	case 'a' <= c && c <= 'z':
		return c - 'a' + 'A'
	case 'A' <= c && c <= 'Z':
		return c - 'A' + 'a'
	}
	return c
}

// split puts v's template in e.tbuf and appends its variables, each
// followed by VarEnd, to e.vars of their kind; it returns how many
// variables v has.
func (e *templateEncoder) split(v string) int {
	tmpl := e.tbuf[:0]
	prev, nv := 0, 0
	for i := 0; ; {
		s, end := tokenize.Next(v, i)
		if s < 0 {
			break
		}
		if k, ok := varKind(v[s:end]); ok {
			tmpl = append(tmpl, v[prev:s]...)
			tmpl = append(tmpl, placeholder[k])
			e.vars[k] = append(e.vars[k], v[s:end]...)
			e.vars[k] = append(e.vars[k], VarEnd)
			prev = end
			nv++
		}
		i = end
	}
	e.tbuf = append(tmpl, v[prev:]...)
	return nv
}

// varKind tells whether token tok is a variable (it holds an ASCII digit)
// and of which kind. A loop: strings.IndexAny built its byte set on every
// call, 8% of a merge's CPU.
func varKind(tok string) (kind int, ok bool) {
	digits := 0
	for i := 0; i < len(tok); i++ {
		if tok[i]-'0' < 10 {
			digits++
		}
	}
	switch {
	case digits == 0:
		return 0, false
	case digits == len(tok):
		return kindNum, true
	}
	return kindWord, true
}

// addTemplateTokens adds the tokens of template t to set, but not its
// placeholders: the variables' own tokens are added apart.
func addTemplateTokens(set *hashSet, t string) {
	for i := 0; ; {
		s, e := tokenize.Next(t, i)
		if s < 0 {
			return
		}
		if e-s != 1 || (t[s] != NumVar && t[s] != WordVar) {
			if e-s <= tokenize.MaxTokenLen {
				set.add(tokenize.Hash(t[s:e]))
			}
		}
		i = e
	}
}

// varSection is one kind's variables of a decoded template column.
type varSection struct {
	// off and len place the compressed section in the column's body, crc
	// is its CRC-32C.
	off, len int
	crc      uint32
	sec      []byte // the compressed section once read
	rbuf     []byte // what sec is read into, kept from block to block
	buf      []byte // decompression buffer, likewise
	vars     []byte
	ends     []uint32 // where each row's variables end in vars
	done     bool
}

// templateCol is a decoded encTemplate column: its templates and codes at
// once, each kind of variables only when asked (decodeVars). It keeps its
// buffers from block to block.
type templateCol struct {
	tmpls []string // aliasing traw
	// nvars holds each template's placeholders of each kind.
	nvars [][nKinds]uint32
	codes []uint16
	traw  []byte
	vs    [nKinds]varSection
	// wordGrams is the words section's bigram filter (aliasing the head),
	// empty when the column has none.
	wordGrams []byte
	// base is where the column's body starts in data.bin (BlockReader).
	base int64
	// places holds, when placesDone, the offsets of every template's
	// placeholders, template i's being places[placeAt[i]:placeAt[i+1]]:
	// found once a block for rebuilding values, not for searches.
	places     []uint16
	placeAt    []uint32
	placesDone bool
}

// reset lets go of the last block's strings.
func (c *templateCol) reset() {
	clear(c.tmpls)
	c.tmpls, c.placesDone, c.wordGrams = c.tmpls[:0], false, nil
	for k := range c.vs {
		v := &c.vs[k]
		v.sec, v.vars, v.done = nil, nil, false
	}
}

// decode parses the head of an encTemplate column, the templates and
// codes of its rows rows. body is the column section's raw bytes from the
// encoding byte on, bodyLen bytes in all, of which decode needs only the
// head (through the variables' CRCs). When body is whole, the variables
// sections are taken from it; otherwise the caller reads each (off, len)
// into sec before decodeVars. It returns a reason on damage.
func (c *templateCol) decode(body []byte, bodyLen, rows int) string {
	c.reset()
	d := decoder{b: body}
	if d.byte1() != encTemplate {
		return "not a template column"
	}
	tlen := d.uvarint()
	tcrc := d.u32()
	tsec := d.bytes(tlen)
	nlen := d.uvarint()
	ncrc, wcrc := d.u32(), d.u32()
	glen := d.uvarint()
	if glen != 0 && glen != gramBytes {
		return "bad bigram filter length"
	}
	c.wordGrams = d.bytes(glen)
	if d.err != "" {
		return "template column: " + d.err
	}
	head := len(body) - len(d.b)
	if nlen > uint64(bodyLen-head) {
		return "variables beyond the column"
	}
	c.vs[kindNum] = varSection{off: head, len: int(nlen), crc: ncrc, rbuf: c.vs[kindNum].rbuf, buf: c.vs[kindNum].buf, ends: c.vs[kindNum].ends}
	c.vs[kindWord] = varSection{off: head + int(nlen), len: bodyLen - head - int(nlen), crc: wcrc, rbuf: c.vs[kindWord].rbuf, buf: c.vs[kindWord].buf, ends: c.vs[kindWord].ends}
	if len(body) == bodyLen {
		for k := range c.vs {
			v := &c.vs[k]
			v.sec = body[v.off : v.off+v.len]
		}
	}
	if crc(tsec) != tcrc {
		return "templates checksum mismatch"
	}
	t, reason := decodeSection(&c.traw, tsec)
	if reason != "" {
		return "templates: " + reason
	}
	d = decoder{b: t}
	n := d.uvarint()
	if n == 0 || n > maxTemplates {
		return "bad template count"
	}
	c.nvars = c.nvars[:0]
	for i := uint64(0); i < n; i++ {
		s := bstr(d.bytes(d.uvarint()))
		if d.err != "" {
			return "templates: " + d.err
		}
		// strings.Count is vectorised: a loop over the templates' bytes
		// was a fifth of a word count's CPU.
		nv := [nKinds]uint32{
			kindNum:  uint32(strings.Count(s, numVarStr)),
			kindWord: uint32(strings.Count(s, wordVarStr)),
		}
		c.tmpls = append(c.tmpls, s)
		c.nvars = append(c.nvars, nv)
	}
	width := 1
	if n > 1<<8 {
		width = 2
	}
	if len(d.b) != rows*width {
		return "template codes length mismatch"
	}
	if cap(c.codes) < rows {
		c.codes = make([]uint16, 0, rows)
	}
	c.codes = c.codes[:rows]
	for i := range c.codes {
		code := uint16(d.b[i*width])
		if width == 2 {
			code = binary.LittleEndian.Uint16(d.b[i*2:])
		}
		if uint64(code) >= n {
			return "template code out of range"
		}
		c.codes[i] = code
	}
	return ""
}

// decodeVars checks and decompresses the variables section of kind k,
// which must have been read (sec), and finds where each row's variables
// end from the row lengths in front of them (scanning for VarEnds was most
// of a search's time, variables being short). The section is laid out as
// a plain column is, row lengths then bytes, and parsed the same way.
func (c *templateCol) decodeVars(k int) string {
	v := &c.vs[k]
	if v.done {
		return ""
	}
	if v.sec == nil {
		return "variables not read"
	}
	if crc(v.sec) != v.crc {
		return "variables checksum mismatch"
	}
	raw, reason := decodeSection(&v.buf, v.sec)
	if reason != "" {
		return "variables: " + reason
	}
	if v.ends, v.vars, reason = decodePlain(v.ends, raw, len(c.codes)); reason != "" {
		return "variables: " + reason
	}
	v.done = true
	return ""
}

// findPlaces fills places and placeAt for the block's templates.
func (c *templateCol) findPlaces() {
	if c.placesDone {
		return
	}
	c.places, c.placeAt = c.places[:0], c.placeAt[:0]
	for _, t := range c.tmpls {
		c.placeAt = append(c.placeAt, uint32(len(c.places)))
		for i := 0; i < len(t); i++ {
			if t[i] == NumVar || t[i] == WordVar {
				c.places = append(c.places, uint16(i))
			}
		}
	}
	c.placeAt = append(c.placeAt, uint32(len(c.places)))
	c.placesDone = true
}

// appendValues appends every row's value to flat, back to back, and its
// end offset to ends; both kinds of variables must have been decoded. It
// returns a reason when a row's variables do not fill its template's
// places.
func (c *templateCol) appendValues(flat []byte, ends []uint32) ([]byte, []uint32, string) {
	for r := range c.codes {
		var reason string
		if flat, reason = c.appendRow(flat, r); reason != "" {
			return flat, ends, reason
		}
		ends = append(ends, uint32(len(flat)))
	}
	return flat, ends, ""
}

// appendRow appends row r's value to flat; both kinds of variables must
// have been decoded.
func (c *templateCol) appendRow(flat []byte, r int) ([]byte, string) {
	c.findPlaces()
	code := c.codes[r]
	t := c.tmpls[code]
	var p, end [nKinds]int
	for k := range c.vs {
		end[k] = int(c.vs[k].ends[r])
		if r > 0 {
			p[k] = int(c.vs[k].ends[r-1])
		}
	}
	prev := 0
	for _, at := range c.places[c.placeAt[code]:c.placeAt[code+1]] {
		flat = append(flat, t[prev:at]...)
		prev = int(at) + 1
		k := kindNum
		if t[at] == WordVar {
			k = kindWord
		}
		vars := c.vs[k].vars[p[k]:end[k]]
		n := bytes.IndexByte(vars, VarEnd)
		if n < 0 {
			return flat, "variables do not fill their template"
		}
		flat = append(flat, vars[:n]...)
		p[k] += n + 1
	}
	if p != end {
		return flat, "variables do not fill their template"
	}
	return append(flat, t[prev:]...), ""
}
