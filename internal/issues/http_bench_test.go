package issues

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// apiServer serves the issue API of a tracker holding n issues over a
// real HTTP server. Each issue has 20 events from 5 users over 3 releases
// and 2 environments, like a busy production project's.
func apiServer(tb testing.TB, n int) (*Tracker, string) {
	opts := testOpts(tb)
	opts.NoSync = true
	tr, err := Open(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tr.Close() })
	now := time.Now()
	batch := make([]*ErrorEvent, 0, 1000)
	for i := 0; i < n; i++ {
		for k := 0; k < 20; k++ {
			e := javaEvent("op"+strconv.Itoa(i), now.Add(time.Duration(i*20+k)*time.Millisecond), "u"+strconv.Itoa(k%5), "1."+strconv.Itoa(k%3))
			e.Environment = []string{"production", "staging"}[k%2]
			e.ServerName = "web-" + strconv.Itoa(k%4)
			e.Tags = map[string]string{"route": "/api/op" + strconv.Itoa(i%50)}
			batch = append(batch, e)
			if len(batch) == cap(batch) {
				if err := tr.RecordAll(batch, nil); err != nil {
					tb.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	if err := tr.RecordAll(batch, nil); err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	(&API{T: tr}).Register(func(p string, h http.Handler) { mux.Handle(p, h) })
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return tr, srv.URL
}

func getJSON(tb testing.TB, url string, into any) {
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		tb.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
}

type listAnswer struct {
	Issues []IssueView `json:"issues"`
	Total  int         `json:"total"`
}

// BenchmarkAPI10k times the issue list and detail over HTTP (request,
// handler, JSON answer, client decode) with 10,000 issues of 20 events
// each. Issue 5 asks for under 50 ms.
//
//	go test -run XXX -bench API10k -benchmem ./internal/issues/
func BenchmarkAPI10k(b *testing.B) {
	const n = 10000
	_, url := apiServer(b, n)
	lists := []struct{ name, query string }{
		{"list", ""},
		{"list_by_count", "?sort=count&status=unresolved"},
		{"list_search", "?q=" + "culprit:gateway%20-is:resolved"},
		{"list_1000", "?limit=1000&sort=first_seen"},
	}
	for _, l := range lists {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var a listAnswer
				getJSON(b, url+"/api/v1/issues"+l.query, &a)
				if a.Total != n || len(a.Issues) == 0 {
					b.Fatalf("total %d, %d issues", a.Total, len(a.Issues))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/req")
		})
	}
	b.Run("detail", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var v IssueView
			getJSON(b, url+"/api/v1/issues/SHOP-"+strconv.FormatInt(int64(i%n+1), 36), &v)
			if v.Count != 20 || v.Users != 5 || len(v.Tags["release"]) != 3 {
				b.Fatalf("%+v", v)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/req")
	})
	b.Run("events", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var a struct {
				Events []ErrorEvent `json:"events"`
			}
			getJSON(b, url+"/api/v1/issues/"+strconv.Itoa(i%n+1)+"/events", &a)
			if len(a.Events) != 20 {
				b.Fatalf("%d events", len(a.Events))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/req")
	})
}

// TestAPIListOrderAndDetail checks the answers BenchmarkAPI10k times, on a
// smaller tracker: newest first by default, by count, a search, paging by
// limit, and one issue's detail.
func TestAPIListOrderAndDetail(t *testing.T) {
	tr, url := apiServer(t, 50)
	tr.Record(javaEvent("op7", time.Now().Add(time.Hour), "u9", "2.0")) // op7: newest, 21 events, 6 users
	var a listAnswer
	getJSON(t, url+"/api/v1/issues?limit=3", &a)
	if a.Total != 50 || len(a.Issues) != 3 || a.Issues[0].ShortID != "SHOP-8" || a.Issues[1].ShortID != "SHOP-1E" || a.Issues[2].ShortID != "SHOP-1D" {
		t.Fatalf("newest first: %d %+v", a.Total, a.Issues)
	}
	getJSON(t, url+"/api/v1/issues?sort=count&limit=1", &a)
	if a.Issues[0].ShortID != "SHOP-8" || a.Issues[0].Count != 21 || a.Issues[0].Users != 6 {
		t.Fatalf("by count %+v", a.Issues)
	}
	getJSON(t, url+"/api/v1/issues?q=culprit:op4", &a) // op4, op40 .. op49
	if a.Total != 11 {
		t.Fatalf("search culprit:op4: %d", a.Total)
	}
	var v IssueView
	getJSON(t, url+"/api/v1/issues/SHOP-8", &v)
	if v.Count != 21 || v.Culprit != "com.acme.pay.Gateway in op7" || v.Tags["release"][0] != (TagTop{"1.0", 7}) ||
		v.Tags["environment"][0] != (TagTop{"production", 10}) || len(v.Tags["server_name"]) != 4 {
		t.Fatalf("detail %+v", v)
	}
}
