package syslog

import (
	"bytes"
	"fmt"
	"io"
)

// maxCountDigits is the most digits an octet count may have: 10 digits
// already exceed any frame limit, and stopping there keeps a sender of
// endless digits from being read as one number.
const maxCountDigits = 10

// frameError is a frame the framer cannot trust; the connection must end,
// because where the next frame starts is unknown.
type frameError struct{ reason string }

func (e *frameError) Error() string { return "bad syslog frame: " + e.reason }

// framer splits a TCP stream into syslog messages, choosing the framing at
// every frame from its first byte: a digit starts an RFC 6587 octet count
// ("LEN SP MSG", the count covering the whole MSG, raw LFs included), any
// other byte a message ended by LF or NUL. Stray LF, CR and NUL bytes
// between frames are skipped.
//
// Frames are slices of the framer's buffer, valid until the next call.
type framer struct {
	rd  io.Reader
	buf []byte
	r   int // start of unread data
	w   int // end of data
	max int // largest frame
	err error

	// mode is how messages that are not octet-counted end, decided at the
	// first one: modeLF ends them at LF or NUL, whichever comes first;
	// modeNUL only at NUL, so that the raw LFs of a multi-line message
	// from Python's SysLogHandler (which ends every message with NUL and
	// escapes nothing) stay inside it.
	mode uint8
	// octet is set once the connection sent an octet-counted frame; from
	// then on a frame starting with neither a digit nor '<' means the last
	// count was wrong (its frame ended too early or too late).
	octet bool
	// wait is called before every read from rd: the caller hands over the
	// events it holds before the framer may block.
	wait func()
}

func newFramer(rd io.Reader, bufSize, max int, wait func()) *framer {
	return &framer{rd: rd, buf: make([]byte, min(bufSize, max+maxCountDigits+1)), max: max, wait: wait}
}

// next returns the next frame. At the end of the stream it returns the
// unterminated rest of an LF-framed message, if any, and then the read
// error (io.EOF). A *frameError is final.
func (f *framer) next() ([]byte, error) {
	for {
		for f.r < f.w && (f.buf[f.r] == '\n' || f.buf[f.r] == '\r' || f.buf[f.r] == 0) {
			f.r++
		}
		if f.r == f.w {
			if err := f.fill(); err != nil {
				return nil, err
			}
			continue
		}
		data := f.buf[f.r:f.w]
		c := data[0]
		if '1' <= c && c <= '9' {
			frame, ok, err := f.octetFrame()
			if ok || err != nil {
				return frame, err
			}
			if f.octet {
				return nil, f.outOfStep()
			}
			data = f.buf[f.r:f.w] // fill may have moved it
			// Digits not followed by a space: an LF-framed message.
		} else if f.octet && c != '<' {
			return nil, f.outOfStep()
		}
		i := f.indexTerm(data)
		if i > f.max || i < 0 && len(data) > f.max {
			return nil, &frameError{reason: fmt.Sprintf("message longer than %d bytes without LF or NUL", f.max)}
		}
		if i >= 0 {
			f.r += i + 1
			return data[:i], nil
		}
		if err := f.fill(); err != nil {
			if f.w-f.r > f.max {
				return nil, &frameError{reason: fmt.Sprintf("message longer than %d bytes without LF or NUL", f.max)}
			}
			if f.r < f.w {
				frame := f.buf[f.r:f.w]
				f.r = f.w
				return frame, nil // the error comes at the next call
			}
			return nil, err
		}
	}
}

// outOfStep is the error for a frame that does not start where the last
// octet count said it would.
func (f *framer) outOfStep() error {
	data := f.buf[f.r:f.w]
	return &frameError{reason: fmt.Sprintf("wrong octet count: the next frame starts with %q", data[:min(len(data), 16)])}
}

// Framing modes of messages that are not octet-counted.
const (
	modeUnknown uint8 = iota
	modeLF
	modeNUL
)

// indexTerm finds the end of the message at the start of data.
func (f *framer) indexTerm(data []byte) int {
	if f.mode == modeNUL {
		return bytes.IndexByte(data, 0)
	}
	i := bytes.IndexByte(data, '\n')
	if f.mode == modeUnknown {
		nul := bytes.IndexByte(data, 0)
		if nul < 0 && i < 0 {
			return -1 // decide when a terminator shows
		}
		f.mode = modeLF
		if nul >= 0 && !hasFrameStartAfterLF(data[:nul]) {
			f.mode = modeNUL
			return nul
		}
	}
	limit := data
	if i >= 0 {
		limit = data[:i]
	}
	if j := bytes.IndexByte(limit, 0); j >= 0 {
		return j
	}
	return i
}

// hasFrameStartAfterLF reports whether an LF in data is followed by what
// starts a syslog frame ('<' or an octet count): then LF separates
// messages; otherwise the LFs are inside a NUL-terminated message.
func hasFrameStartAfterLF(data []byte) bool {
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 || i+1 >= len(data) {
			return false
		}
		if c := data[i+1]; c == '<' || isDigit(c) {
			return true
		}
		data = data[i+1:]
	}
}

// octetFrame reads "LEN SP MSG" at f.r. ok is false when the digits are not
// followed by a space (then the frame is LF-framed text).
func (f *framer) octetFrame() (frame []byte, ok bool, err error) {
	for {
		data := f.buf[f.r:f.w]
		n, i := 0, 0
		for i < len(data) && i < maxCountDigits && isDigit(data[i]) {
			n = n*10 + int(data[i]-'0')
			i++
		}
		if i == len(data) && i < maxCountDigits {
			if err := f.fill(); err != nil {
				if f.r < f.w {
					return nil, false, nil // let the LF path return the rest
				}
				return nil, false, err
			}
			continue
		}
		if i == len(data) || data[i] != ' ' {
			if i == maxCountDigits {
				return nil, false, &frameError{reason: fmt.Sprintf("octet count %q too long", data[:i])}
			}
			return nil, false, nil
		}
		if n > f.max {
			return nil, false, &frameError{reason: fmt.Sprintf("octet count %d over the limit of %d bytes", n, f.max)}
		}
		start := i + 1
		for f.w-f.r < start+n {
			if err := f.fill(); err != nil {
				if err == io.EOF {
					err = &frameError{reason: fmt.Sprintf("stream ended inside a frame of %d bytes (wrong octet count?)", n)}
				}
				return nil, false, err
			}
		}
		frame = f.buf[f.r+start : f.r+start+n]
		f.r += start + n
		f.octet = true
		if len(frame) == 0 || frame[0] != '<' {
			return nil, false, &frameError{reason: fmt.Sprintf("wrong octet count: frame of %d bytes starts with %q", n, frame[:min(len(frame), 16)])}
		}
		return frame, true, nil
	}
}

// fill reads more data, first moving unread data to the front of the
// buffer and growing the buffer (up to what the largest frame needs) when
// it is full. It returns the read error, which stays for later calls.
func (f *framer) fill() error {
	if f.err != nil {
		return f.err
	}
	if f.r > 0 && (f.r == f.w || f.w == len(f.buf)) {
		copy(f.buf, f.buf[f.r:f.w])
		f.w -= f.r
		f.r = 0
	}
	if f.w == len(f.buf) {
		limit := f.max + maxCountDigits + 1
		if len(f.buf) >= limit {
			return &frameError{reason: "BUG: framer buffer full"} // callers check the limit first
		}
		nb := make([]byte, min(2*len(f.buf), limit))
		copy(nb, f.buf[:f.w])
		f.buf = nb
	}
	if f.wait != nil {
		f.wait()
	}
	n, err := f.rd.Read(f.buf[f.w:])
	f.w += n
	if err != nil {
		f.err = err
		if n > 0 {
			return nil
		}
	}
	return err
}
