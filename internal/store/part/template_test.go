package part

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/tokenize"
)

// kindName spells k in letters only, so that it is template text.
func kindName(k int) string {
	b := []byte("kind")
	for ; k > 0; k /= 26 {
		b = append(b, byte('a'+k%26))
	}
	return string(b)
}

// writeFirstBlock writes evs as a part with opts and returns it open with
// a reader on its first block, both closed when the test ends.
func writeFirstBlock(t *testing.T, evs []event.Event, opts WriteOptions) (*Part, *BlockReader) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "p")
	if _, err := Write(dir, evs, Meta{}, opts); err != nil {
		t.Fatal(err)
	}
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := GetBlockReader()
	r.Reset(p, 0)
	t.Cleanup(func() { PutBlockReader(r); p.Close() })
	return p, r
}

// TestTemplateColumn writes messages of 300 wordings (two-byte codes) and
// an id field as a merge writes them, and reads them back every way.
func TestTemplateColumn(t *testing.T) {
	const rows = 4096
	evs := make([]event.Event, rows)
	want := make([]string, rows)
	for i := range evs {
		want[i] = fmt.Sprintf("%s happened to user%d at step %d: done", kindName(i%300), i%97, i+2)
		evs[i] = event.Event{Time: int64(i + 1), Index: "app", Message: want[i],
			Fields: []event.Field{{Name: "req", Value: fmt.Sprintf("%032x", i*7919)}}}
	}
	opts := DefaultWriteOptions()
	opts.ZstdLevel = 3
	p, r := writeFirstBlock(t, evs, opts)
	if p.Meta().Format != formatVersion {
		t.Fatalf("format %d, want %d", p.Meta().Format, formatVersion)
	}

	tmpls, codes, ok, err := r.ColumnTemplates(event.FieldMessage)
	if err != nil || !ok {
		t.Fatalf("message column not stored as templates: %v", err)
	}
	if len(tmpls) != 300 || len(codes) != rows {
		t.Fatalf("%d templates and %d codes, want 300 and %d", len(tmpls), len(codes), rows)
	}
	if got, want := tmpls[codes[301]], kindName(1)+" happened to 1 at step 0: done"; got != want {
		t.Fatalf("row 301's template %q, want %q", got, want)
	}
	for _, c := range []struct {
		numbers bool
		want    string
	}{{false, "user10\x00"}, {true, "12\x00"}} {
		data, ends, err := r.ColumnVars(event.FieldMessage, c.numbers)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(data[ends[9]:ends[10]]); got != c.want {
			t.Fatalf("row 10's variables (numbers %v) %q, want %q", c.numbers, got, c.want)
		}
	}
	// Identifiers are all variable: stored plain.
	if _, _, ok, _ := r.ColumnTemplates("req"); ok {
		t.Fatal("an id column was stored as templates")
	}

	// The words section's bigram filter: "user10" is a word variable.
	for _, c := range []struct {
		s          string
		fold, want bool
	}{{"user10", false, true}, {"ser", false, true}, {"USER1", true, true}, {"USER1", false, false}, {"Xy", true, false}, {"happened", false, false}} {
		if got, err := r.WordVarsMayContain(event.FieldMessage, c.s, c.fold); err != nil || got != c.want {
			t.Fatalf("WordVarsMayContain(%q, fold %v) = %v (%v), want %v", c.s, c.fold, got, err, c.want)
		}
	}

	// Only some rows: the others may be empty, these must be right.
	words := make([]uint64, (rows+63)/64)
	for _, i := range []int{0, 63, 64, 1000, rows - 1} {
		words[i/64] |= 1 << (i % 64)
	}
	some, err := r.ColumnRows(event.FieldMessage, words)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 63, 64, 1000, rows - 1} {
		if some[i] != want[i] {
			t.Fatalf("ColumnRows row %d = %q, want %q", i, some[i], want[i])
		}
	}
	got, err := r.Column(event.FieldMessage)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d = %q, want %q", i, got[i], want[i])
		}
	}
	raw, rawEnds, err := r.ColumnRaw(event.FieldMessage)
	if err != nil || len(rawEnds) != rows || string(raw[rawEnds[41]:rawEnds[42]]) != want[42] {
		t.Fatalf("ColumnRaw row 42 wrong (%v)", err)
	}

	// The filters hold the tokens of the templates and of the variables,
	// and not the placeholders' (no message has a token "0" or "1").
	for _, tok := range []string{"happened", "kindb", "user10", "4095", "DONE"} {
		if !r.MayContain(event.FieldMessage, []uint64{tokenize.Hash(tok)}) {
			t.Fatalf("the filter lacks %q", tok)
		}
	}
	for _, tok := range []string{"0", "1"} {
		if r.MayContain(event.FieldMessage, []uint64{tokenize.Hash(tok)}) {
			t.Fatalf("the filter holds the placeholder token %q", tok)
		}
	}
}

// TestTemplateNotForFlushes: S2 parts (flushes) stay plain.
func TestTemplateNotForFlushes(t *testing.T) {
	evs := make([]event.Event, 200)
	for i := range evs {
		evs[i] = event.Event{Time: int64(i + 1), Message: fmt.Sprintf("request %d served in %d ms to the client", i, i%13)}
	}
	opts := DefaultWriteOptions()
	opts.Codec = CodecS2
	_, r := writeFirstBlock(t, evs, opts)
	if _, _, ok, err := r.ColumnTemplates(event.FieldMessage); ok || err != nil {
		t.Fatalf("an S2 part's messages are stored as templates (%v)", err)
	}
}

// TestReadFormat2 reads a part written by the format-2 writer (before
// template columns; testdata/format2 was made by that code: 300 events,
// request i from user(i%7) took 3i ms) and merges it into a format-3 part,
// whose messages are then a template column with the same values.
func TestReadFormat2(t *testing.T) {
	old := openFixture(t, "format2", 2)
	want := func(i int) string { return fmt.Sprintf("request %d from user%d took %d ms", i, i%7, i*3) }
	check := func(p *Part, templated bool) {
		t.Helper()
		r := GetBlockReader()
		defer PutBlockReader(r)
		r.Reset(p, 0)
		msgs, err := r.Column(event.FieldMessage)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range msgs {
			if m != want(i) {
				t.Fatalf("row %d = %q, want %q", i, m, want(i))
			}
		}
		if _, _, ok, _ := r.ColumnTemplates(event.FieldMessage); ok != templated {
			t.Fatalf("template column %v, want %v", ok, templated)
		}
		if !r.MayContain(event.FieldMessage, []uint64{tokenize.Hash("user3")}) {
			t.Fatal("the filter lacks user3")
		}
	}
	check(old, false)
	check(mergeFixture(t, old), true)
}

// openFixture opens testdata/name, a part of 300 rows that the writer of
// an older format made, and checks its format and checksums.
func openFixture(t *testing.T, name string, format int) *Part {
	t.Helper()
	p, err := Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if p.Meta().Format != format || p.Meta().Rows != 300 {
		t.Fatalf("format %d, %d rows; want format %d, 300 rows", p.Meta().Format, p.Meta().Rows, format)
	}
	if err := p.Verify(); err != nil {
		t.Fatal(err)
	}
	return p
}

// mergeFixture merges old into a part of the current format and checks
// that part's format and checksums.
func mergeFixture(t *testing.T, old *Part) *Part {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "merged")
	opts := DefaultWriteOptions()
	opts.ZstdLevel = 3
	if _, err := Merge(dir, []*Part{old}, Meta{Generation: old.Meta().Generation + 1}, opts); err != nil {
		t.Fatal(err)
	}
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if p.Meta().Format != formatVersion {
		t.Fatalf("merged format %d, want %d", p.Meta().Format, formatVersion)
	}
	if err := p.Verify(); err != nil {
		t.Fatal(err)
	}
	return p
}
