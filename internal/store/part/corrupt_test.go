package part

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// TestCorruption flips bytes in every file of a part: Open, a column read
// or Verify must then report a *CorruptError, never panic or succeed
// silently (a flip inside data.bin is only found when that section is read,
// hence Verify).
func TestCorruption(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	evs := genEvents(rng, 2000)
	for _, codec := range []Codec{CodecZstd, CodecS2} {
		src := filepath.Join(t.TempDir(), "src")
		opts := WriteOptions{Codec: codec, ZstdLevel: 1, MaxBlockRows: 200, MaxBlockBytes: 1 << 20}
		if _, err := Write(src, evs, Meta{Sources: []string{"a"}}, opts); err != nil {
			t.Fatal(err)
		}
		corruptFiles(t, rng, src)
	}
}

func corruptFiles(t *testing.T, rng *rand.Rand, src string) {
	for _, name := range []string{metaFile, indexFile, bloomsFile, dataFile} {
		orig, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		for trial := 0; trial < 40; trial++ {
			b := append([]byte(nil), orig...)
			switch trial {
			case 0:
				b = b[:len(b)-1] // truncated
			case 1:
				b = b[:0]
			default:
				b[rng.Intn(len(b))] ^= byte(1 + rng.Intn(255))
			}
			dir := filepath.Join(t.TempDir(), "p")
			copyPart(t, src, dir)
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
			err := openAndReadAll(dir)
			if err == nil {
				t.Fatalf("%s trial %d: damage not detected", name, trial)
			}
			if !IsCorrupt(err) {
				t.Fatalf("%s trial %d: error %v does not wrap CorruptError", name, trial, err)
			}
		}
	}
}

// openAndReadAll opens dir, reads every column of every block, then
// verifies the whole part.
func openAndReadAll(dir string) error {
	p, err := Open(dir)
	if err != nil {
		return err
	}
	defer p.Close()
	r := GetBlockReader()
	defer PutBlockReader(r)
	for i := 0; i < p.NumBlocks(); i++ {
		r.Reset(p, i)
		if _, err := r.Timestamps(); err != nil {
			return err
		}
		for _, n := range r.ColumnNames() {
			if _, err := r.Column(n); err != nil {
				return err
			}
			// Summaries are checked by Open; their lookups must not fail.
			r.ValueCounts(n, nil, nil)
			r.TokenRows(n, "from")
		}
	}
	return p.Verify()
}

func copyPart(t testing.TB, src, dst string) {
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{metaFile, indexFile, bloomsFile, dataFile} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
