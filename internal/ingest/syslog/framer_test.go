package syslog

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// frames runs a framer over in, read whole or one byte at a time, and
// returns the frames and the final error.
func frames(in string, max int, oneByte bool) ([]string, error) {
	var rd io.Reader = strings.NewReader(in)
	if oneByte {
		rd = iotest.OneByteReader(rd)
	}
	f := newFramer(rd, 64, max, nil)
	var out []string
	for {
		fr, err := f.next()
		if fr != nil {
			out = append(out, string(fr))
		}
		if err != nil {
			return out, err
		}
	}
}

func TestFramer(t *testing.T) {
	long := strings.Repeat("x", 300) // grows the 64-byte buffer
	cases := []struct {
		name, in string
		want     []string
		bad      bool // ends with a *frameError instead of io.EOF
	}{
		{"lf", "<14>a\n<14>b\n", []string{"<14>a", "<14>b"}, false},
		{"crlf and blank lines", "<14>a\r\n\n\n<14>b\r\n", []string{"<14>a\r", "<14>b\r"}, false},
		{"nul", "<14>a\x00<14>b\x00", []string{"<14>a", "<14>b"}, false},
		{"nul mode keeps raw lf", "<14>a\nb\x00<14>c\nd\x00", []string{"<14>a\nb", "<14>c\nd"}, false},
		{"lf mode takes nul too", "<14>a\n<14>b\x00<14>c\n", []string{"<14>a", "<14>b", "<14>c"}, false},
		{"unterminated end", "<14>a\n<14>b", []string{"<14>a", "<14>b"}, false},
		{"octet", "5 <14>a6 <14>bc", []string{"<14>a", "<14>bc"}, false},
		{"octet counts trailing lf", "6 <14>a\n6 <14>b\n", []string{"<14>a\n", "<14>b\n"}, false},
		{"octet raw lf inside", "9 <14>a\nb\nc", []string{"<14>a\nb\nc"}, false},
		{"mixed", "5 <14>a<14>b\n5 <14>c<14>d\x00", []string{"<14>a", "<14>b", "<14>c", "<14>d"}, false},
		{"long octet", "304 <14>" + long, []string{"<14>" + long}, false},
		{"long lf", "<14>" + long + "\n", []string{"<14>" + long}, false},
		{"digits without space are text", "2024-05-01 started\n", []string{"2024-05-01 started"}, false},
		{"count too small", "4 <14>ab\n", []string{"<14>"}, true},
		{"count too large", "9 <14>a5 <14>b", []string{"<14>a5 <1"}, true}, // caught at the next frame
		{"count not a pri", "3 abc", nil, true},
		{"count over limit", "1001 <14>", nil, true},
		{"count digits endless", "12345678901 x", nil, true},
		{"lf over limit", strings.Repeat("y", 1002), nil, true},
		{"truncated octet frame", "10 <14>a", nil, true},
	}
	for _, c := range cases {
		for _, oneByte := range []bool{false, true} {
			if oneByte && c.name == "nul mode keeps raw lf" {
				continue // the mode is decided on what the first read brings
			}
			got, err := frames(c.in, 1000, oneByte)
			var fe *frameError
			if c.bad != errors.As(err, &fe) || (!c.bad && err != io.EOF) {
				t.Errorf("%s (one byte %v): error %v, want bad frame %v", c.name, oneByte, err, c.bad)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
				t.Errorf("%s (one byte %v): frames %q, want %q", c.name, oneByte, got, c.want)
			}
		}
	}
}

func FuzzFramer(f *testing.F) {
	for _, s := range []string{"5 <14>a<14>b\n", "<14>a\x00", "9 <14>a\nb\nc", "4 <14>ab\n", "12 x", "\n\r\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 100
		fr := newFramer(iotest.HalfReader(bytes.NewReader(in)), 16, max, nil)
		total := 0
		for i := 0; ; i++ {
			frame, err := fr.next()
			if len(frame) > max+1 {
				t.Fatalf("frame of %d bytes over the limit %d", len(frame), max)
			}
			total += len(frame)
			if total > len(in) || i > len(in)+1 {
				t.Fatalf("framer returned more than its input")
			}
			if err != nil {
				return
			}
		}
	})
}
