// Package sendproto is the acknowledged framing `logcaster send` speaks on
// the TCP lines port, and its client. It exists so that a sender can know
// which of its lines are durable and resend the others after a broken
// connection, losing nothing and (with the store's deduplication by
// event.Source) storing nothing twice.
//
// # Format
//
// A connection opens like a lines connection, with one text line from the
// client (the server tells the two apart by this first line):
//
//	LOGCASTER-SEND/1 <client-id>[ <index>]\n
//
// client-id names the sender for deduplication: 1 to 64 bytes of
// [A-Za-z0-9._:-], unique per run of the client. index (same characters, 1
// to 255 bytes) is the default index of the lines; without it the server's
// default applies. The server answers with one line, "LOGCASTER-SEND/1 OK\n",
// or "LOGCASTER-SEND/1 ERR <reason>\n" and closes.
//
// Then the client sends frames, all integers big-endian:
//
//	offset  size  field
//	0       4     N, payload length in bytes, 1 <= N <= MaxFrameBytes
//	4       8     seq: 1 for the client's first frame, one more for each
//	              next frame; a resent frame keeps its seq
//	12      4     CRC-32C (Castagnoli) of the payload
//	16      N     payload: lines separated by LF (a final LF is optional),
//	              each parsed like a line of the lines port
//
// and the server answers every frame, in the order received, with a reply:
//
//	offset  size  field
//	0       1     kind: 'A' (0x41) ack, 'E' (0x45) error
//	1       8     seq of the frame answered
//	9       2     error only: M, message length
//	11      M     error only: the message, UTF-8
//
// An ack is sent only after the frame's events are durable. An error means
// the frame was not stored (the store failed); the client gives up with the
// message. A damaged frame (bad length or CRC) makes the server close the
// connection without a reply; the client resends on a new one.
//
// The client keeps a bounded window of frames in flight and keeps every
// unacknowledged frame; after a broken connection it reconnects and resends
// them in order with their seq. The server sets event.Source{client-id,
// seq} on the frame's batch; the store drops a batch whose Source it has
// already stored, so a frame that was stored but whose ack was lost is
// stored once.
package sendproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Magic opens the handshake line and its answer.
const Magic = "LOGCASTER-SEND/1"

// MaxFrameBytes is the largest payload the format allows: large enough for
// the client's ~1 MB frames with room, small enough that a damaged length
// cannot make the server allocate much.
const MaxFrameBytes = 16 << 20

// HeaderLen is the size of a frame header.
const HeaderLen = 16

// Reply kinds.
const (
	KindAck   = 'A'
	KindError = 'E'
)

// Limits on handshake names.
const (
	maxClientIDLen = 64
	maxIndexLen    = 255
	// maxHandshakeLen bounds the handshake line: magic, two names, spaces, LF.
	maxHandshakeLen = len(Magic) + maxClientIDLen + maxIndexLen + 3
	// maxErrorLen bounds an error reply's message (its length is two bytes).
	maxErrorLen = 1024
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt marks a frame whose header or checksum is wrong.
var ErrCorrupt = errors.New("corrupt send frame")

func validName(s string, maxLen int) bool {
	if len(s) == 0 || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// ValidClientID reports whether id may be used as a client id.
func ValidClientID(id string) bool { return validName(id, maxClientIDLen) }

// ValidIndex reports whether name may be sent as the default index.
func ValidIndex(name string) bool { return validName(name, maxIndexLen) }

// AppendHandshake appends the client's handshake line; index may be "".
func AppendHandshake(dst []byte, clientID, index string) []byte {
	dst = append(dst, Magic...)
	dst = append(dst, ' ')
	dst = append(dst, clientID...)
	if index != "" {
		dst = append(dst, ' ')
		dst = append(dst, index...)
	}
	return append(dst, '\n')
}

// ParseHandshake parses the client's handshake line (with or without its
// LF or CRLF).
func ParseHandshake(line []byte) (clientID, index string, err error) {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) > maxHandshakeLen {
		return "", "", errors.New("handshake line too long")
	}
	rest, ok := bytes.CutPrefix(line, []byte(Magic+" "))
	if !ok {
		return "", "", errors.New("not a " + Magic + " handshake")
	}
	id, idx, _ := bytes.Cut(rest, []byte(" "))
	clientID, index = string(id), string(idx)
	if !ValidClientID(clientID) {
		return "", "", fmt.Errorf("invalid client id %q", clientID)
	}
	if index != "" && !ValidIndex(index) {
		return "", "", fmt.Errorf("invalid index %q", index)
	}
	return clientID, index, nil
}

// Handshake answers.
const (
	HandshakeOK  = Magic + " OK\n"
	handshakeErr = Magic + " ERR "
)

// AppendHandshakeError appends the server's refusal line.
func AppendHandshakeError(dst []byte, reason string) []byte {
	dst = append(dst, handshakeErr...)
	for i := 0; i < len(reason) && i < maxErrorLen; i++ {
		if c := reason[i]; c != '\n' && c != '\r' {
			dst = append(dst, c)
		}
	}
	return append(dst, '\n')
}

// ReadHandshakeAnswer reads the server's answer line; a refusal is an error
// carrying the server's reason.
func ReadHandshakeAnswer(r *bufio.Reader) error {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return errors.New("handshake answer too long")
		}
		return fmt.Errorf("read handshake answer: %w", err)
	}
	if string(line) == HandshakeOK {
		return nil
	}
	if reason, ok := bytes.CutPrefix(line, []byte(handshakeErr)); ok {
		return fmt.Errorf("server refused the connection: %s", bytes.TrimRight(reason, "\n"))
	}
	return fmt.Errorf("server does not speak %s (answered %q)", Magic, truncate(line, 64))
}

func truncate(p []byte, n int) []byte {
	if len(p) > n {
		return p[:n]
	}
	return p
}

// AppendFrameHeader appends the header of a frame carrying payload.
func AppendFrameHeader(dst []byte, seq uint64, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.BigEndian.AppendUint64(dst, seq)
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(payload, castagnoli))
}

// ReadFrame reads one frame, appending its payload to buf[:0], and checks
// its length against maxBytes and its checksum. io.EOF means the stream
// ended cleanly between frames; a stream cut inside a frame gives
// io.ErrUnexpectedEOF.
func ReadFrame(r *bufio.Reader, buf []byte, maxBytes int) (seq uint64, payload []byte, err error) {
	var hdr [HeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, buf[:0], err
	}
	n := binary.BigEndian.Uint32(hdr[0:4])
	seq = binary.BigEndian.Uint64(hdr[4:12])
	sum := binary.BigEndian.Uint32(hdr[12:16])
	if n == 0 || int64(n) > int64(maxBytes) || seq == 0 {
		return 0, buf[:0], fmt.Errorf("%w: length %d (max %d), seq %d", ErrCorrupt, n, maxBytes, seq)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, buf[:0], err
	}
	if crc32.Checksum(buf, castagnoli) != sum {
		return 0, buf[:0], fmt.Errorf("%w: checksum mismatch in frame %d", ErrCorrupt, seq)
	}
	return seq, buf, nil
}

// AppendAck appends an ack of frame seq.
func AppendAck(dst []byte, seq uint64) []byte {
	dst = append(dst, KindAck)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// AppendError appends an error reply for frame seq (msg cut to 1 KiB).
func AppendError(dst []byte, seq uint64, msg string) []byte {
	if len(msg) > maxErrorLen {
		msg = msg[:maxErrorLen]
	}
	dst = append(dst, KindError)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(msg)))
	return append(dst, msg...)
}

// Reply is one answer of the server.
type Reply struct {
	Kind byte
	Seq  uint64
	Msg  string // error replies only
}

// ReadReply reads one reply.
func ReadReply(r *bufio.Reader) (Reply, error) {
	var hdr [9]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Reply{}, err
	}
	rep := Reply{Kind: hdr[0], Seq: binary.BigEndian.Uint64(hdr[1:])}
	switch rep.Kind {
	case KindAck:
		return rep, nil
	case KindError:
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return Reply{}, noEOF(err)
		}
		msg := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(r, msg); err != nil {
			return Reply{}, noEOF(err)
		}
		rep.Msg = string(msg)
		return rep, nil
	}
	return Reply{}, fmt.Errorf("%w: unknown reply kind 0x%02x", ErrCorrupt, rep.Kind)
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
