package live

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/query"
)

// benchBatchOf is a group of n events spread over 100 services numbered
// from first: with first 0 each of 100 filters (service:=sN) matches 1% of
// it; from 100 on, no filter of BenchmarkPublish matches.
func benchBatchOf(n, first int) *event.Batch {
	b := &event.Batch{}
	now := time.Now().UnixNano()
	for i := 0; i < n; i++ {
		e := b.Add()
		e.Time = now + int64(i)
		e.Index = "app"
		e.Level = "INFO"
		e.Message = b.StrString("GET /api/v1/orders/" + strconv.Itoa(i) + " answered 200 in 12ms")
		e.Fields = append(e.Fields, event.Field{Name: "service", Value: b.StrString("s" + strconv.Itoa(first+i%100))})
	}
	return b
}

// BenchmarkPublish is the pipeline subscriber's cost a group of 1,000
// events, with no viewer and with 5,000 viewers over 100 filters whose
// queues are taken each round as their streams would.
func BenchmarkPublish(b *testing.B) {
	for _, c := range []struct {
		viewers int
		name    string
		first   int
	}{{0, "", 0}, {5000, "", 0}, {5000, ",none_matching", 100}} {
		viewers := c.viewers
		b.Run("viewers="+strconv.Itoa(viewers)+c.name, func(b *testing.B) {
			h, err := NewHub(DefaultOptions(), time.Now())
			if err != nil {
				b.Fatal(err)
			}
			var subs []*Subscription
			for i := 0; i < viewers; i++ {
				q, err := query.Parse("service:=s" + strconv.Itoa(i%100))
				if err != nil {
					b.Fatal(err)
				}
				s, _, err := h.Subscribe(q, nil)
				if err != nil {
					b.Fatal(err)
				}
				subs = append(subs, s)
			}
			batch := []*event.Batch{benchBatchOf(benchGroup, c.first)}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h.Publish(batch)
				h.settle()
				for _, s := range subs {
					s.take()
				}
			}
			b.ReportMetric(float64(b.N*benchGroup)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// benchGroup is the events a published group holds in BenchmarkPublish;
// the pipeline's groups reach 32,768 under full load.
var benchGroup = 1000

// settle waits until the matcher has offered everything published.
func (h *Hub) settle() {
	for {
		h.subMu.Lock()
		m := h.matched
		h.subMu.Unlock()
		h.mu.Lock()
		seq, viewers := h.seq, h.viewers
		h.mu.Unlock()
		if m >= seq || viewers == 0 {
			return
		}
		runtime.Gosched()
	}
}
