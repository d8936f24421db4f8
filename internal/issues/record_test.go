package issues

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"
)

func fullEvent() *ErrorEvent {
	return &ErrorEvent{EventID: "0123456789abcdef0123456789abcdef", Project: "shop", Time: 1763800000123456789,
		Timestamp: "2025-11-22T08:26:40.123456789Z", Level: "fatal", Message: "boom \x00 é",
		Exceptions: []Exception{
			{Type: "io.EOF", Value: "read"},
			{Type: "E", Value: "v", Module: "m", Frames: []Frame{{Module: "a", Function: "f", File: "a.go", Line: 12, InApp: true}, {Function: "g", Line: -1}}},
		},
		Fingerprint: []string{"{{ default }}", "x"}, TraceID: "t", Release: "r", Environment: "e", ServerName: "s",
		Platform: "go", UserID: "u", UserIP: "10.0.0.1", Tags: map[string]string{"k": "v", "": ""}, Logger: "l",
		Extra: map[string]string{"order": `{"id":7}`, "note": "é\x00", "": ""}}
}

func TestEventRecordRoundTrip(t *testing.T) {
	for _, e := range []*ErrorEvent{fullEvent(), {Project: "p", Time: -5, Timestamp: "1969-12-31T23:59:59.999999995Z"}} {
		p := appendEventRecord(nil, e)
		got, err := decodeEventRecord(p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("got  %+v\nwant %+v", got, e)
		}
		// Every cut of the record is an error, never a panic or a
		// shorter event taken for whole, but for the cut right before
		// the optional extra section: that is the record of the event
		// without extra (the journal's CRC catches such a cut).
		noExtra := *e
		noExtra.Extra = nil
		end := len(appendEventRecord(nil, &noExtra))
		for n := 0; n < len(p); n++ {
			got, err := decodeEventRecord(p[:n])
			if n == end && e.Extra != nil {
				if err != nil || !reflect.DeepEqual(got, &noExtra) {
					t.Fatalf("record cut before its extra: %+v %v", got, err)
				}
				continue
			}
			if err == nil {
				t.Fatalf("record cut at %d of %d decoded", n, len(p))
			}
		}
		if _, err := decodeEventRecord(append(p, 0)); err == nil {
			t.Fatal("record with a byte after its end decoded")
		}
	}
}

// TestEventRecordWithoutExtra: a record of an event without extra ends
// after its exceptions, as every record written before extra existed did,
// and decodes unchanged; an empty extra section is refused.
func TestEventRecordWithoutExtra(t *testing.T) {
	e := fullEvent()
	e.Extra = nil
	p := appendEventRecord(nil, e)
	if got, err := decodeEventRecord(p); err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("%+v %v", got, err)
	}
	with := fullEvent()
	if q := appendEventRecord(nil, with); len(q) <= len(p) {
		t.Fatalf("record with extra %d bytes, without %d", len(q), len(p))
	}
	// Written by appendEventRecord before extra existed (commit 269c95d).
	old, _ := hex.DecodeString("01aab48ae3a9b0a3fa302030313233343536373839616263646566303132333435363738396162636465660473686f70056572726f72016d000000000000000001016601016b01760101450176000100016604612e676f1801")
	want := &ErrorEvent{EventID: "0123456789abcdef0123456789abcdef", Project: "shop", Time: 1763800000123456789,
		Timestamp: "2025-11-22T08:26:40.123456789Z", Level: "error", Message: "m", Tags: map[string]string{"k": "v"}, Fingerprint: []string{"f"},
		Exceptions: []Exception{{Type: "E", Value: "v", Frames: []Frame{{Function: "f", File: "a.go", Line: 12, InApp: true}}}}}
	if got, err := decodeEventRecord(old); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("old record: %+v %v", got, err)
	}
	if _, err := decodeEventRecord(append(old, 0)); err == nil {
		t.Fatal("record with an empty extra section decoded")
	}
}

// TestJournalReplaysJSONEventRecords: journals written before the binary
// event record (JSON payloads) still replay, mixed with new records.
func TestJournalReplaysJSONEventRecords(t *testing.T) {
	opts := testOpts(t)
	j, err := openJournal(opts.Dir, 0, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	old := fullEvent()
	payload, _ := json.Marshal(&journalRecord{Op: "event", Event: old})
	j.append(payload)
	j.appendRecord(func(dst []byte) []byte { return appendEventRecord(dst, fullEvent()) })
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	list, total, _ := tr.List(ListOptions{})
	if total != 1 || list[0].Count != 2 || list[0].Users != 1 || list[0].Title != "E: v" || list[0].Culprit != "a in f" {
		t.Fatalf("%d %+v", total, list)
	}
	evs, _ := tr.Events(list[0].ID)
	if len(evs) != 2 || !reflect.DeepEqual(evs[0], fullEvent()) {
		t.Fatalf("replayed binary event %+v", evs[0])
	}
}

// TestRecordAllOneWait: a batch is counted in order, each event gets its
// issue's short id, and it survives a restart.
func TestRecordAllOneWait(t *testing.T) {
	opts := testOpts(t)
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	evs := []*ErrorEvent{javaEvent("a", now, "u1", "1"), javaEvent("b", now, "u1", "1"), javaEvent("a", now, "u2", "1")}
	sids := make([]string, 3)
	if err := tr.RecordAll(evs, sids); err != nil {
		t.Fatal(err)
	}
	if sids[0] != "SHOP-1" || sids[1] != "SHOP-2" || sids[2] != "SHOP-1" {
		t.Fatalf("short ids %v", sids)
	}
	tr.Close()
	tr, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if v, _ := tr.Get("SHOP-1"); v.Count != 2 || v.Users != 2 {
		t.Fatalf("after restart %+v", v)
	}
}

func FuzzDecodeEventRecord(f *testing.F) {
	f.Add(appendEventRecord(nil, fullEvent()))
	f.Add(appendEventRecord(nil, &ErrorEvent{}))
	f.Add([]byte{recEvent, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := decodeEventRecord(p)
		if err != nil {
			return
		}
		// What decodes re-encodes to a record that decodes alike (the
		// bytes may differ only in the order of tags).
		e2, err := decodeEventRecord(appendEventRecord(nil, e))
		if err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("re-encoded %+v: %+v %v", e, e2, err)
		}
	})
}

// TestRecordedBeforeReturn: when Record returns, its change is in the
// journal file, without Close (a kill -9 right after the answer loses
// nothing): a copy of the folder taken then opens with the event counted.
func TestRecordedBeforeReturn(t *testing.T) {
	opts := testOpts(t)
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	now := time.Now()
	for i := 0; i < 3; i++ {
		if _, err := tr.Record(javaEvent("charge", now, "u"+strconv.Itoa(i), "1")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.SetStatus("SHOP-1", StatusChange{Status: StatusResolved}); err != nil {
		t.Fatal(err)
	}
	copyOpts := testOpts(t)
	files, _ := filepath.Glob(filepath.Join(opts.Dir, "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(copyOpts.Dir, filepath.Base(f)), data, 0o644)
	}
	cp, err := Open(copyOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if v, err := cp.Get("SHOP-1"); err != nil || v.Count != 3 || v.Users != 3 || v.Status != StatusResolved {
		t.Fatalf("copy taken after Record returned: %+v %v", v, err)
	}
}
