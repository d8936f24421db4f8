package query

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
)

func rowMap(r *Row) map[string]string {
	m := map[string]string{}
	for _, f := range r.Fields {
		m[f.Name] = f.Value
	}
	return m
}

func TestStatsCountBy(t *testing.T) {
	evs := testEvents(4000)
	for name, sc := range scanners(t, evs, 128) {
		t.Run(name, func(t *testing.T) {
			want := map[[2]string]int{}
			for i := range evs {
				e := &evs[i]
				if slices.Contains(refTokens(e.Message), "refused") {
					want[[2]string{get(e, "service"), e.Level}]++
				}
			}
			rows := runAll(t, sc, "refused | stats count() by (service, level)", RunOptions{})
			if len(rows) != len(want) {
				t.Fatalf("got %d groups, want %d", len(rows), len(want))
			}
			prev := ""
			for _, r := range rows {
				m := rowMap(r)
				k := [2]string{m["service"], m["level"]}
				if m["count()"] != strconv.Itoa(want[k]) {
					t.Errorf("%v: count %s, want %d", k, m["count()"], want[k])
				}
				if key := k[0] + "\x00" + k[1]; key < prev {
					t.Errorf("groups out of order at %v", k)
				} else {
					prev = key
				}
			}
			// Total count, no groups.
			rows = runAll(t, sc, "refused | stats count() as n", RunOptions{})
			total := 0
			for _, n := range want {
				total += n
			}
			if len(rows) != 1 || rowMap(rows[0])["n"] != strconv.Itoa(total) {
				t.Fatalf("count: got %v, want %d", rows, total)
			}
		})
	}
}

func TestStatsByTimeAndFuncs(t *testing.T) {
	evs := testEvents(4000) // 4000 s: buckets 00:00 and 00:30 and 01:00 ...
	for name, sc := range scanners(t, evs, 100) {
		t.Run(name, func(t *testing.T) {
			type agg struct {
				n        int
				sum      float64
				min, max float64
				vals     []float64
				hosts    map[string]bool
			}
			want := map[int64]*agg{}
			step := int64(30 * time.Minute)
			for i := range evs {
				e := &evs[i]
				if e.Level != "ERROR" {
					continue
				}
				b := e.Time - (e.Time % step)
				a := want[b]
				if a == nil {
					a = &agg{min: math.Inf(1), max: math.Inf(-1), hosts: map[string]bool{}}
					want[b] = a
				}
				l, _ := num(e, "latency_ms")
				a.n++
				a.sum += l
				a.min = min(a.min, l)
				a.max = max(a.max, l)
				a.vals = append(a.vals, l)
				a.hosts[get(e, "host")] = true
			}
			rows := runAll(t, sc, "level:ERROR | stats count(), sum(latency_ms), min(latency_ms), max(latency_ms), avg(latency_ms), quantile(0.5, latency_ms) as p50, count_uniq(host) by (_time:30m)", RunOptions{})
			buckets := slices.Sorted(maps.Keys(want))
			if len(rows) != len(buckets) {
				t.Fatalf("got %d rows, want %d", len(rows), len(buckets))
			}
			for i, b := range buckets {
				m := rowMap(rows[i])
				a := want[b]
				slices.Sort(a.vals)
				p50 := a.vals[int(math.Ceil(0.5*float64(len(a.vals))))-1]
				exp := map[string]string{
					"_time":            time.Unix(0, b).UTC().Format(time.RFC3339Nano),
					"count()":          strconv.Itoa(a.n),
					"sum(latency_ms)":  fmt.Sprint(a.sum),
					"min(latency_ms)":  fmt.Sprint(a.min),
					"max(latency_ms)":  fmt.Sprint(a.max),
					"avg(latency_ms)":  strconv.FormatFloat(a.sum/float64(a.n), 'g', -1, 64),
					"p50":              fmt.Sprint(p50),
					"count_uniq(host)": strconv.Itoa(len(a.hosts)),
				}
				if !maps.Equal(m, exp) {
					t.Errorf("bucket %d:\n got %v\nwant %v", i, m, exp)
				}
			}
		})
	}
}

func TestTopSortFieldsUniqWhere(t *testing.T) {
	evs := testEvents(3000)
	for name, sc := range scanners(t, evs, 64) {
		t.Run(name, func(t *testing.T) {
			counts := map[string]int{}
			for i := range evs {
				counts[get(&evs[i], "host")]++
			}
			hosts := slices.Collect(maps.Keys(counts))
			slices.SortFunc(hosts, func(a, b string) int {
				if counts[a] != counts[b] {
					return counts[b] - counts[a]
				}
				return compareValues(a, b)
			})
			rows := runAll(t, sc, "* | top 3 (host)", RunOptions{})
			if len(rows) != 3 {
				t.Fatalf("top: %d rows", len(rows))
			}
			for i, r := range rows {
				m := rowMap(r)
				if m["host"] != hosts[i] || m["hits"] != strconv.Itoa(counts[hosts[i]]) {
					t.Errorf("top %d: got %v, want %s %d", i, m, hosts[i], counts[hosts[i]])
				}
			}

			// sort by a number, then limit and fields.
			type lt struct {
				l  int
				ts int64
			}
			var all []lt
			for i := range evs {
				if evs[i].Level == "WARN" {
					l, _ := strconv.Atoi(get(&evs[i], "latency_ms"))
					all = append(all, lt{l, evs[i].Time})
				}
			}
			// Stable sort from newest-first order, as the pipe is.
			slices.SortFunc(all, func(a, b lt) int { return cmpInt(b.ts, a.ts) })
			slices.SortStableFunc(all, func(a, b lt) int { return b.l - a.l })
			rows = runAll(t, sc, "level:WARN | sort by (latency_ms desc) | limit 5 | fields latency_ms, timestamp", RunOptions{})
			if len(rows) != 5 {
				t.Fatalf("sort: %d rows", len(rows))
			}
			for i, r := range rows {
				if r.Time != all[i].ts || len(r.Fields) != 1 || r.Fields[0].Value != strconv.Itoa(all[i].l) {
					t.Errorf("sort row %d: got %v %v, want %v", i, r.Time, r.Fields, all[i])
				}
			}

			// offset then limit on the default order.
			want := wantTimes(evs, func(e *event.Event) bool { return true })
			rows = runAll(t, sc, "* | offset 10 | limit 5", RunOptions{})
			for i, r := range rows {
				if r.Time != want[10+i] {
					t.Errorf("offset row %d: %d, want %d", i, r.Time, want[10+i])
				}
			}
			if len(rows) != 5 {
				t.Errorf("offset: %d rows", len(rows))
			}

			// uniq by.
			rows = runAll(t, sc, "* | uniq by (service)", RunOptions{})
			if len(rows) != len(services) {
				t.Errorf("uniq: %d rows, want %d", len(rows), len(services))
			}

			// where after stats.
			rows = runAll(t, sc, "* | stats count() as n by (host) | where n:>250", RunOptions{})
			wantN := 0
			for _, n := range counts {
				if n > 250 {
					wantN++
				}
			}
			if len(rows) != wantN || wantN == 0 || wantN == len(counts) {
				t.Errorf("where: %d rows, want %d (of %d)", len(rows), wantN, len(counts))
			}
			for _, r := range rows {
				if n, _ := strconv.Atoi(rowMap(r)["n"]); n <= 250 {
					t.Errorf("where kept %v", r.Fields)
				}
			}
		})
	}
}

// TestStatsCountByConstantField counts by a field that is constant in
// each part block (service: the stream) with one that varies (level), in
// both orders, over every row and over a filter's rows, against counts
// taken from the events.
func TestStatsCountByConstantField(t *testing.T) {
	evs := testEvents(5000)
	for name, sc := range scanners(t, evs, 256) {
		for _, c := range []struct{ filter, by string }{
			{"*", "service, level"}, {"*", "level, service"}, {"level:ERROR", "service, level"},
			{"-level:INFO", "level, service, host"}, {"*", "service"},
		} {
			t.Run(name+" "+c.filter+" by "+c.by, func(t *testing.T) {
				fields := strings.Split(c.by, ", ")
				want := map[string]int{}
				for i := range evs {
					e := &evs[i]
					if (c.filter == "level:ERROR" && e.Level != "ERROR") || (c.filter == "-level:INFO" && e.Level == "INFO") {
						continue
					}
					var key []string
					for _, f := range fields {
						key = append(key, get(e, f))
					}
					want[strings.Join(key, "|")]++
				}
				rows := runAll(t, sc, c.filter+" | stats count() by ("+c.by+")", RunOptions{})
				got := map[string]int{}
				for _, r := range rows {
					m := rowMap(r)
					var key []string
					for _, f := range fields {
						key = append(key, m[f])
					}
					n, _ := strconv.Atoi(m["count()"])
					got[strings.Join(key, "|")] = n
				}
				if !maps.Equal(got, want) {
					t.Fatalf("got %v\nwant %v", got, want)
				}
			})
		}
	}
}
