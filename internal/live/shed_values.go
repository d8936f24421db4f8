package live

import "github.com/logcaster/logcaster/internal/event"

// shedValues records, for a stretch the hub shed unmatched (matcher.go),
// which values its events had in the fields of the exact index (filters
// `field:=value`): a bitset of hashed (field, value) pairs, filled in
// Publish, which reads each such field of each shed event once. The
// matcher then tells a subscription of an exact filter that it may have
// lost events only when its value may occur in the stretch. Without it,
// every one of thousands of viewers got a dropped notice for every shed
// stretch, whatever its filter: 5,000 writes, a sixth of the server's CPU
// at maximum ingest with viewers attached that matched nothing, and as
// many resumes reading the store.
//
// A bit set by another pair only makes a notice that was not needed;
// a value that occurs always finds its bit set, so no loss goes untold.
type shedValues struct {
	// fields are the exact index's fields when the stretch was shed: a
	// filter on another field (indexed since) is told, as it was not
	// looked at.
	fields []string
	bits   []uint64
}

// shedValueBits sizes the bitset: 2^18 bits, 32 KiB a shed stretch; with
// 6,000 distinct values in a stretch (a contest's participants), about 2%
// of the absent values look present.
const shedValueBits = 18

func newShedValues(fields []string) *shedValues {
	return &shedValues{fields: fields, bits: make([]uint64, 1<<shedValueBits/64)}
}

// shedValueBit is the bit of one (field, value) pair: its fieldHash, the
// resume log's hash of a field, cut to the bitset's size.
func shedValueBit(field, value string) uint64 {
	return fieldHash(field, value) & (1<<shedValueBits - 1)
}

// add records one event's values of the fields.
func (sv *shedValues) add(ev *event.Event) {
	for _, f := range sv.fields {
		v, _ := ev.Get(f) // absent reads as "", as in the exact index
		b := shedValueBit(f, v)
		sv.bits[b/64] |= 1 << (b % 64)
	}
}

// may reports whether an event of the stretch may have value in field:
// always true for a nil set or a field it did not look at.
func (sv *shedValues) may(field, value string) bool {
	if sv == nil {
		return true
	}
	covered := false
	for _, f := range sv.fields {
		covered = covered || f == field
	}
	if !covered {
		return true
	}
	b := shedValueBit(field, value)
	return sv.bits[b/64]&(1<<(b%64)) != 0
}

// merge returns the set of two consecutive stretches: their union, or nil
// (every value may occur) unless both looked at the same fields.
func (sv *shedValues) merge(o *shedValues) *shedValues {
	if sv == nil || o == nil || len(sv.fields) != len(o.fields) {
		return nil
	}
	for i := range sv.fields {
		if sv.fields[i] != o.fields[i] {
			return nil
		}
	}
	for i := range sv.bits {
		sv.bits[i] |= o.bits[i]
	}
	return sv
}
