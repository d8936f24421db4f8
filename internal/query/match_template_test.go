package query

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/store"
	"github.com/logcaster/logcaster/internal/store/part"
)

// padRows interleaves vals with filler lines of one wording, long and
// distinct enough that the part writer takes neither a dictionary (at
// most 256 values of 48 bytes on average) nor plain (too few shared
// wordings) for the block, and the cases' own values are stored as
// templates among them.
func padRows(vals []string) []string {
	var rows []string
	for i := 0; i < 300; i++ {
		if i%3 == 0 {
			rows = append(rows, vals[(i/3)%len(vals)])
		} else {
			rows = append(rows, fmt.Sprintf("filler line number %d of the block, long enough for the part writer to skip its dictionary", i))
		}
	}
	return rows
}

// templateBlock writes rows as the messages of one block of a real part
// written as a merge writes it (zstd), so that the part stores them as
// templates when they share enough wording. It returns the block and
// whether the message column is a template column.
func templateBlock(t testing.TB, rows []string) (*part.BlockReader, bool) {
	t.Helper()
	evs := make([]event.Event, len(rows))
	for i, v := range rows {
		evs[i] = event.Event{Time: int64(i + 1), Index: "app", Message: v}
	}
	dir := filepath.Join(t.TempDir(), "p")
	opts := part.DefaultWriteOptions()
	opts.ZstdLevel, opts.Parallelism = 3, 1
	if _, err := part.Write(dir, evs, part.Meta{}, opts); err != nil {
		t.Fatal(err)
	}
	p, err := part.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(); os.RemoveAll(dir) })
	if p.NumBlocks() != 1 {
		t.Fatalf("%d blocks, want 1", p.NumBlocks())
	}
	br := part.GetBlockReader()
	br.Reset(p, 0)
	_, _, templated, err := br.ColumnTemplates(event.FieldMessage)
	if err != nil {
		t.Fatal(err)
	}
	return br, templated
}

// checkTemplateFilters applies each query's filter to vals on the
// per-row reference (a MemBlock) and on a real part block, from the same
// dense or sparse bitmap, and wants the same rows; then it reads the
// matching rows' messages as a result does (ColumnRows) and wants them
// equal to the values written.
func checkTemplateFilters(t *testing.T, rows []string, queries []string) (templated bool) {
	t.Helper()
	br, templated := templateBlock(t, rows)
	defer part.PutBlockReader(br)
	evs := make([]event.Event, len(rows))
	for i, v := range rows {
		evs[i] = event.Event{Time: int64(i + 1), Index: "app", Message: v}
	}
	mem := store.NewMemBlock(evs)
	for _, q := range queries {
		pq, err := Parse(q)
		if err != nil {
			t.Fatalf("parse %q: %v", q, err)
		}
		for _, dense := range []bool{true, false} {
			var want, got bitmap
			start := func(bm *bitmap) {
				bm.init(len(rows), dense)
				for i := 0; !dense && i < len(rows); i += 3 {
					bm.set(i)
				}
			}
			var bc blockCtx
			bc.reset(mem, 0)
			start(&want)
			pq.filter.apply(&bc, &want)
			var pc blockCtx
			pc.reset(br, 0)
			start(&got)
			pq.filter.apply(&pc, &got)
			if pc.err != nil {
				t.Fatalf("%s: %v", q, pc.err)
			}
			for i := range rows {
				if got.isSet(i) != want.isSet(i) {
					t.Fatalf("%s dense=%v templated=%v row %d %q: part %v, per-row %v", q, dense, templated, i, rows[i], got.isSet(i), want.isSet(i))
				}
			}
			msgs, err := br.ColumnRows(event.FieldMessage, got.words)
			if err != nil {
				t.Fatal(err)
			}
			for i := range rows {
				if got.isSet(i) && msgs[i] != rows[i] {
					t.Fatalf("%s: row %d reads %q, wrote %q", q, i, msgs[i], rows[i])
				}
			}
		}
	}
	all, err := br.Column(event.FieldMessage)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if all[i] != rows[i] {
			t.Fatalf("row %d reads %q, wrote %q", i, all[i], rows[i])
		}
	}
	return templated
}

// templateQueries add to rawQueries the words, phrases and substrings
// whose answer lies in the variables (they hold digits) or across a
// template and its variables.
var templateQueries = append([]string{
	"blk_123", "BLK_123", "Blk_22", "123", "10", "0", "00", "v9", "9", `~"99"`, "67108864", `~"67108"`, `~"blk_2"`, "user42", "from", "in", "é123", "a1b2", "c3",
	`~"lk_1"`, `~"123"`, `~"ser4"`, `~"from"`, `~"om1"`, `~"x0"`, `~"0 0"`, `~"in"`,
	`"logged in"`, `"from 10"`, `"user42 logged"`, `"x0 0"`, "from*", "blk*", `~"(?i)FROM"`,
}, rawQueries...)

func TestTemplateEdgeCases(t *testing.T) {
	cases := [][]string{
		{"blk_123 from 10.0.0.1", "user42 logged in", "x0 0 00", "é123 from", "from123", "123from", "a1b2 c3"},
		{"from", "", "from 1", "1", ""},
		{"Received block blk_1 of size 67108864 from /10.0.0.1", "Received block blk_22 of size 1 from /10.0.0.7"},
		{"0", "00", "0 0", "a0", "0a", "a 0 a"},
		{"\x00 from \x00", "from\x001", "\x11\x00 1"}, // template and separator bytes inside values
		{"\xff1 from", "from \xfe2", "é1é from ü2"},   // invalid UTF-8 and letters around digits
		{"in in in 1 in", "in1in", "1in in1", "in_1 in"},
		{"ab1 cd2", "ab1cd2", "b1c"},  // a substring must not span two variables
		{"v9 from 9", "x99y in", "9"}, // every digit makes a variable
	}
	tmpl := 0
	for _, vals := range cases {
		if checkTemplateFilters(t, padRows(vals), templateQueries) {
			tmpl++
		} else {
			t.Logf("not stored as templates: %q", vals)
		}
	}
	if tmpl < len(cases) {
		t.Fatalf("only %d of %d cases were stored as templates: the test does not reach the template paths", tmpl, len(cases))
	}
}

func TestTemplateGencorpus(t *testing.T) {
	b, err := os.ReadFile("testdata/gencorpus_messages.txt")
	if err != nil {
		t.Fatal(err)
	}
	vals := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	// Twice: the 1,500 messages of 16 services have 502 wordings, more than
	// the writer takes for 1,500 rows.
	vals = append(vals, vals...)
	if !checkTemplateFilters(t, vals, append(corpusQueries, templateQueries...)) {
		t.Fatal("the corpus's messages were not stored as templates")
	}
}
