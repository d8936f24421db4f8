package part

import (
	"cmp"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/tokenize"
)

// genEvents makes n varied events: several streams, empty and missing
// fields, unicode, repeated values, many columns, shuffled time order.
func genEvents(rng *rand.Rand, n int) []event.Event {
	words := []string{"error", "timeout", "Grüße", "日本語", "connection", "refused", "ok", "", "a,b;c", "forbidden"}
	evs := make([]event.Event, n)
	for i := range evs {
		e := &evs[i]
		e.Time = 1_700_000_000_000_000_000 + int64(rng.Intn(1_000_000))*int64([]int{1, 1000, 1_000_000}[i%3])
		e.Index = []string{"app", "web", ""}[rng.Intn(3)]
		e.Level = []string{"INFO", "ERROR", ""}[rng.Intn(3)]
		var sb strings.Builder
		for j := rng.Intn(8); j >= 0; j-- {
			sb.WriteString(words[rng.Intn(len(words))])
			sb.WriteByte(' ')
			fmt.Fprintf(&sb, "%d ", rng.Intn(100000))
		}
		e.Message = sb.String()
		if rng.Intn(4) > 0 {
			e.TraceID = fmt.Sprintf("%032x", rng.Int63()%50)
		}
		if rng.Intn(3) > 0 {
			e.Fields = append(e.Fields, event.Field{Name: "service", Value: []string{"api", "db", "ü"}[rng.Intn(3)]})
		}
		if rng.Intn(2) == 0 {
			e.Fields = append(e.Fields, event.Field{Name: "host", Value: fmt.Sprintf("h%d", rng.Intn(300))})
		}
		if rng.Intn(5) == 0 {
			e.Fields = append(e.Fields, event.Field{Name: "empty", Value: ""})
		}
		if rng.Intn(7) == 0 {
			e.Fields = append(e.Fields, event.Field{Name: fmt.Sprintf("f%d", rng.Intn(60)), Value: words[rng.Intn(len(words))]})
		}
		e.Fields = append(e.Fields, event.Field{Name: "const", Value: "same"})
	}
	return evs
}

// expectOrder sorts copies of events the way a part must hold them:
// by (index, service), then time, ties in input order.
func expectOrder(evs []event.Event) []event.Event {
	out := slices.Clone(evs)
	svc := func(e *event.Event) string { s, _ := e.Get("service"); return s }
	slices.SortStableFunc(out, func(a, b event.Event) int {
		return cmp.Or(cmp.Compare(a.Index, b.Index), cmp.Compare(svc(&a), svc(&b)), cmp.Compare(a.Time, b.Time))
	})
	return out
}

func allNames(evs []event.Event) []string {
	seen := map[string]bool{event.FieldIndex: true, event.FieldLevel: true, event.FieldMessage: true, event.FieldTraceID: true}
	for _, e := range evs {
		for _, f := range e.Fields {
			seen[f.Name] = true
		}
	}
	seen["no_such_column"] = true
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// checkPart reads every block of the part at dir and compares it with
// want, which is in part order.
func checkPart(t *testing.T, dir string, want []event.Event) *Part {
	t.Helper()
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if p.Meta().Rows != uint64(len(want)) {
		t.Fatalf("meta rows %d, want %d", p.Meta().Rows, len(want))
	}
	names := allNames(want)
	r := GetBlockReader()
	defer PutBlockReader(r)
	row := 0
	for i := 0; i < p.NumBlocks(); i++ {
		r.Reset(p, i)
		ts, err := r.Timestamps()
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != r.Rows() || r.Rows() != p.BlockRows(i) {
			t.Fatalf("block %d: %d timestamps, %d rows", i, len(ts), r.Rows())
		}
		mn, mx := r.TimeRange()
		if ts[0] != mn || ts[len(ts)-1] != mx {
			t.Fatalf("block %d: time range %d..%d, timestamps %d..%d", i, mn, mx, ts[0], ts[len(ts)-1])
		}
		present := map[string]bool{}
		for _, n := range r.ColumnNames() {
			present[n] = true
		}
		cols := map[string][]string{}
		for _, n := range names {
			vals, err := r.Column(n)
			if err != nil {
				t.Fatal(err)
			}
			if (vals != nil) != present[n] {
				t.Fatalf("block %d column %q: nil=%v but listed=%v", i, n, vals == nil, present[n])
			}
			if vals != nil && len(vals) != len(ts) {
				t.Fatalf("block %d column %q: %d values for %d rows", i, n, len(vals), len(ts))
			}
			cols[n] = vals
			// ColumnRaw holds the same values back to back.
			data, ends, err := r.ColumnRaw(n)
			if err != nil {
				t.Fatal(err)
			}
			if (ends == nil) != (vals == nil) || len(ends) != len(vals) {
				t.Fatalf("block %d column %q: %d ends for %d values", i, n, len(ends), len(vals))
			}
			start := uint32(0)
			for k, e := range ends {
				if string(data[start:e]) != vals[k] {
					t.Fatalf("block %d column %q row %d: raw %q, value %q", i, n, k, data[start:e], vals[k])
				}
				start = e
			}
			if int(start) != len(data) {
				t.Fatalf("block %d column %q: %d bytes of data, values end at %d", i, n, len(data), start)
			}
		}
		stream := p.BlockStream(i)
		for j := range ts {
			if row >= len(want) {
				t.Fatalf("more rows than written")
			}
			e := &want[row]
			if ts[j] != e.Time {
				t.Fatalf("row %d: time %d, want %d", row, ts[j], e.Time)
			}
			if k := event.StreamKey(e); k != stream {
				t.Fatalf("row %d: in block of stream %q, want %q", row, stream, k)
			}
			for _, n := range names {
				w, _ := e.Get(n)
				got := ""
				if cols[n] != nil {
					got = cols[n][j]
				}
				if got != w {
					t.Fatalf("row %d column %q: %q, want %q", row, n, got, w)
				}
				// No false negatives: every token of the value is in the bloom.
				tokenize.Each(w, func(tok string) {
					if len(tok) <= tokenize.MaxTokenLen && !r.MayContain(n, []uint64{tokenize.Hash(tok)}) {
						t.Fatalf("row %d column %q: bloom misses token %q", row, n, tok)
					}
				})
			}
			row++
		}
	}
	if row != len(want) {
		t.Fatalf("read %d rows, want %d", row, len(want))
	}
	if err := p.Verify(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWriteRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	evs := genEvents(rng, 5000)
	// Huge values, up to 256 KiB, and a row whose only column is huge.
	big := strings.Repeat("Zürich ", 256<<10/8)
	evs[7].Message = big
	evs[8].Fields = append(evs[8].Fields, event.Field{Name: "stack", Value: big[:100000]})
	// Duplicate field name: the first wins, as in Event.Get.
	evs[9].Fields = append(evs[9].Fields, event.Field{Name: "host", Value: "first"}, event.Field{Name: "host", Value: "second"})
	// A field shadowing a built-in name is ignored, as in Event.Get.
	evs[10].Fields = append(evs[10].Fields, event.Field{Name: "message", Value: "shadowed"})
	for _, opts := range []WriteOptions{
		DefaultWriteOptions(),
		{ZstdLevel: 3, MaxBlockRows: 7, MaxBlockBytes: 1 << 20},
		{ZstdLevel: 1, MaxBlockRows: 1000, MaxBlockBytes: 3000},
		{Codec: CodecS2, MaxBlockRows: 700, MaxBlockBytes: 1 << 20},
		{Codec: CodecS2, MaxBlockRows: 8192, MaxBlockBytes: 4 << 20, Parallelism: 1},
	} {
		t.Run(fmt.Sprintf("%+v", opts), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "p1")
			meta, err := Write(dir, evs, Meta{FlushSeq: 42}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if meta.FlushSeq != 42 || meta.Rows != uint64(len(evs)) || meta.Format != formatVersion {
				t.Fatalf("meta %+v", meta)
			}
			if _, err := os.Stat(dir + tmpSuffix); !os.IsNotExist(err) {
				t.Fatalf("tmp dir left behind: %v", err)
			}
			p := checkPart(t, dir, expectOrder(evs))
			if got := p.Meta(); got.FlushSeq != 42 || got.DiskBytes != diskBytes(t, dir) || got.MinTime != meta.MinTime {
				t.Fatalf("opened meta %+v, written %+v", got, meta)
			}
			for i := 0; i < p.NumBlocks(); i++ {
				if p.BlockRows(i) > opts.MaxBlockRows {
					t.Fatalf("block %d has %d rows", i, p.BlockRows(i))
				}
			}
		})
	}
}

func diskBytes(t *testing.T, dir string) uint64 {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, e := range ents {
		fi, _ := e.Info()
		n += uint64(fi.Size())
	}
	return n
}

func TestWriteEmptyAndExisting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	meta, err := Write(dir, nil, Meta{}, DefaultWriteOptions())
	if err != nil {
		t.Fatal(err)
	}
	if meta.Rows != 0 || meta.Blocks != 0 {
		t.Fatalf("meta %+v", meta)
	}
	checkPart(t, dir, nil)
	if _, err := Write(dir, nil, Meta{}, DefaultWriteOptions()); err == nil {
		t.Fatal("write over an existing part succeeded")
	}
	if _, err := Write(dir+"x", nil, Meta{}, WriteOptions{}); err == nil {
		t.Fatal("invalid options accepted")
	}
}

func TestEncodings(t *testing.T) {
	// One stream, one block: const, dict and plain columns, checked by the
	// encoding byte each section starts with.
	evs := make([]event.Event, 300)
	for i := range evs {
		evs[i] = event.Event{Time: int64(i) * 1000, Index: "app", Level: []string{"INFO", "WARN"}[i%2],
			Message: fmt.Sprintf("m%d", i)}
	}
	dir := filepath.Join(t.TempDir(), "p")
	if _, err := Write(dir, evs, Meta{}, DefaultWriteOptions()); err != nil {
		t.Fatal(err)
	}
	p := checkPart(t, dir, evs)
	want := map[string]byte{event.FieldIndex: encConst, event.FieldLevel: encDict, event.FieldMessage: encPlain}
	r := GetBlockReader()
	defer PutBlockReader(r)
	r.Reset(p, 0)
	for name, enc := range want {
		c := r.colHeader(name)
		var sec, raw []byte
		sec, _ = p.readAt(sec, c.off, c.len)
		dec, reason := decodeSection(&raw, sec)
		if reason != "" || dec[0] != enc {
			t.Errorf("column %s: encoding %d (%s), want %d", name, dec[0], reason, enc)
		}
	}
	// The same block with S2: the message section says so in its first
	// byte and decodes to the same values (checkPart).
	opts := DefaultWriteOptions()
	opts.Codec = CodecS2
	dir2 := filepath.Join(t.TempDir(), "p2")
	if _, err := Write(dir2, evs, Meta{}, opts); err != nil {
		t.Fatal(err)
	}
	p2 := checkPart(t, dir2, evs)
	r.Reset(p2, 0)
	c := r.colHeader(event.FieldMessage)
	sec, _ := p2.readAt(nil, c.off, c.len)
	if sec[0] != compS2 {
		t.Errorf("s2 part: message section compression %d, want %d", sec[0], compS2)
	}
	r.Reset(p, 0)
	if got := r.ColumnNames(); !slices.Equal(got, []string{"index", "level", "message"}) {
		t.Errorf("columns %q", got)
	}
}

func TestMayContain(t *testing.T) {
	evs := []event.Event{{Time: 1, Message: "GET /forbidden Path", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}}
	dir := filepath.Join(t.TempDir(), "p")
	if _, err := Write(dir, evs, Meta{}, DefaultWriteOptions()); err != nil {
		t.Fatal(err)
	}
	p := checkPart(t, dir, evs)
	r := GetBlockReader()
	defer PutBlockReader(r)
	r.Reset(p, 0)
	h := tokenize.Hash
	for _, c := range []struct {
		col  string
		toks []string
		want bool
	}{
		{"message", []string{"forbidden", "PATH"}, true},
		{"message", nil, true},
		{"trace_id", []string{"4bf92f3577b34da6a3ce929d0e0e4736"}, true},
		{"level", []string{"x"}, false},
	} {
		var hs []uint64
		for _, tok := range c.toks {
			hs = append(hs, h(tok))
		}
		if got := r.MayContain(c.col, hs); got != c.want {
			t.Errorf("MayContain(%s, %q) = %v", c.col, c.toks, got)
		}
	}
	// Absent tokens are mostly rejected: count false positives over many.
	fp := 0
	for i := 0; i < 10000; i++ {
		if r.MayContain("message", []uint64{h(fmt.Sprintf("absent%d", i))}) {
			fp++
		}
	}
	// 3 tokens in a 64-bit filter: fp rate (1-e^(-7*3/64))^7 ≈ 0.0004%.
	if fp > 20 {
		t.Errorf("%d false positives in 10000", fp)
	}
}

func TestMerge(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	tmp := t.TempDir()
	var parts []*Part
	var all []event.Event
	for i := 0; i < 4; i++ {
		evs := genEvents(rng, 500+i*700)
		dir := filepath.Join(tmp, fmt.Sprint("p", i))
		// Flush parts in either codec; the merge rewrites them with zstd.
		opts := WriteOptions{ZstdLevel: 1, MaxBlockRows: 100, MaxBlockBytes: 1 << 20}
		if i%2 == 1 {
			opts.Codec = CodecS2
		}
		if _, err := Write(dir, evs, Meta{FlushSeq: uint64(i)}, opts); err != nil {
			t.Fatal(err)
		}
		p, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		parts = append(parts, p)
		// Within a part equal times keep input order; across parts, part order.
		all = append(all, expectOrder(evs)...)
	}
	dir := filepath.Join(tmp, "merged")
	meta, err := Merge(dir, parts, Meta{Generation: 1, Sources: []string{"p0", "p1", "p2", "p3"}}, WriteOptions{ZstdLevel: 7, MaxBlockRows: 333, MaxBlockBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	p := checkPart(t, dir, expectOrder(all))
	if got := p.Meta(); got.Generation != 1 || !slices.Equal(got.Sources, meta.Sources) || got.Rows != uint64(len(all)) {
		t.Fatalf("meta %+v", got)
	}
}

// TestParallelSameBytes checks that the files of a part do not depend on
// how many goroutines encoded its blocks, for Write and for Merge.
func TestParallelSameBytes(t *testing.T) {
	evs := genEvents(rand.New(rand.NewSource(5)), 3000)
	tmp := t.TempDir()
	var dirs []string
	for _, par := range []int{1, 2, 5} {
		opts := WriteOptions{ZstdLevel: 1, MaxBlockRows: 64, MaxBlockBytes: 1 << 20, Parallelism: par}
		d := filepath.Join(tmp, fmt.Sprint("w", par))
		if _, err := Write(d, evs, Meta{}, opts); err != nil {
			t.Fatal(err)
		}
		p, err := Open(d)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		m := filepath.Join(tmp, fmt.Sprint("m", par))
		opts.MaxBlockRows = 100
		if _, err := Merge(m, []*Part{p, p}, Meta{}, opts); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d, m)
	}
	for _, name := range []string{metaFile, indexFile, bloomsFile, dataFile} {
		for i := 2; i < len(dirs); i++ {
			a, _ := os.ReadFile(filepath.Join(dirs[i%2], name))
			b, _ := os.ReadFile(filepath.Join(dirs[i], name))
			if len(a) == 0 || string(a) != string(b) {
				t.Errorf("%s differs between %s and %s", name, dirs[i%2], dirs[i])
			}
		}
	}
	// The merge of a part with itself holds every row twice.
	p := checkPart(t, dirs[1], expectOrder(append(slices.Clone(evs), evs...)))
	if p.Meta().Rows != 6000 {
		t.Fatalf("merged rows %d", p.Meta().Rows)
	}
}

func TestNoBloomsMayContainEverything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	evs := []event.Event{
		{Time: 1, Index: "a", Message: "alpha beta", Fields: []event.Field{{Name: "service", Value: "svc"}}},
		{Time: 2, Index: "a", Message: "gamma", Fields: []event.Field{{Name: "service", Value: "svc"}}},
	}
	opts := DefaultWriteOptions()
	opts.NoBlooms = true
	if _, err := Write(dir, evs, Meta{}, opts); err != nil {
		t.Fatal(err)
	}
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := GetBlockReader()
	defer PutBlockReader(r)
	r.Reset(p, 0)
	if !r.MayContain("message", []uint64{tokenize.Hash("nowhere")}) {
		t.Fatal("a block without filters must answer may-contain")
	}
	if r.MayContain("no_such_column", []uint64{tokenize.Hash("alpha")}) {
		t.Fatal("a column the block lacks holds nothing")
	}
	msgs, err := r.Column("message")
	if err != nil || len(msgs) != 2 || msgs[0] != "alpha beta" || msgs[1] != "gamma" {
		t.Fatalf("column: %q %v", msgs, err)
	}
}

// TestColumnCodes: a dict or const column's codes give back, row by row,
// the values Column gives (asked in either order); a plain column and a
// missing one have no codes.
func TestColumnCodes(t *testing.T) {
	evs := make([]event.Event, 500)
	for i := range evs {
		evs[i] = event.Event{Time: int64(i) * 1000, Index: "app", Level: []string{"INFO", "WARN", ""}[i%3],
			Message: fmt.Sprintf("m%d", i)}
	}
	dir := filepath.Join(t.TempDir(), "p")
	if _, err := Write(dir, evs, Meta{}, DefaultWriteOptions()); err != nil {
		t.Fatal(err)
	}
	p := checkPart(t, dir, evs)
	r := GetBlockReader()
	defer PutBlockReader(r)
	for _, first := range []string{"codes", "column"} {
		r.Reset(p, 0)
		for _, name := range []string{event.FieldIndex, event.FieldLevel} {
			var vals []string
			if first == "column" {
				vals, _ = r.Column(name)
			}
			dict, codes, ok, err := r.ColumnCodes(name)
			if err != nil || !ok {
				t.Fatalf("%s: no codes (%v)", name, err)
			}
			if first == "codes" {
				vals, _ = r.Column(name)
			}
			for i := range evs {
				got := dict[0]
				if codes != nil {
					got = dict[codes[i]]
				}
				want := evs[i].Index
				if name == event.FieldLevel {
					want = evs[i].Level
				}
				if got != want || vals[i] != want {
					t.Fatalf("%s row %d: codes say %q, Column %q, want %q", name, i, got, vals[i], want)
				}
			}
			if name == event.FieldIndex && codes != nil {
				t.Errorf("const column with codes")
			}
		}
		for _, name := range []string{event.FieldMessage, "nope"} {
			if _, _, ok, err := r.ColumnCodes(name); ok || err != nil {
				t.Errorf("%s: codes %v %v", name, ok, err)
			}
		}
	}
}
