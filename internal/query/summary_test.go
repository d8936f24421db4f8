package query

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/store"
)

// summaryCase is a count-only query and its answer computed from the
// events: the group key of an event ("" skips it) over the by-fields.
type summaryCase struct {
	q    string
	opts RunOptions
	by   []string
	key  func(e *event.Event) (string, bool)
	// summed: the part blocks whose answer comes from summaries, "all",
	// "some" (and others not) or "none".
	summed string
}

func summaryCases() []summaryCase {
	has := func(e *event.Event, w string) bool { return slices.Contains(refTokens(e.Message), w) }
	bucket := func(e *event.Event, step time.Duration) string {
		s := int64(step)
		return formatTime(e.Time - mod(e.Time, s))
	}
	start, end := base+700e9, base+1900e9
	return []summaryCase{
		{q: "* | stats count() by (service, level)", by: []string{"service", "level"}, summed: "all",
			key: func(e *event.Event) (string, bool) { return get(e, "service") + "|" + e.Level, true }},
		{q: "* | stats count()", summed: "all", key: func(e *event.Event) (string, bool) { return "", true }},
		{q: "from | stats count()", summed: "all", key: func(e *event.Event) (string, bool) { return "", has(e, "from") }},
		{q: "CONNECTION | stats count() by (service)", by: []string{"service"}, summed: "all",
			key: func(e *event.Event) (string, bool) { return get(e, "service"), has(e, "connection") }},
		{q: "level:error | stats count() by (_time:10m)", by: []string{"_time"}, summed: "some",
			key: func(e *event.Event) (string, bool) { return bucket(e, 10*time.Minute), e.Level == "ERROR" }},
		{q: "* | stats count() by (_time:1h, level)", by: []string{"_time", "level"}, summed: "all",
			key: func(e *event.Event) (string, bool) { return bucket(e, time.Hour) + "|" + e.Level, true }},
		{q: "status:500 | stats count() by (service)", by: []string{"service"}, summed: "all",
			key: func(e *event.Event) (string, bool) { return get(e, "service"), get(e, "status") == "500" }},
		// The summaries count each field apart: a filter with a field that
		// varies, a word with digits in a template column, a phrase, a
		// non-ASCII word and a count of a field's values are read.
		{q: "timeout | stats count() by (level)", by: []string{"level"}, summed: "none",
			key: func(e *event.Event) (string, bool) { return e.Level, has(e, "timeout") }},
		{q: "block_123 | stats count()", summed: "none", key: func(e *event.Event) (string, bool) { return "", has(e, "block_123") }},
		{q: `"refused to" | stats count()`, summed: "none",
			key: func(e *event.Event) (string, bool) { return "", refHasPhrase(e.Message, "refused to") }},
		{q: "время | stats count()", summed: "none", key: func(e *event.Event) (string, bool) { return "", has(e, "время") }},
		{q: "* | stats count(status) by (service)", by: []string{"service"}, summed: "none",
			key: func(e *event.Event) (string, bool) { return get(e, "service"), get(e, "status") != "" }},
		// Time bounds that cut blocks: those inside are summed.
		{q: "* | stats count() by (level)", opts: RunOptions{Start: start, End: end}, by: []string{"level"}, summed: "some",
			key: func(e *event.Event) (string, bool) { return e.Level, e.Time >= start && e.Time < end }},
	}
}

// TestStatsFromSummaries checks count-only stats answered from the part
// blocks' summaries against counts computed from the events, on MemBlocks
// and part blocks, and that the part blocks were (or were not) answered
// from their summaries.
func TestStatsFromSummaries(t *testing.T) {
	evs := testEvents(3000)
	for i := range evs {
		if i%17 == 0 {
			evs[i].Level = "" // "" is a group of its own
		}
		// Messages too long and too varied for a dictionary: the part
		// stores them as templates.
		evs[i].Message += " (seq " + strconv.Itoa(i) + " of the summaries' test corpus)"
		// 750 events a service: blocks of 110 rows at least, enough for
		// templates.
		evs[i].Fields[0] = event.Field{Name: "service", Value: services[i%len(services)]}
	}
	scs := scanners(t, evs, 128)
	for _, b := range scs["part"].blocks {
		if _, _, ok, err := b.(templateColumner).ColumnTemplates(event.FieldMessage); !ok || err != nil {
			t.Fatalf("a block of %d rows: messages are not a template column (%v)", b.Rows(), err)
		}
	}
	for _, c := range summaryCases() {
		want := map[string]int{}
		for i := range evs {
			if k, ok := c.key(&evs[i]); ok {
				want[k]++
			}
		}
		if len(c.by) == 0 && len(want) == 0 {
			want[""] = 0
		}
		for name, sc := range scs {
			rows := runAll(t, sc, c.q, RunOptions{Start: c.opts.Start, End: c.opts.End})
			got := map[string]int{}
			for _, r := range rows {
				m := rowMap(r)
				var k []string
				for _, f := range c.by {
					k = append(k, m[f])
				}
				n, err := strconv.Atoi(r.Fields[len(r.Fields)-1].Value)
				if err != nil {
					t.Fatalf("%s: %v", c.q, err)
				}
				got[strings.Join(k, "|")] = n
			}
			if len(got) != len(want) {
				t.Errorf("%s (%s): %d groups, want %d: %v", c.q, name, len(got), len(want), got)
			}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%s (%s): group %q counts %d, want %d", c.q, name, k, got[k], n)
				}
			}
		}
		summed, total := summedBlocks(t, scs["part"], c)
		switch {
		case c.summed == "all" && summed != total,
			c.summed == "some" && (summed == 0 || summed == total),
			c.summed == "none" && summed != 0:
			t.Errorf("%s: %d of %d part blocks answered from summaries, want %s", c.q, summed, total, c.summed)
		}
	}
}

// summedBlocks counts the part blocks that addSummary answers for c.
func summedBlocks(t *testing.T, sc *fakeScanner, c summaryCase) (summed, total int) {
	pq, err := Parse(c.q)
	if err != nil {
		t.Fatal(err)
	}
	minT, maxT := int64(-1<<63), int64(1<<63-1)
	if c.opts.Start != 0 {
		minT, maxT = c.opts.Start, c.opts.End-1
	}
	p := pq.pipes[0].(*pipeStats)
	for _, b := range sc.blocks {
		lo, hi := b.TimeRange()
		if hi < minT || lo > maxT {
			continue
		}
		var bc blockCtx
		bc.reset(b.(store.Block), 0)
		total++
		if p.newAgg(&memBudget{}).addSummary(&bc, pq.filter, minT, maxT) {
			summed++
		}
	}
	return summed, total
}

// TestSubstringSkipsBlocks: a literal substring search skips the part
// blocks whose summaries rule it out, and finds the same rows as the
// per-row reference either way.
func TestSubstringSkipsBlocks(t *testing.T) {
	evs := testEvents(2000)
	for i := range evs {
		evs[i].Message += " (seq " + strconv.Itoa(i) + " of the summaries' test corpus)"
		evs[i].Fields[0] = event.Field{Name: "service", Value: services[i%len(services)]}
		if i%500 == 7 {
			evs[i].Message = "rare Zqx wording " + strconv.Itoa(i) + " seen once in a while, with enough text"
		}
	}
	scs := scanners(t, evs, 128)
	for _, c := range []struct {
		needle  string
		skipped string // part blocks mayMatch rules out: all, some or none
	}{
		{"ockMana", "none"}, {"kMan", "none"}, {"zzq", "all"}, {"Zqx", "some"}, {"zqx", "some"}, {"lock_1", "none"}, {"eq 1", "none"}, {"время", "none"},
	} {
		want := 0
		for i := range evs {
			if strings.Contains(evs[i].Message, c.needle) {
				want++
			}
		}
		q := `~"` + c.needle + `" | stats count()`
		for name, sc := range scs {
			rows := runAll(t, sc, q, RunOptions{})
			if got := rowMap(rows[0])["count()"]; got != strconv.Itoa(want) {
				t.Errorf("%s (%s): count %s, want %d", q, name, got, want)
			}
		}
		pq, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		skipped := 0
		for _, b := range scs["part"].blocks {
			var bc blockCtx
			bc.reset(b, 0)
			if !pq.filter.mayMatch(&bc) {
				skipped++
			}
		}
		n := len(scs["part"].blocks)
		if (c.skipped == "all") != (skipped == n) || (c.skipped == "none") != (skipped == 0) {
			t.Errorf("%s: %d of %d blocks skipped, want %s", q, skipped, n, c.skipped)
		}
	}
}
