package issues

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOnChangeNewCountRegression(t *testing.T) {
	opts := testOpts(t)
	var mu sync.Mutex
	var got []string
	opts.OnChange = func(v IssueView, c Change) {
		mu.Lock()
		got = append(got, v.ShortID+" "+c.String()+" "+v.Status+" "+itoa(v.Count))
		mu.Unlock()
	}
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	now := time.Now()
	for _, fn := range []string{"charge", "charge", "refund"} {
		if _, err := tr.Record(javaEvent(fn, now, "u1", "1.0")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.SetStatus("SHOP-1", StatusChange{Status: StatusResolved}); err != nil {
		t.Fatal(err)
	}
	tr.Record(javaEvent("charge", now, "u1", "1.0"))
	tr.Record(javaEvent("charge", now, "u1", "1.0"))
	want := []string{
		"SHOP-1 new_issue unresolved 1",
		"SHOP-1 count unresolved 2",
		"SHOP-2 new_issue unresolved 1",
		"SHOP-1 regression unresolved 3",
		"SHOP-1 count unresolved 4",
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// BenchmarkRecordOnChange is BenchmarkRecord with a hook that does nothing:
// the difference is the view built for the hook.
func BenchmarkRecordOnChange(b *testing.B) {
	opts := testOpts(b)
	opts.OnChange = func(IssueView, Change) {}
	tr, _ := Open(opts)
	defer tr.Close()
	evs := make([]*ErrorEvent, 1000)
	for i := range evs {
		evs[i] = javaEvent("f"+itoa(int64(i)), time.Now(), "u", "1")
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
