package live

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadLogFile: any bytes in a resume log file are read without a
// panic, and what is read is well formed.
func FuzzReadLogFile(f *testing.F) {
	// A valid record written by logWriter, and pieces of one.
	dir := f.TempDir()
	var l seqLog
	l.limit = 1 << 20
	w, _, err := openLog(dir, 1, 1<<20, &l)
	if err != nil {
		f.Fatal(err)
	}
	w.write(&segment{epoch: 1, first: 7, minT: 1, maxT: 2, hashes: []uint64{3, 4}})
	w.write(&segment{epoch: 1, first: 9, minT: 5, maxT: 5, hashes: []uint64{6}})
	w.close()
	valid, err := os.ReadFile(filepath.Join(dir, "1-7"+logExt))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add(valid[:8])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var l seqLog
		l.limit = 1 << 30
		_ = parseLog(b, 5, &l)
		var prev *segment
		for _, s := range l.segs {
			if len(s.hashes) == 0 || s.epoch != 5 {
				t.Fatalf("bad segment %+v", s)
			}
			if prev != nil && prev.last() >= s.first {
				t.Fatalf("segments go back: %+v after %+v", s, prev)
			}
			prev = s
		}
	})
}
