package live

import (
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

// TestStreamBufferNoAlloc checks that a stream's write buffer goes back to
// the pool without allocating (it used to box the slice afresh each
// flush, an allocation per write).
func TestStreamBufferNoAlloc(t *testing.T) {
	st := &stream{}
	got := testing.AllocsPerRun(1000, func() {
		st.getBuf()
		st.buf = append(st.buf, "id: 1-1\nevent: log\ndata: {}\n\n"...)
		st.putBuf()
	})
	if got != 0 {
		t.Errorf("%v allocations a getBuf/putBuf, want 0", got)
	}
	if st.buf != nil || st.box != nil {
		t.Error("putBuf left the buffer with the stream")
	}
}

// TestRenderNoAlloc checks that rendering a matched event allocates
// nothing but, now and then, a new chunk of the frame arena.
func TestRenderNoAlloc(t *testing.T) {
	h, err := NewHub(DefaultOptions(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ents := make([]entry, 1002)
	for i := range ents {
		ents[i] = entry{seq: uint64(i + 1), ev: event.Event{Time: 1, Index: "app", Level: "INFO", Message: "GET /orders answered 200",
			Fields: []event.Field{{Name: "service", Value: "s7"}, {Name: "host", Value: "h1"}}}}
	}
	h.subMu.Lock()
	defer h.subMu.Unlock()
	i := 0
	got := testing.AllocsPerRun(1000, func() {
		h.render(&ents[i])
		i++
	})
	// A 64 KiB chunk holds about 500 of these frames: 2 chunks in 1,001
	// renders average to 0 allocations each.
	if got != 0 {
		t.Errorf("%v allocations a render, want 0", got)
	}
	// The scratch row reused across renders leaves each frame whole.
	const line = `{"timestamp":"1970-01-01T00:00:00.000000001Z","index":"app","level":"INFO","message":"GET /orders answered 200","service":"s7","host":"h1"}`
	for _, k := range []int{0, 5, 999} {
		want := "id: " + Cursor{h.epoch, uint64(k + 1)}.String() + "\nevent: log\ndata: " + line + "\n\n"
		if string(ents[k].frame) != want || string(ents[k].line) != line {
			t.Errorf("entry %d: frame %q, line %q; want %q", k, ents[k].frame, ents[k].line, want)
		}
	}
}
