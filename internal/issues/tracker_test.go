package issues

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

func testOpts(t testing.TB) Options {
	o := DefaultOptions()
	o.Dir = t.TempDir()
	return o
}

func javaEvent(fn string, at time.Time, user, release string) *ErrorEvent {
	text := "com.acme.PaymentException: declined\n\tat com.acme.pay.Gateway." + fn + "(Gateway.java:12)\n"
	return &ErrorEvent{EventID: newEventID(), Project: "shop", Time: at.UnixNano(), Level: "error",
		Exceptions: ParseStackTrace(text), UserID: user, Release: release, TraceID: "t-" + fn}
}

func TestTrackerGroupingRestartAndStatus(t *testing.T) {
	opts := testOpts(t)
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tr.CreateProject("shop")
	if err != nil || len(p.Key) != 32 {
		t.Fatalf("project %+v %v", p, err)
	}
	now := time.Now()
	ids := map[string]int{}
	for i := 0; i < 5; i++ {
		sid, err := tr.Record(javaEvent("charge", now, fmt.Sprint("u", i%2), "1.0"))
		if err != nil {
			t.Fatal(err)
		}
		ids[sid]++
	}
	sid2, _ := tr.Record(javaEvent("refund", now.Add(time.Second), "u9", "1.0"))
	if len(ids) != 1 || ids["SHOP-1"] != 5 || sid2 != "SHOP-2" {
		t.Fatalf("short ids %v %s", ids, sid2)
	}
	v, err := tr.Get("SHOP-1")
	if err != nil || v.Count != 5 || v.Users != 2 || v.Title != "com.acme.PaymentException: declined" ||
		v.Culprit != "com.acme.pay.Gateway in charge" || v.Hourly[23] != 5 || v.Tags["release"][0] != (TagTop{"1.0", 5}) {
		t.Fatalf("issue %+v %v", v, err)
	}
	list, total, _ := tr.List(ListOptions{Sort: "last_seen"})
	if total != 2 || list[0].ShortID != "SHOP-2" {
		t.Fatalf("list by last_seen %+v", list)
	}
	list, _, _ = tr.List(ListOptions{Sort: "count"})
	if list[0].ShortID != "SHOP-1" {
		t.Fatalf("list by count %+v", list)
	}
	list, total, _ = tr.List(ListOptions{Query: "culprit:refund"})
	if total != 1 || list[0].ShortID != "SHOP-2" {
		t.Fatalf("q culprit %+v", list)
	}
	if _, err := tr.SetStatus("SHOP-1", StatusChange{Status: StatusResolved, InNextRelease: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.SetStatus("2", StatusChange{Status: StatusIgnored, IgnoreCount: 2}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen: the journal is replayed.
	tr, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.CheckKey("shop", p.Key) || tr.CheckKey("shop", "wrong") {
		t.Fatal("project key lost")
	}
	v, _ = tr.Get("SHOP-1")
	if v.Count != 5 || v.Status != StatusResolved || v.Users != 2 {
		t.Fatalf("after restart %+v", v)
	}
	// Same release: resolved in next release stays resolved.
	tr.Record(javaEvent("charge", now, "u1", "1.0"))
	if v, _ = tr.Get("SHOP-1"); v.Status != StatusResolved || v.Regressed {
		t.Fatalf("same release reopened %+v", v)
	}
	// A new release brings it back as a regression.
	tr.Record(javaEvent("charge", now, "u1", "1.1"))
	if v, _ = tr.Get("SHOP-1"); v.Status != StatusUnresolved || !v.Regressed || v.Count != 7 {
		t.Fatalf("regression %+v", v)
	}
	tr.Record(javaEvent("refund", now, "u9", "1.0"))
	if v, _ = tr.Get("SHOP-2"); v.Status != StatusIgnored {
		t.Fatalf("ignored woke early %+v", v)
	}
	tr.Record(javaEvent("refund", now, "u9", "1.0"))
	if v, _ = tr.Get("SHOP-2"); v.Status != StatusUnresolved || v.Count != 3 {
		t.Fatalf("ignored until 2 more %+v", v)
	}
	// Compact, add one more, reopen: snapshot + journal.
	if err := tr.Compact(); err != nil {
		t.Fatal(err)
	}
	tr.Record(javaEvent("charge", now, "u3", "1.1"))
	tr.Close()
	tr, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if v, _ = tr.Get("SHOP-1"); v.Count != 8 || v.Users != 3 || !v.Regressed {
		t.Fatalf("after compaction %+v", v)
	}
	evs, _ := tr.Events("SHOP-1")
	if len(evs) != 8 || evs[0].UserID != "u3" {
		t.Fatalf("events %d %+v", len(evs), evs[0])
	}
	if sid, _ := tr.Record(javaEvent("other", now, "", "")); sid != "SHOP-3" {
		t.Fatalf("short id after restart %s", sid)
	}
	files, _ := filepath.Glob(filepath.Join(opts.Dir, "journal-*.log"))
	if len(files) != 1 || filepath.Base(files[0]) != "journal-1.log" {
		t.Fatalf("journals %v", files)
	}
}

// TestTornJournal cuts the journal mid-record, as a crash during a write
// does: the good records are kept, the torn one is dropped.
func TestTornJournal(t *testing.T) {
	opts := testOpts(t)
	tr, _ := Open(opts)
	for i := 0; i < 3; i++ {
		tr.Record(javaEvent("charge", time.Now(), "", ""))
	}
	tr.Close()
	path := journalPath(opts.Dir, 0)
	data, _ := os.ReadFile(path)
	os.WriteFile(path, data[:len(data)-5], 0o644)
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := tr.Get("SHOP-1"); v.Count != 2 {
		t.Fatalf("count after torn tail %d", v.Count)
	}
	tr.Record(javaEvent("charge", time.Now(), "", ""))
	tr.Close()
	tr, _ = Open(opts)
	defer tr.Close()
	if v, _ := tr.Get("SHOP-1"); v.Count != 3 {
		t.Fatalf("count after append past cut %d", v.Count)
	}
}

func TestConsumeLogEvents(t *testing.T) {
	tr, _ := Open(testOpts(t))
	b := &event.Batch{}
	e := b.Add()
	e.Index, e.Level, e.Message, e.TraceID, e.Time = "api", event.LevelError, "payment failed", "abc123", time.Now().UnixNano()
	e.Fields = append(e.Fields, event.Field{Name: "stack_trace", Value: "java.lang.IllegalStateException: boom\n\tat com.acme.A.run(A.java:1)\n"})
	info := b.Add()
	info.Level, info.Message = event.LevelInfo, "ok"
	sentryEv := b.Add()
	sentryEv.Level, sentryEv.Fields = event.LevelError, []event.Field{{Name: FieldSentryEventID, Value: "x"}, {Name: "stack_trace", Value: "java.lang.X\n\tat a.B.c(B.java:1)"}}
	tr.Consume([]*event.Batch{b})
	tr.Close() // drains the queue
	list, total, _ := tr.List(ListOptions{})
	if total != 1 || list[0].ShortID != "API-1" || list[0].LatestTraceID != "abc123" || list[0].Title != "java.lang.IllegalStateException: boom" {
		t.Fatalf("%d %+v", total, list)
	}
}

func BenchmarkList10k(b *testing.B) {
	tr, _ := Open(testOpts(b))
	defer tr.Close()
	now := time.Now()
	for i := 0; i < 10000; i++ {
		tr.mu.Lock()
		tr.apply(&ErrorEvent{Project: "shop", Time: now.Add(time.Duration(i) * time.Millisecond).UnixNano(), Message: "kind " + strconv.Itoa(i) + "x", Fingerprint: []string{strconv.Itoa(i)}})
		tr.mu.Unlock()
	}
	b.Run("list", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if l, total, _ := tr.List(ListOptions{Status: StatusUnresolved, Query: "kind", Sort: "count"}); total != 10000 || len(l) != 100 {
				b.Fatal(total)
			}
		}
	})
	b.Run("detail", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := tr.Get("SHOP-" + strconv.FormatInt(int64(i%10000+1), 36)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRecord(b *testing.B) {
	tr, _ := Open(testOpts(b))
	defer tr.Close()
	evs := make([]*ErrorEvent, 1000)
	for i := range evs {
		evs[i] = javaEvent("f"+strconv.Itoa(i), time.Now(), "u", "1")
	}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tr.Record(evs[n.Add(1)%1000]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
