package event

import (
	"math/rand"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1970-01-01T00:00:00Z", 0, true},
		{"2024-05-01T12:00:00Z", 1714564800e9, true},
		{"2024-05-01T12:00:00z", 1714564800e9, true},
		{"2024-05-01T14:00:00+02:00", 1714564800e9, true},
		{"2024-05-01T14:00:00+0200", 1714564800e9, true},
		{"2024-05-01T14:00:00+02", 1714564800e9, true},
		{"2024-05-01T07:30:00-04:30", 1714564800e9, true},
		{"2024-05-01T12:00:00.5Z", 1714564800e9 + 5e8, true},
		{"2024-05-01T12:00:00.123456789Z", 1714564800e9 + 123456789, true},
		{"2024-05-01T12:00:00.1234567891234Z", 1714564800e9 + 123456789, true},
		{"2024-05-01T12:00:00.000001+00:00", 1714564800e9 + 1000, true},
		{"2024-05-01 12:00:00", 1714564800e9, true},
		{"2024-05-01 12:00:00.250", 1714564800e9 + 25e7, true},
		{"2024-05-01 12:00:00,250", 1714564800e9 + 25e7, true},
		{"2024-02-29T00:00:00Z", 1709164800e9, true},
		{"2000-02-29T00:00:00Z", 951782400e9, true},
		{"1969-12-31T23:59:59Z", -1e9, true},
		{"1678-01-01T00:00:00Z", -9214560000e9, true},
		// epochs
		{"1714564800", 1714564800e9, true},
		{"1714564800.5", 1714564800e9 + 5e8, true},
		{"1714564800123", 1714564800123e6, true},
		{"1714564800123.5", 1714564800123e6 + 5e5, true},
		{"1714564800123456", 1714564800123456e3, true},
		{"1714564800123456789", 1714564800123456789, true},
		{"0", 0, true},
		{"42", 42e9, true},
		// rejected
		{"", 0, false},
		{"abc", 0, false},
		{"2023-02-29T00:00:00Z", 0, false},
		{"1900-02-29T00:00:00Z", 0, false},
		{"2024-13-01T00:00:00Z", 0, false},
		{"2024-04-31T00:00:00Z", 0, false},
		{"2024-05-01T24:00:00Z", 0, false},
		{"2024-05-01T12:60:00Z", 0, false},
		{"2024-05-01T12:00:00.Z", 0, false},
		{"2024-05-01T12:00:00+2:00", 0, false},
		{"2024-05-01T12:00:00+02:0", 0, false},
		{"2024-05-01T12:00:00 UTC", 0, false},
		{"2024-05-01X12:00:00Z", 0, false},
		{"2024-05-01T12:00:00Zjunk", 0, false},
		{"2024/05/01T12:00:00Z", 0, false},
		{"9999-12-31T23:59:59Z", 0, false}, // beyond int64 nanoseconds
		{"1600-01-01T00:00:00Z", 0, false},
		{"-1714564800", 0, false},
		{"1.7e9", 0, false},
		{"1714564800.", 1714564800e9, true},
		{"99999999999999999999", 0, false},
		{"9223372036854775808", 0, false},
		{"9223372036854775807", 9223372036854775807, true},
		{"9999999999", 0, false}, // seconds beyond 2262
	}
	for _, c := range cases {
		got, ok := ParseTime(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ParseTime(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestParseTimeMatchesStdlib checks random RFC 3339 times against time.Parse.
func TestParseTimeMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	layouts := []string{time.RFC3339, time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05.000000-0700"}
	for i := 0; i < 20000; i++ {
		sec := r.Int63n(2*4102444800) - 4102444800/2 // about 1905..2035
		tm := time.Unix(sec, r.Int63n(1e9)).In(time.FixedZone("", (r.Intn(49)-24)*1800))
		s := tm.Format(layouts[i%len(layouts)])
		want, err := time.Parse(layouts[i%len(layouts)], s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := ParseTime(s)
		if !ok || got != want.UnixNano() {
			t.Fatalf("ParseTime(%q) = %d, %v; time.Parse says %d", s, got, ok, want.UnixNano())
		}
	}
}

var benchTimes = []string{"2024-05-01T12:00:00.123Z", "2024-05-01T14:00:00.123456+02:00", "2024-05-01 12:00:00", "1714564800123"}

func BenchmarkParseTime(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok := ParseTime(benchTimes[i&3]); !ok {
			b.Fatal("not parsed")
		}
	}
}

func BenchmarkStdlibTimeParse(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := time.Parse(time.RFC3339Nano, benchTimes[i&1]); err != nil {
			b.Fatal(err)
		}
	}
}
