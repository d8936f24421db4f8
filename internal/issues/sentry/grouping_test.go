package sentry

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/logcaster/logcaster/internal/issues"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// TestGroupingExact posts 100,000 sentry-go shaped events of 1,000 kinds
// (100 each; a quarter of the kinds per grouping rule, see sdkEvent)
// through the handler from 64 concurrent senders, and checks that they make
// exactly 1,000 issues of exactly 100 events and 97 users each, before and
// after a restart. The 1M-event figure is BenchmarkServer at -benchtime
// 1000000x, which checks the same.
func TestGroupingExact(t *testing.T) {
	const kinds, perKind, senders = 1000, 100, 64
	n := kinds * perKind
	if testing.Short() {
		n = kinds * 10
	}
	o := issues.DefaultOptions()
	o.Dir = t.TempDir()
	// Grouping is under test, not the disk: fsyncs of the shared disk made
	// this test take 20 s instead of a few.
	o.NoSync = true
	tr, err := issues.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := tr.CreateProject("web")
	pipe, _ := pipeline.New(pipeline.DefaultOptions(), &memSink{})
	defer pipe.Close()
	h := New(pipe, tr, DefaultOptions())
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan string, senders)
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				r := httptest.NewRequest("POST", "/api/web/envelope/", bytes.NewReader(sdkEnvelope(i%kinds, i)))
				r.SetPathValue("project", "web")
				r.Header.Set("X-Sentry-Auth", "Sentry sentry_key="+p.Key)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != 200 {
					errs <- rec.Body.String()
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case e := <-errs:
		t.Fatal(e)
	default:
	}
	check := func(tr *issues.Tracker, when string) {
		list, total, err := tr.List(issues.ListOptions{Limit: 1000})
		if err != nil || total != kinds || len(list) != kinds {
			t.Fatalf("%s: %d issues (%v), want %d", when, total, err, kinds)
		}
		rules := map[string]int{}
		for _, v := range list {
			rule, _, _ := strings.Cut(v.Fingerprint, ":")
			rules[rule]++
			wantUsers := 97 // seq%97 over seq = kind + 1000j: 1000 = 30 mod 97, coprime, so all 97 when j spans >= 97
			if n < kinds*97 {
				wantUsers = n / kinds
			}
			if v.Count != int64(n/kinds) || v.Users != wantUsers {
				t.Fatalf("%s: issue %s (%s) count %d users %d, want %d and %d", when, v.ShortID, v.Title, v.Count, v.Users, n/kinds, wantUsers)
			}
		}
		if rules["app"] != 250 || rules["msg"] != 250 || rules["sdk"] != 250 || rules["stack"] != 250 {
			t.Fatalf("%s: issues by grouping rule %v, want 250 each", when, rules)
		}
	}
	check(tr, "live")
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	tr, err = issues.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	check(tr, "after restart")
}
