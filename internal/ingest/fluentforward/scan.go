package fluentforward

import (
	"encoding/binary"
	"errors"
)

// Errors of the frame scanner. Each means the stream cannot be trusted
// past this point, so the connection ends.
var (
	errFrameTooLarge = errors.New("fluent forward: frame larger than the limit")
	errBadType       = errors.New("fluent forward: invalid msgpack type byte 0xc1")
	errTooDeep       = errors.New("fluent forward: msgpack nesting too deep")
)

// maxDepth bounds nesting: a record nested deeper than any log record
// is, and the scanner's stack stays small.
const maxDepth = 64

// scanner finds where one msgpack value ends in a stream, without decoding
// it and before the whole of it has arrived, so that a frame is held in
// memory only when it is complete and within the size limit. It is
// resumable: scan continues where the last call stopped, so a frame that
// trickles in is walked once, not once per read.
//
// Every declared length is checked against the limit as soon as its
// header is read: a header announcing 4 GiB is refused at once, not
// waited for, and no count is ever used to allocate.
type scanner struct {
	pos   int      // bytes of the frame walked so far
	stack []uint64 // items still to come in each open container
	limit int      // largest frame
}

// scan walks buf, which holds the frame's first bytes (and maybe more);
// it returns the frame's length once the frame is complete, 0 while more
// bytes are needed, or an error.
func (s *scanner) scan(buf []byte) (int, error) {
	for {
		if s.pos >= len(buf) {
			return 0, nil
		}
		size, items, ok := header(buf[s.pos:])
		if !ok {
			if buf[s.pos] == 0xc1 {
				return 0, errBadType
			}
			if s.pos+9 > s.limit { // even the header does not fit
				return 0, errFrameTooLarge
			}
			return 0, nil // the header itself is incomplete
		}
		// Each item takes at least one byte: a count past the limit is
		// refused now.
		if uint64(s.pos)+size+items > uint64(s.limit) {
			return 0, errFrameTooLarge
		}
		if uint64(len(buf)-s.pos) < size {
			return 0, nil // the payload is incomplete
		}
		s.pos += int(size)
		if items > 0 {
			if len(s.stack) >= maxDepth {
				return 0, errTooDeep
			}
			s.stack = append(s.stack, items)
			continue
		}
		// A value ended: it completes its container, and maybe theirs.
		for {
			if len(s.stack) == 0 {
				n := s.pos
				s.pos = 0
				return n, nil
			}
			top := len(s.stack) - 1
			s.stack[top]--
			if s.stack[top] > 0 {
				break
			}
			s.stack = s.stack[:top]
		}
	}
}

// header reads the type byte (and length bytes) at the start of p and
// returns the bytes the value takes apart from its items (the whole value
// for scalars, strings, binaries and extensions; the header for arrays and
// maps), and how many items follow (map entries count twice). ok is false
// when p is too short for the header, or the type byte is 0xc1 (never
// used).
func header(p []byte) (size, items uint64, ok bool) {
	c := p[0]
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return 1, 0, true
	case c <= 0x8f: // fixmap
		return 1, 2 * uint64(c&0x0f), true
	case c <= 0x9f: // fixarray
		return 1, uint64(c & 0x0f), true
	case c <= 0xbf: // fixstr
		return 1 + uint64(c&0x1f), 0, true
	}
	need := func(n int) bool { return len(p) >= n }
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return 1, 0, true
	case 0xc4, 0xd9: // bin8, str8
		if !need(2) {
			return 0, 0, false
		}
		return 2 + uint64(p[1]), 0, true
	case 0xc5, 0xda: // bin16, str16
		if !need(3) {
			return 0, 0, false
		}
		return 3 + uint64(binary.BigEndian.Uint16(p[1:])), 0, true
	case 0xc6, 0xdb: // bin32, str32
		if !need(5) {
			return 0, 0, false
		}
		return 5 + uint64(binary.BigEndian.Uint32(p[1:])), 0, true
	case 0xc7: // ext8: length, type, data
		if !need(2) {
			return 0, 0, false
		}
		return 3 + uint64(p[1]), 0, true
	case 0xc8: // ext16
		if !need(3) {
			return 0, 0, false
		}
		return 4 + uint64(binary.BigEndian.Uint16(p[1:])), 0, true
	case 0xc9: // ext32
		if !need(5) {
			return 0, 0, false
		}
		return 6 + uint64(binary.BigEndian.Uint32(p[1:])), 0, true
	case 0xca: // float32
		return 5, 0, true
	case 0xcb: // float64
		return 9, 0, true
	case 0xcc, 0xd0: // uint8, int8
		return 2, 0, true
	case 0xcd, 0xd1:
		return 3, 0, true
	case 0xce, 0xd2:
		return 5, 0, true
	case 0xcf, 0xd3:
		return 9, 0, true
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16: type byte and data
		return 2 + 1<<(c-0xd4), 0, true
	case 0xdc: // array16
		if !need(3) {
			return 0, 0, false
		}
		return 3, uint64(binary.BigEndian.Uint16(p[1:])), true
	case 0xdd: // array32
		if !need(5) {
			return 0, 0, false
		}
		return 5, uint64(binary.BigEndian.Uint32(p[1:])), true
	case 0xde: // map16
		if !need(3) {
			return 0, 0, false
		}
		return 3, 2 * uint64(binary.BigEndian.Uint16(p[1:])), true
	case 0xdf: // map32
		if !need(5) {
			return 0, 0, false
		}
		return 5, 2 * uint64(binary.BigEndian.Uint32(p[1:])), true
	}
	return 0, 0, false // 0xc1
}
