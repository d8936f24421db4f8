package query

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/store"
)

// rawBlock is a MemBlock that also offers ColumnRaw, as a part block does,
// so the whole-column path runs on test data.
type rawBlock struct{ *store.MemBlock }

func (b rawBlock) ColumnRaw(name string) ([]byte, []uint32, error) {
	col, err := b.Column(name)
	if col == nil || err != nil {
		return nil, nil, err
	}
	data, ends := flatten(col)
	return data, ends, nil
}

func flatten(vals []string) ([]byte, []uint32) {
	var data []byte
	ends := make([]uint32, 0, len(vals))
	for _, v := range vals {
		data = append(data, v...)
		ends = append(ends, uint32(len(data)))
	}
	return data, ends
}

// rawQueries are the filters whose apply has a whole-column path.
var rawQueries = []string{
	"from", "FROM", "forbidden", "error", "blk_", "m", "a", "1", "_", "ab", "Found", "child",
	`"connection refused"`, `"from a"`, `"a b"`, `"b c"`, `"error for"`, `"->"`, `"a-"`, `":"`,
	`~"ockMana"`, `~"om"`, `~"ab"`, `~"b\na"`, `~"x"`, `~"Error"`, `~"é"`, "é", `"é a"`,
}

// checkRawFilters applies every rawQueries filter to the values twice, on a
// block with ColumnRaw and on the plain MemBlock (the per-row reference),
// starting from the same bitmap, and wants the same rows.
func checkRawFilters(t *testing.T, vals []string, queries []string) {
	t.Helper()
	evs := make([]event.Event, len(vals))
	for i, v := range vals {
		evs[i] = event.Event{Time: int64(i), Index: "app", Message: v}
	}
	mem := store.NewMemBlock(evs)
	raw := rawBlock{mem}
	for _, q := range queries {
		pq, err := Parse(q)
		if err != nil {
			t.Fatalf("parse %q: %v", q, err)
		}
		f := pq.filter
		for _, dense := range []bool{true, false} {
			var want, got bitmap
			start := func(bm *bitmap) {
				bm.init(len(vals), dense)
				if !dense {
					// Every other row, dense enough for the raw path.
					for i := 0; i < len(vals); i += 2 {
						bm.set(i)
					}
				}
			}
			var bc blockCtx
			bc.reset(mem, 0)
			start(&want)
			f.apply(&bc, &want)
			bc.reset(raw, 0)
			start(&got)
			f.apply(&bc, &got)
			for i := range vals {
				if got.isSet(i) != want.isSet(i) {
					t.Fatalf("%s dense=%v row %d %q: raw %v, per-row %v", q, dense, i, vals[i], got.isSet(i), want.isSet(i))
				}
			}
		}
	}
}

func TestRawEdgeCases(t *testing.T) {
	cases := [][]string{
		{"from"},
		{""},
		{"", "", "from", ""},
		{"fro", "m", "from"},            // a hit spanning two rows must not match
		{"xfro", "mx", "a from"},        // nor this one
		{"a", "b c", "a b"},             // phrase spanning rows
		{"ockMa", "na", "xockMana"},     // substring spanning rows
		{"from", "from", "from"},        // every row
		{"from ", " from", "(from)"},    // boundaries inside rows
		{"froma", "afrom", "from_"},     // no boundary
		{"Éfrom", "fromé", "é from"},    // non-ASCII neighbours are letters
		{"→from", "from→", "error→for"}, // non-ASCII non-letters are boundaries
		{"connection: refused", "connection", "refused"},
		{"b\n", "a", "b\na"},
		{"x", "", "x", "", "xx"},
		{"ab", "", "", "", "", "", "", "", "", "", "", "", "", "", "ab"}, // skips by bisection
	}
	for _, vals := range cases {
		checkRawFilters(t, vals, rawQueries)
	}
}

// corpusQueries are words and phrases of the corpus, common and rare.
var corpusQueries = append([]string{
	"from", "forbidden", "INFO", "info", "blk", "error", "session", "user", "root", "to", "the", "jk2_init",
	`"not found"`, `"session opened"`, `"for user"`, `~"ockMana"`, `~"Received block"`, `~": "`, `~"/"`,
}, rawQueries...)

func TestRawGencorpus(t *testing.T) {
	b, err := os.ReadFile("testdata/gencorpus_messages.txt")
	if err != nil {
		t.Fatal(err)
	}
	vals := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	checkRawFilters(t, vals, corpusQueries)
	// Empty rows between the messages, as a block whose rows lack the field.
	var gappy []string
	for i, v := range vals {
		gappy = append(gappy, v)
		if i%3 == 0 {
			gappy = append(gappy, "")
		}
	}
	checkRawFilters(t, gappy, corpusQueries)
}

// TestRawCorpusFile runs the comparison on the first 100k events of the
// gencorpus corpus named by LOGCASTER_CORPUS (opt-in, like the store
// benchmarks: the tests above cover the same paths on corpora of their own).
func TestRawCorpusFile(t *testing.T) {
	path := os.Getenv("LOGCASTER_CORPUS")
	if path == "" {
		t.Skip("set LOGCASTER_CORPUS to a gencorpus JSON-lines file to compare on it")
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	var vals []string
	for sc.Scan() && len(vals) < 100000 {
		var e struct{ Message string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		vals = append(vals, e.Message)
		if len(vals)%4096 == 0 {
			checkRawFilters(t, vals[len(vals)-4096:], corpusQueries)
		}
	}
}

// FuzzRawScan compares the whole-column searches with the per-row ones on
// rows separated by newlines.
func FuzzRawScan(f *testing.F) {
	f.Add("fro\nm\nfrom", "from")
	f.Add("a\n\nb c\na b", "a b")
	f.Add("ockMa\nna\nxockMana", "ockMana")
	f.Add("éfrom\nfrom→\n", "from")
	f.Fuzz(func(t *testing.T, rows, q string) {
		if len(rows) > 4096 || len(q) == 0 || len(q) > 32 {
			return
		}
		vals := strings.Split(rows, "\n")
		var queries []string
		for _, form := range []string{q, `"` + q + `"`, `~"` + q + `"`} {
			if _, err := Parse(form); err == nil {
				queries = append(queries, form)
			}
		}
		checkRawFilters(t, vals, queries)
	})
}
