package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/fsutil"
)

// maxDedupClients bounds the memory of the dedup table; beyond it the
// clients not heard from longest are forgotten (a client resends only what
// it sent within one connection drop, long before it could be evicted).
const maxDedupClients = 100_000

// dedupTable remembers, per sending client, the highest batch sequence
// number stored. A client numbers its batches 1, 2, 3, ... and resends the
// unacknowledged ones in order after a reconnect, so every batch at or
// below the mark is a duplicate. It is used under Store.writeMu only.
type dedupTable struct {
	marks map[string]dedupMark
	clock uint64
}

type dedupMark struct {
	seq     uint64
	touched uint64
}

func newDedupTable() *dedupTable { return &dedupTable{marks: map[string]dedupMark{}} }

// dedupTxn collects the marks of one group commit; they are applied only
// when the group is durable, so a failed write does not make its batches
// look stored.
type dedupTxn struct {
	t       *dedupTable
	pending []event.Source
}

func (t *dedupTable) begin() dedupTxn { return dedupTxn{t: t} }

// admit reports whether a batch from src is new, and records it if so.
func (x *dedupTxn) admit(src event.Source) bool {
	if src.Seq == 0 || src.ClientID == "" {
		return true
	}
	mark := x.t.marks[src.ClientID].seq
	for i := len(x.pending) - 1; i >= 0; i-- {
		if x.pending[i].ClientID == src.ClientID {
			mark = x.pending[i].Seq
			break
		}
	}
	if src.Seq <= mark {
		return false
	}
	x.pending = append(x.pending, src)
	return true
}

func (x *dedupTxn) commit() {
	for _, src := range x.pending {
		x.t.set(src.ClientID, src.Seq)
	}
}

func (t *dedupTable) set(client string, seq uint64) {
	t.clock++
	if m, ok := t.marks[client]; ok && m.seq >= seq {
		t.marks[client] = dedupMark{m.seq, t.clock}
		return
	}
	t.marks[client] = dedupMark{seq, t.clock}
	if len(t.marks) > maxDedupClients {
		t.evict()
	}
}

// evict forgets the tenth of the clients heard from longest ago.
func (t *dedupTable) evict() {
	type kv struct {
		k string
		m dedupMark
	}
	all := make([]kv, 0, len(t.marks))
	for k, m := range t.marks {
		all = append(all, kv{k, m})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].m.touched < all[j].m.touched })
	for _, e := range all[:len(all)/10] {
		delete(t.marks, e.k)
	}
}

func (t *dedupTable) snapshot() map[string]uint64 {
	m := make(map[string]uint64, len(t.marks))
	for k, v := range t.marks {
		m[k] = v.seq
	}
	return m
}

// The checkpoint file says which WAL segments are covered by parts, and
// carries the dedup marks as of that point (FORMAT.md):
//
//	"LCCKPT" version(1) reserved(1) uvarint flushedSeq uvarint nClients
//	(uvarint len, client id, uvarint seq)... CRC-32C(everything before), LE
const (
	checkpointMagic   = "LCCKPT"
	checkpointVersion = 1
)

type checkpoint struct {
	flushedSeq uint64 // WAL segments <= this are covered by parts
	marks      map[string]uint64
}

func encodeCheckpoint(c checkpoint) []byte {
	b := append([]byte(checkpointMagic), checkpointVersion, 0)
	b = binary.AppendUvarint(b, c.flushedSeq)
	b = binary.AppendUvarint(b, uint64(len(c.marks)))
	keys := make([]string, 0, len(c.marks))
	for k := range c.marks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = appendStr(b, k)
		b = binary.AppendUvarint(b, c.marks[k])
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

var errBadCheckpoint = errors.New("damaged checkpoint")

func decodeCheckpoint(b []byte) (checkpoint, error) {
	c := checkpoint{marks: map[string]uint64{}}
	if len(b) < len(checkpointMagic)+2+4 || string(b[:len(checkpointMagic)]) != checkpointMagic {
		return c, errBadCheckpoint
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum || body[len(checkpointMagic)] != checkpointVersion {
		return c, errBadCheckpoint
	}
	d := walDecoder{p: body[len(checkpointMagic)+2:], b: &event.Batch{}}
	c.flushedSeq = d.uvarint()
	n := d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := d.str()
		c.marks[k] = d.uvarint()
	}
	if d.err != nil || len(d.p) != 0 {
		return c, errBadCheckpoint
	}
	return c, nil
}

func (s *Store) writeCheckpoint(c checkpoint) error {
	if err := fsutil.WriteFileAtomic(s.path(walDirName, checkpointName), encodeCheckpoint(c)); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}
