package part

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
)

// summaryEvents are rows whose messages share wordings with the edge cases
// of a tokens summary: case, a word twice in one template, words next to
// variables, non-ASCII letters, '_' and a token past MaxTokenLen; levels
// that some rows lack; a constant service.
func summaryEvents(n int) []event.Event {
	rng := rand.New(rand.NewPCG(7, 11))
	words := []string{"Connection", "from", "FROM", "refused", "user_id", "naïve", "Straße", "retry", "K", strings.Repeat("x", 70), "_init", "zone", "Zulu"}
	levels := []string{"INFO", "WARN", "ERROR", ""}
	evs := make([]event.Event, n)
	for i := range evs {
		var b strings.Builder
		for k := 0; k < 3+i%4; k++ {
			fmt.Fprintf(&b, "%s ", words[(i*7+k*3)%len(words)])
		}
		fmt.Fprintf(&b, "from host%d port %d, from=%d (%s)", i%5, rng.IntN(1000), i, words[i%3])
		evs[i] = event.Event{Time: int64(i + 1), Index: "app", Level: levels[rng.IntN(len(levels))], Message: b.String(),
			Fields: []event.Field{{Name: "service", Value: "api"}}}
	}
	return evs
}

// asciiWordRows counts the values holding w as a whole token, ignoring
// ASCII case: the word filter's meaning, computed here by splitting each
// value on every byte that is not an ASCII letter, digit or '_' and
// skipping tokens that run into a non-ASCII byte.
func asciiWordRows(vals []string, w string) int {
	n := 0
	for _, v := range vals {
		for _, tok := range strings.FieldsFunc(v, func(r rune) bool {
			return !(r == '_' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r >= 0x80)
		}) {
			if strings.EqualFold(tok, w) && len(tok) == len(w) && isASCII(tok) {
				n++
				break
			}
		}
	}
	return n
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestSummaries(t *testing.T) {
	evs := summaryEvents(3000)
	opts := DefaultWriteOptions()
	opts.ZstdLevel = 3
	p, r := writeFirstBlock(t, evs, opts)
	if p.NumBlocks() != 1 {
		t.Fatalf("%d blocks, want 1", p.NumBlocks())
	}
	if _, _, ok, _ := r.ColumnTemplates(event.FieldMessage); !ok {
		t.Fatal("messages are not a template column")
	}

	// Values: levels (some rows lack one), the constant service, a column
	// the block lacks; expected counts from the events themselves.
	for _, c := range []struct {
		name string
		get  func(e *event.Event) string
	}{
		{event.FieldLevel, func(e *event.Event) string { return e.Level }},
		{"service", func(e *event.Event) string { return e.Fields[0].Value }},
		{"absent", func(e *event.Event) string { return "" }},
	} {
		want := map[string]uint32{}
		for i := range evs {
			want[c.get(&evs[i])]++
		}
		vals, counts, ok := r.ValueCounts(c.name, nil, nil)
		if !ok {
			t.Fatalf("%s: no value counts", c.name)
		}
		got := map[string]uint32{}
		for i, v := range vals {
			got[v] += counts[i]
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || len(vals) != len(want) {
			t.Fatalf("%s: value counts %v (%q), want %v", c.name, got, vals, want)
		}
	}
	// A plain column has none.
	if _, _, ok := r.ValueCounts(event.FieldMessage, nil, nil); ok {
		t.Fatal("a template column has value counts")
	}

	// Tokens: every word of the messages in three cases, and absent ones.
	msgs := make([]string, len(evs))
	for i := range evs {
		msgs[i] = evs[i].Message
	}
	words := map[string]bool{"absent": true, "fro": true, "from_": true, "host": true}
	for _, m := range msgs {
		for _, w := range strings.FieldsFunc(m, func(r rune) bool { return r == ' ' || r == '=' || r == '(' || r == ')' || r == ',' }) {
			words[w], words[strings.ToUpper(w)], words[strings.ToLower(w)] = true, true, true
		}
	}
	checked := 0
	for w := range words {
		n, ok := r.TokenRows(event.FieldMessage, w)
		answerable := len(w) <= 64 && isASCII(w) && !strings.ContainsAny(w, "0123456789") && !strings.ContainsAny(w, "-.,:")
		if ok != answerable {
			t.Fatalf("TokenRows(%q) ok %v, want %v", w, ok, answerable)
		}
		if !ok {
			continue
		}
		if want := asciiWordRows(msgs, w); n != want {
			t.Fatalf("TokenRows(%q) = %d, want %d", w, n, want)
		}
		checked++
	}
	if n, _ := r.TokenRows(event.FieldMessage, "from"); n != len(evs) || checked < 15 {
		t.Fatalf("from in %d rows (want %d), %d words checked", n, len(evs), checked)
	}
	if n, ok := r.TokenRows("absent", "from"); !ok || n != 0 {
		t.Fatalf("a column the block lacks: %d, %v", n, ok)
	}
}

// TestSummariesOfS2Parts: flushed parts keep value counts (cheap) but have
// no template columns, so no tokens.
func TestSummariesOfS2Parts(t *testing.T) {
	opts := DefaultWriteOptions()
	opts.Codec, opts.NoBlooms = CodecS2, true
	_, r := writeFirstBlock(t, summaryEvents(500), opts)
	if _, _, ok := r.ValueCounts(event.FieldLevel, nil, nil); !ok {
		t.Fatal("no value counts in an S2 part")
	}
	if _, ok := r.TokenRows(event.FieldMessage, "from"); ok {
		t.Fatal("token counts without a template column")
	}
}

// TestReadFormat3 reads a part written by the format-3 writer (before
// summaries; testdata/format3 was made by that code: 300 events, request i
// from user(i%7) took 3i ms, level ERROR every fifth, else INFO): it has
// no summaries, and merged into format 4 it has them.
func TestReadFormat3(t *testing.T) {
	old := openFixture(t, "format3", 3)
	r := GetBlockReader()
	defer PutBlockReader(r)
	r.Reset(old, 0)
	msgs, err := r.Column(event.FieldMessage)
	if err != nil || len(msgs) != 300 || msgs[299] != "request 299 from user5 took 897 ms" {
		t.Fatalf("messages %d, %v", len(msgs), err)
	}
	if _, _, ok := r.ValueCounts(event.FieldLevel, nil, nil); ok {
		t.Fatal("value counts in a format-3 part")
	}
	if _, ok := r.TokenRows(event.FieldMessage, "from"); ok {
		t.Fatal("token counts in a format-3 part")
	}

	r.Reset(mergeFixture(t, old), 0)
	vals, counts, ok := r.ValueCounts(event.FieldLevel, nil, nil)
	if !ok || fmt.Sprint(vals, counts) != "[ERROR INFO] [60 240]" {
		t.Fatalf("merged level counts %q %v %v", vals, counts, ok)
	}
	if n, ok := r.TokenRows(event.FieldMessage, "FROM"); !ok || n != 300 {
		t.Fatalf("merged: from in %d rows (%v)", n, ok)
	}
	if n, ok := r.TokenRows(event.FieldMessage, "user"); !ok || n != 0 {
		t.Fatalf("merged: user (only inside variables) in %d rows (%v)", n, ok)
	}
}

func TestCheckSummary(t *testing.T) {
	for _, c := range []struct {
		b      string
		rows   int
		reason string
	}{
		{"\x01\x02\x04INFO\x02\x05ERROR\x01", 3, ""},
		{"\x01\x02\x04INFO\x02\x05ERROR\x02", 3, "summary counts disagree with the block's rows"},
		{"\x01\x01\x04INFO\x09", 3, "summary count above the block's rows"},
		{"\x02\x02\x01a\x01\x01b\x02\x01\x00", 3, ""},
		{"\x02\x02\x01a\x01\x01b\x02", 3, "truncated"},
		{"\x02\x00\x02\x00", 3, "bad summary flag"},
		{"\x02\x00\x01\x05abcde", 3, "bad summary bigram filter"},
		{"\x02\x02\x01b\x01\x01a\x02\x01\x00", 3, "summary tokens out of order"},
		{"\x02\x01\x01A\x01", 3, "bad summary token"},
		{"\x02\x01\x012\x01", 3, "bad summary token"},
		{"\x02\x01\x01a\x00", 3, "bad summary token"},
		{"\x03\x00", 3, "unknown summary kind"},
		{"\x01\x09\x04INFO", 3, "summary entry count exceeds it"},
		{"\x01\x01\x09INFO", 3, "summary entry beyond it"},
		{"\x01\x01\x04INFO\x03\x00", 3, "trailing bytes in summary"},
	} {
		if got := checkSummary([]byte(c.b), c.rows); got != c.reason {
			t.Errorf("checkSummary(%q) = %q, want %q", c.b, got, c.reason)
		}
	}
}

// FuzzSummary: a summary Open accepts is one its lookups read without
// failing, and a values summary accounts for every row.
func FuzzSummary(f *testing.F) {
	f.Add([]byte("\x01\x02\x04INFO\x02\x05ERROR\x01"), uint16(3))
	f.Add([]byte("\x02\x03\x04from\x02\x04host\x01\x05retry\x03\x01\x00"), uint16(3))
	f.Add([]byte("\x02\x01\x01a\x00"), uint16(1))
	f.Fuzz(func(t *testing.T, b []byte, rows uint16) {
		if rows == 0 || checkSummary(b, int(rows)) != "" || len(b) == 0 {
			return
		}
		p := &Part{version: formatVersion, blooms: b, colIDs: map[string]int{"c": 0},
			cols:   []colHeader{{id: 0, sumOff: 0, sumLen: len(b)}},
			blocks: []blockHeader{{rows: int(rows), colStart: 0, colEnd: 1}}}
		if reason := p.openSummary(&p.cols[0], int(rows)); reason != "" {
			t.Fatal(reason)
		}
		r := &BlockReader{}
		r.Reset(p, 0)
		if vals, counts, ok := r.ValueCounts("c", nil, nil); ok {
			sum := 0
			for _, c := range counts {
				sum += int(c)
			}
			if sum != int(rows) || len(vals) != len(counts) {
				t.Fatalf("value counts %v sum to %d of %d rows", counts, sum, rows)
			}
		}
		for _, w := range []string{"a", "from", "host", "zzz", "Retry", "ost", "o1"} {
			if n, ok := r.TokenRows("c", w); ok && (n < 0 || n > int(rows)) {
				t.Fatalf("%s in %d rows of %d", w, n, rows)
			}
			r.ColumnMayContain("c", w)
		}
	})
}

// TestColumnMayContain: a substring some message holds is never ruled out
// (every substring of every message's words, and a few more), and
// substrings no message holds are, unless a template word the summary
// cannot list (over MaxTokenLen bytes) might hold them. Non-ASCII words
// are listed.
func TestColumnMayContain(t *testing.T) {
	gen := func(odd string) []event.Event {
		evs := make([]event.Event, 2000)
		for i := range evs {
			evs[i] = event.Event{Time: int64(i + 1), Index: "app",
				Message: fmt.Sprintf("%s stored blk_%d on host%d from USER%d in %d ms", []string{"BlockManager", "Cache", odd}[i%3], i*31, i%9, i%4, i%70)}
		}
		return evs
	}
	opts := DefaultWriteOptions()
	opts.ZstdLevel = 3
	for _, c := range []struct {
		odd      string
		complete bool
	}{{"Store_x", true}, {"StoreÄx", true}, {"Store" + strings.Repeat("x", 70), false}} {
		evs := gen(c.odd)
		_, r := writeFirstBlock(t, evs, opts)
		if _, _, ok, _ := r.ColumnTemplates(event.FieldMessage); !ok {
			t.Fatal("messages are not a template column")
		}
		// Substrings of the words, and the same reversed (mostly absent).
		needles := map[string]bool{"zz": true, "ockMana": true, "xyz1": true, "q": true, "Ä": true, "12": true, "ER1": true}
		for _, e := range evs[:30] {
			for _, w := range strings.Fields(e.Message) {
				for i := 0; i < len(w); i++ {
					for j := i + 1; j <= len(w) && j <= i+6; j++ {
						b := []byte(w[i:j])
						slices.Reverse(b)
						needles[w[i:j]], needles[string(b)] = true, true
					}
				}
			}
		}
		absent, ruledOut := 0, 0
		for s := range needles {
			held := false
			for i := range evs {
				held = held || strings.Contains(evs[i].Message, s)
			}
			may := r.ColumnMayContain(event.FieldMessage, s)
			if held && !may {
				t.Fatalf("%s: %q is in a message but ruled out", c.odd, s)
			}
			if !held {
				absent++
			}
			if !may {
				ruledOut++
			}
		}
		// The summary lists words lower-cased: "ockmana" may be there.
		for _, n := range []struct {
			s   string
			may bool
		}{{"zz", !c.complete}, {"Qx", !c.complete}, {"ockmana", true}, {"ockMana", true}, {"xyz1", false}} {
			if got := r.ColumnMayContain(event.FieldMessage, n.s); got != n.may {
				t.Errorf("%s: %q may be there: %v, want %v", c.odd, n.s, got, n.may)
			}
		}
		if c.complete && ruledOut*2 < absent {
			t.Errorf("only %d of %d absent needles ruled out", ruledOut, absent)
		}
		if !r.ColumnMayContain(event.FieldMessage, "12") || !r.ColumnMayContain(event.FieldMessage, "a-b") {
			t.Error("a number or a non-token string ruled out")
		}
		if r.ColumnMayContain("absent", "abc") {
			t.Error("a column the block lacks may hold it")
		}
	}
}
