package live

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// TestOverloadShedsWithoutWaiting holds the matcher up, as an overloaded
// machine would, while ten groups are committed: every commit returns at
// once; the first group is offered and the other nine are shed; the viewer
// gets the first group, then one dropped notice naming 900 unchecked events
// and the cursor after the first group, and a resume from it gets the 900
// in order, then live events, none twice.
func TestOverloadShedsWithoutWaiting(t *testing.T) {
	opts := DefaultOptions()
	opts.PendingEvents = 100
	e := newEnv(t, opts, nil)
	c := e.open(t, "/api/v1/tail")

	const groups, per = 10, 100
	var msgs []string
	e.hub.subMu.Lock() // the matcher cannot offer anything meanwhile
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for g := 0; g < groups; g++ {
			batch := make([]string, per)
			for i := range batch {
				batch[i] = "m" + strconv.Itoa(g*per+i)
			}
			msgs = append(msgs, batch...)
			e.send(t, batch...)
		}
	}()
	select {
	case <-sent:
	case <-time.After(10 * time.Second):
		e.hub.subMu.Unlock()
		t.Fatal("the pipeline's commits waited for the matcher")
	}
	e.hub.subMu.Unlock()
	if got := e.hub.Shed(); got != (groups-1)*per {
		t.Fatalf("shed %d events, want %d", got, (groups-1)*per)
	}

	var got []string
	var f frame
	for {
		f = c.must(t)
		if f.typ != "log" {
			break
		}
		got = append(got, msgOf(t, f))
	}
	if f.typ != "dropped" {
		t.Fatalf("want dropped after %d events, got %+v", len(got), f)
	}
	var d struct {
		Count     int    `json:"count"`
		Unchecked int    `json:"unchecked"`
		Resume    string `json:"resume_cursor"`
	}
	if err := json.Unmarshal([]byte(f.data), &d); err != nil {
		t.Fatal(err)
	}
	if len(got) != per || d.Count != 0 || d.Unchecked != (groups-1)*per || seqOf(t, d.Resume) != per {
		t.Fatalf("got %d events then dropped %+v; want %d, count 0, unchecked %d, seq %d", len(got), d, per, (groups-1)*per, per)
	}
	c.resp.Body.Close()

	c2 := e.open(t, "/api/v1/tail?cursor="+d.Resume)
	e.send(t, "after")
	msgs = append(msgs, "after")
	for len(got) < len(msgs) {
		f := c2.must(t)
		if f.typ != "log" {
			t.Fatalf("after %d events: %+v", len(got), f)
		}
		got = append(got, msgOf(t, f))
	}
	for i, m := range got {
		if m != msgs[i] {
			t.Fatalf("event %d is %q, want %q", i, m, msgs[i])
		}
	}
	// Nothing more: a heartbeat-free wait shows no repeat.
	e.send(t, "last")
	if f := c2.must(t); f.typ != "log" || msgOf(t, f) != "last" {
		t.Fatalf("want last, got %+v", f)
	}
}

// TestShedTellsOnlyFiltersItMayConcern: when the hub sheds a stretch, a
// viewer of an exact value that no event of the stretch had gets no dropped
// notice and goes on; one whose value occurs, and one of another kind of
// filter, are told, and resuming gives the first exactly its lost event.
func TestShedTellsOnlyFiltersItMayConcern(t *testing.T) {
	opts := DefaultOptions()
	opts.PendingEvents = 100
	e := newEnv(t, opts, nil)
	hit := e.open(t, "/api/v1/tail?q=message:%3Dm150")
	miss := e.open(t, "/api/v1/tail?q=message:%3Dnowhere")
	word := e.open(t, "/api/v1/tail?q=m150")

	e.hub.subMu.Lock() // the matcher cannot offer anything meanwhile
	for g := 0; g < 3; g++ {
		batch := make([]string, 100)
		for i := range batch {
			batch[i] = "m" + strconv.Itoa(g*100+i)
		}
		e.send(t, batch...)
	}
	e.hub.subMu.Unlock()
	if got := e.hub.Shed(); got != 200 {
		t.Fatalf("shed %d events, want 200", got)
	}
	// Once the matcher has caught up, later events are matched, not shed.
	for deadline := time.Now().Add(10 * time.Second); ; {
		e.hub.mu.Lock()
		idle := len(e.hub.pending) == 0 && e.hub.pendingEvents == 0
		e.hub.mu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the matcher did not catch up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	told := map[string]*sseClient{"message:=m150": hit, "m150": word}
	var resume string
	for name, c := range told {
		f := c.must(t)
		var d struct {
			Unchecked int    `json:"unchecked"`
			Resume    string `json:"resume_cursor"`
		}
		if f.typ != "dropped" || json.Unmarshal([]byte(f.data), &d) != nil || d.Unchecked != 200 || seqOf(t, d.Resume) != 100 {
			t.Fatalf("%s: want a dropped notice for the 200 shed events, resuming after the first 100, got %+v", name, f)
		}
		resume = d.Resume
	}
	// Resuming from the notice gives the exact viewer the one event it lost.
	again := e.open(t, "/api/v1/tail?q=message:%3Dm150&cursor="+resume)
	if f := again.must(t); f.typ != "log" || msgOf(t, f) != "m150" || seqOf(t, f.id) != 151 {
		t.Fatalf("resume: got %+v, want m150 at cursor 151", f)
	}
	// Sent once the notices are read (until then a stream drops, so that
	// it never skips ahead of what it was told it lost).
	e.send(t, "nowhere", "m150")
	for name, c := range told {
		if f := c.must(t); msgOf(t, f) != "m150" {
			t.Fatalf("%s: after the notice, got %+v", name, f)
		}
	}
	// The viewer of a value no shed event had: no notice, its event.
	if f := miss.must(t); f.typ != "log" || msgOf(t, f) != "nowhere" {
		t.Fatalf("message:=nowhere: want its event and no notice, got %+v", f)
	}
}
