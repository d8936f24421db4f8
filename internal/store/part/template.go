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
// the variable parts in a section of their own:
//
//   - a variable is a token (tokenize.Next) holding an ASCII digit, and its
//     place in the template is one TemplateVar byte; every other byte of a
//     value, the tokens without digits and everything between tokens, is
//     template text;
//   - so a word or phrase without digits is in a value exactly when it is
//     in the value's template (TemplateVar is a token byte, like the
//     variable it stands for, so token boundaries are the same), and a
//     search for one decodes the small templates section, decides each
//     template once and maps rows by code, never touching the variables;
//   - a word with digits can only be a whole variable, and a run of token
//     bytes only lies inside one token: those searches read the variables
//     section alone, where VarEnd after each variable keeps a match from
//     spanning two of them.
//
// On the 1M-event corpus the templates section of a block is a few KB and
// the variables are about 40% of the message bytes; stored this way the
// message column also takes less space than zstd alone makes of it (the
// wording is stored once, and the variables compress better among
// themselves). The writer uses it only where it pays (templateShare,
// minStaticShare) and only for zstd parts: flushed S2 parts are written on
// the ingest path and soon merged.

const (
	encTemplate byte = 3 // see FORMAT.md: uvarint len, templates section, variables section

	// TemplateVar stands for one variable in a template. It is a token
	// byte, as the variable it replaces is a token, and no template has it
	// otherwise: any token holding an ASCII digit is a variable.
	TemplateVar = '0'
	// VarEnd follows each variable in the variables section. It is not a
	// token byte, and no variable holds it.
	VarEnd         = 0
	templateVarStr = string(rune(TemplateVar))

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

// templateEncoder is the scratch of appendTemplates, reused from block to
// block by its blockEncoder.
type templateEncoder struct {
	idx   map[string]int
	tmpls []string
	codes []uint16
	tbuf  []byte // the current value's template
	vars  []byte // the variables, each followed by VarEnd
	rowv  []byte // the raw variables section: row lengths, then vars
	traw  []byte // the raw templates section
	// The two sections compressed, before they are framed together.
	tsec, vsec []byte
}

// appendTemplates appends vals (size bytes in all) to dst as a whole,
// framed encTemplate column section, its two inner sections compressed
// with codec at level, and adds the values' tokens to set; false (dst and
// set unchanged) when the values do not share enough wording.
func (e *templateEncoder) appendTemplates(dst []byte, vals []string, size int, codec Codec, level int, set *hashSet) ([]byte, bool) {
	if len(vals) < minTemplateRows {
		return dst, false
	}
	if e.idx == nil {
		e.idx = map[string]int{}
	}
	clear(e.idx)
	clear(e.tmpls) // no references to the last block's strings
	e.tmpls, e.codes, e.vars, e.rowv = e.tmpls[:0], e.codes[:0], e.vars[:0], e.rowv[:0]
	limit := min(len(vals)/templateShare, maxTemplates)
	varBytes := 0
	for _, v := range vals {
		before := len(e.vars)
		var nv int
		e.tbuf, e.vars, nv = appendSplit(e.tbuf[:0], e.vars, v)
		varBytes += len(e.vars) - before - nv // not the VarEnds
		e.rowv = binary.AppendUvarint(e.rowv, uint64(len(e.vars)-before))
		code, ok := e.idx[string(e.tbuf)]
		if !ok {
			if len(e.tmpls) == limit {
				return dst, false
			}
			code = len(e.tmpls)
			t := string(e.tbuf)
			e.idx[t] = code
			e.tmpls = append(e.tmpls, t)
		}
		e.codes = append(e.codes, uint16(code))
	}
	if (size-varBytes)*minStaticShare < size {
		return dst, false
	}
	if set != nil {
		for _, t := range e.tmpls {
			addTemplateTokens(set, t)
		}
		for p := 0; p < len(e.vars); {
			n := bytes.IndexByte(e.vars[p:], VarEnd)
			set.addTokens(bstr(e.vars[p : p+n]))
			p += n + 1
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

	// The whole is stored uncompressed around two compressed sections, so
	// that a reader decompresses the templates without the variables.
	e.tsec = appendSection(e.tsec[:0], e.traw, codec, level)
	e.rowv = append(e.rowv, e.vars...)
	e.vsec = appendSection(e.vsec[:0], e.rowv, codec, level)
	n := 1 + uvarintLen(uint64(len(e.tsec))) + len(e.tsec) + len(e.vsec)
	dst = append(dst, compNone)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = append(dst, encTemplate)
	dst = binary.AppendUvarint(dst, uint64(len(e.tsec)))
	dst = append(dst, e.tsec...)
	return append(dst, e.vsec...), true
}

// appendSplit appends v's template to tmpl and its variables, each
// followed by VarEnd, to vars, and returns how many variables v has.
func appendSplit(tmpl, vars []byte, v string) ([]byte, []byte, int) {
	prev, nv := 0, 0
	for i := 0; ; {
		s, e := tokenize.Next(v, i)
		if s < 0 {
			break
		}
		if hasDigit(v[s:e]) {
			tmpl = append(tmpl, v[prev:s]...)
			tmpl = append(tmpl, TemplateVar)
			vars = append(vars, v[s:e]...)
			vars = append(vars, VarEnd)
			prev = e
			nv++
		}
		i = e
	}
	return append(tmpl, v[prev:]...), vars, nv
}

// hasDigit reports whether s holds an ASCII digit (strings.IndexAny built
// its byte set on every call: 8% of a merge's CPU).
func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i]-'0' < 10 {
			return true
		}
	}
	return false
}

// addTemplateTokens adds the tokens of template t to set, but not its
// TemplateVar placeholders: the variables' own tokens are added apart.
func addTemplateTokens(set *hashSet, t string) {
	for i := 0; ; {
		s, e := tokenize.Next(t, i)
		if s < 0 {
			return
		}
		if e-s != 1 || t[s] != TemplateVar {
			if e-s <= tokenize.MaxTokenLen {
				set.add(tokenize.Hash(t[s:e]))
			}
		}
		i = e
	}
}

// templateCol is a decoded encTemplate column: its templates and codes at
// once, its variables section only when asked (decodeVars). It keeps its
// decompression buffers from block to block.
type templateCol struct {
	tmpls []string // aliasing traw
	nvars []uint32 // TemplateVar bytes of each template
	codes []uint16
	vsec  []byte // the variables section, still compressed
	vars  []byte // decoded by decodeVars
	ends  []uint32
	done  bool // vars and ends are set
	traw  []byte
	vraw  []byte
}

// reset lets go of the last block's strings.
func (c *templateCol) reset() {
	clear(c.tmpls)
	c.tmpls, c.vsec, c.vars, c.done = c.tmpls[:0], nil, nil, false
}

// decode parses an encTemplate column's raw bytes (raw[0] is encTemplate)
// of rows rows: the templates and codes now, the variables section kept
// for decodeVars. It returns a reason on damage.
func (c *templateCol) decode(raw []byte, rows int) string {
	c.reset()
	d := decoder{b: raw}
	if d.byte1() != encTemplate {
		return "not a template column"
	}
	tsec := d.bytes(d.uvarint())
	if d.err != "" {
		return "template column: " + d.err
	}
	c.vsec = d.b
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
		c.tmpls = append(c.tmpls, s)
		c.nvars = append(c.nvars, uint32(strings.Count(s, templateVarStr)))
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

// decodeVars decompresses the variables section and finds where each
// row's variables end (from the row lengths in front of them; scanning
// for VarEnds was most of a search's time, variables being short).
func (c *templateCol) decodeVars() string {
	if c.done {
		return ""
	}
	raw, reason := decodeSection(&c.vraw, c.vsec)
	if reason != "" {
		return "variables: " + reason
	}
	c.ends = c.ends[:0]
	if len(raw) < len(c.codes) { // every row length takes a byte
		return "variables truncated"
	}
	p, end := 0, uint64(0)
	for range c.codes {
		if b := raw[p]; b < 0x80 {
			end += uint64(b)
			p++
		} else {
			v, n := binary.Uvarint(raw[p:])
			if n <= 0 {
				return "variables: bad row length"
			}
			end += v
			p += n
		}
		if end > maxSectionRaw { // also keeps the sum from wrapping
			return "variables length mismatch"
		}
		c.ends = append(c.ends, uint32(end))
		if p >= len(raw) && len(c.ends) < len(c.codes) {
			return "variables truncated"
		}
	}
	c.vars = raw[p:]
	if end != uint64(len(c.vars)) {
		return "variables length mismatch"
	}
	c.done = true
	return ""
}

// appendValues appends every row's value to flat, back to back, and its
// end offset to ends; decodeVars must have succeeded. It returns a reason
// when a row's variables do not fill its template's places.
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

// appendRow appends row r's value to flat; decodeVars must have
// succeeded.
func (c *templateCol) appendRow(flat []byte, r int) ([]byte, string) {
	code := c.codes[r]
	t := c.tmpls[code]
	p, end := 0, int(c.ends[r])
	if r > 0 {
		p = int(c.ends[r-1])
	}
	vars := c.vars[:end]
	for k := c.nvars[code]; k > 0; k-- {
		i := strings.IndexByte(t, TemplateVar)
		flat = append(flat, t[:i]...)
		t = t[i+1:]
		n := bytes.IndexByte(vars[p:], VarEnd)
		if n < 0 {
			return flat, "variables do not fill their template"
		}
		flat = append(flat, vars[p:p+n]...)
		p += n + 1
	}
	if p != end {
		return flat, "variables do not fill their template"
	}
	return append(flat, t...), ""
}
