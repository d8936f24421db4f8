package gelf

import (
	"encoding/binary"
	"errors"
	"time"
)

// A chunked GELF datagram is a 12-byte header and a piece of the message:
//
//	+------+------+------------------+-----+-------+---------- ...
//	| 0x1e | 0x0f | message id (8 B) | seq | count | payload
//	+------+------+------------------+-----+-------+---------- ...
//
// seq counts from 0 to count-1; count is at most 128. The payloads in seq
// order are the (possibly compressed) message.
const (
	chunkMagic0    = 0x1e
	chunkMagic1    = 0x0f
	chunkHeaderLen = 12
	// MaxChunks is GELF's limit on chunks a message; Graylog drops
	// messages that announce more.
	MaxChunks = 128
)

// Errors of chunk reassembly.
var (
	errBadChunk      = errors.New("gelf: malformed chunk header")
	errPendingFull   = errors.New("gelf: too many incomplete chunked messages")
	errChunkMismatch = errors.New("gelf: chunk count differs from earlier chunks of the message")
)

// isChunk tells a chunked datagram by its magic.
func isChunk(p []byte) bool {
	return len(p) >= 2 && p[0] == chunkMagic0 && p[1] == chunkMagic1
}

// pendingMsg is a chunked message still missing chunks.
type pendingMsg struct {
	first  time.Time
	got    int
	size   int
	chunks [][]byte // by seq; nil until received
}

// assembler reassembles chunked messages. It is used by one goroutine.
//
// Memory is bounded twice: at most maxPending incomplete messages and at
// most maxBytes of their payloads; a chunk of a new message that would
// pass either is refused. Incomplete messages older than timeout are
// dropped by sweep.
type assembler struct {
	pending    map[uint64]*pendingMsg
	maxPending int
	maxBytes   int
	maxMessage int
	timeout    time.Duration
	bytes      int
}

func newAssembler(maxPending, maxBytes, maxMessage int, timeout time.Duration) *assembler {
	return &assembler{pending: make(map[uint64]*pendingMsg), maxPending: maxPending,
		maxBytes: maxBytes, maxMessage: maxMessage, timeout: timeout}
}

// add takes one chunked datagram and returns the whole message when it
// completes it (nil before). A duplicate chunk is ignored. An error means
// the chunk (and, for a size or count mismatch, its message) was refused.
// p is copied; the caller may reuse it.
func (a *assembler) add(p []byte, now time.Time) ([]byte, error) {
	if len(p) < chunkHeaderLen || !isChunk(p) {
		return nil, errBadChunk
	}
	id := binary.BigEndian.Uint64(p[2:10])
	seq, count := int(p[10]), int(p[11])
	if count == 0 || count > MaxChunks || seq >= count {
		return nil, errBadChunk
	}
	payload := p[chunkHeaderLen:]
	m := a.pending[id]
	if m == nil {
		if count == 1 {
			if len(payload) > a.maxMessage {
				return nil, ErrTooLarge
			}
			return append([]byte(nil), payload...), nil
		}
		if len(a.pending) >= a.maxPending || a.bytes+len(payload) > a.maxBytes {
			return nil, errPendingFull
		}
		m = &pendingMsg{first: now, chunks: make([][]byte, count)}
		a.pending[id] = m
	} else if len(m.chunks) != count {
		a.remove(id, m)
		return nil, errChunkMismatch
	}
	if m.chunks[seq] != nil {
		return nil, nil // a duplicate: UDP may deliver one twice
	}
	if m.size+len(payload) > a.maxMessage {
		a.remove(id, m)
		return nil, ErrTooLarge
	}
	if a.bytes+len(payload) > a.maxBytes {
		a.remove(id, m)
		return nil, errPendingFull
	}
	m.chunks[seq] = append(make([]byte, 0, len(payload)), payload...)
	m.got++
	m.size += len(payload)
	a.bytes += len(payload)
	if m.got < count {
		return nil, nil
	}
	msg := make([]byte, 0, m.size)
	for _, c := range m.chunks {
		msg = append(msg, c...)
	}
	a.remove(id, m)
	return msg, nil
}

func (a *assembler) remove(id uint64, m *pendingMsg) {
	a.bytes -= m.size
	delete(a.pending, id)
}

// sweep drops the incomplete messages older than the timeout and returns
// how many it dropped.
func (a *assembler) sweep(now time.Time) int {
	n := 0
	for id, m := range a.pending {
		if now.Sub(m.first) >= a.timeout {
			a.remove(id, m)
			n++
		}
	}
	return n
}

// len is the number of incomplete messages.
func (a *assembler) len() int { return len(a.pending) }
