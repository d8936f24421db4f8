package live

import "testing"

// FuzzParseCursor checks that any input either fails or parses to a cursor
// whose wire form parses back to the same cursor.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"1700000000000-42", "0-0", " 5-10 ", "1-18446744073709551615", "a-b", "-", "1--2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			return
		}
		if c.Epoch < 0 {
			t.Fatalf("%q: negative epoch %d", s, c.Epoch)
		}
		back, err := ParseCursor(c.String())
		if err != nil || back != c {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, c, c.String(), back, err)
		}
	})
}
