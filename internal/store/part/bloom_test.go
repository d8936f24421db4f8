package part

import (
	"slices"
	"strings"
	"testing"

	"github.com/logcaster/logcaster/internal/tokenize"
)

// tokenHashesRef is the definition addTokens must match: tokenize.Hash of
// every tokenize.Each token up to tokenize.MaxTokenLen bytes, deduplicated.
func tokenHashesRef(v string) []uint64 {
	var hs []uint64
	tokenize.Each(v, func(tok string) {
		if len(tok) <= tokenize.MaxTokenLen {
			hs = append(hs, tokenize.Hash(tok))
		}
	})
	slices.Sort(hs)
	return slices.Compact(hs)
}

func tokenHashesFast(v string) []uint64 {
	var s hashSet
	s.addTokens(v)
	hs := slices.Clone(s.keys)
	slices.Sort(hs)
	return hs
}

var tokenCases = []string{
	"",
	"GET /api/v1/users?id=42 HTTP/1.1 200",
	"Error: Connection REFUSED (errno=111) at 10.0.0.1:5432",
	"snake_case_Word and MiXeD 0xDEADbeef",
	"Grüße aus Zürich, 日本語のテキスト, ok",
	"ascii then é in the middle_é_of_a_token",
	strings.Repeat("a", 64) + " " + strings.Repeat("b", 65) + " c " + strings.Repeat("D", 64),
	strings.Repeat("x", 200),
	"trailing token at end",
	"\x00\xff\xfe invalid utf8 \xc3",
	"___ --- 123",
}

func TestAddTokensMatchesTokenize(t *testing.T) {
	for _, v := range tokenCases {
		if got, want := tokenHashesFast(v), tokenHashesRef(v); !slices.Equal(got, want) {
			t.Errorf("%q: %d hashes, want %d", v, len(got), len(want))
		}
	}
	// Known values computed by hand from the definition: "Error" folds to
	// "error", a 65-byte run is not indexed.
	s := hashSet{}
	s.addTokens("Error " + strings.Repeat("z", 65))
	if len(s.keys) != 1 || s.keys[0] != tokenize.Hash("error") {
		t.Errorf("keys %x, want only Hash(error)=%x", s.keys, tokenize.Hash("error"))
	}
}

// FuzzAddTokens checks the fast ASCII path against the tokenize package on
// arbitrary text.
func FuzzAddTokens(f *testing.F) {
	for _, v := range tokenCases {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := tokenHashesFast(v), tokenHashesRef(v); !slices.Equal(got, want) {
			t.Fatalf("%q: hashes %x, want %x", v, got, want)
		}
	})
}

// TestHashSetReuse fills the set big, then small, then checks that reset
// leaves no key behind either way (the small reset zeroes slots one by one).
func TestHashSetReuse(t *testing.T) {
	var s hashSet
	for round, n := range []int{5000, 3, 0, 40, 5000, 1} {
		s.reset()
		for i := 0; i < n; i++ {
			s.add(uint64(i) * 0x9E3779B97F4A7C15) // includes 0
		}
		s.add(0)
		want := max(n, 1)
		if len(s.keys) != want {
			t.Fatalf("round %d: %d keys, want %d", round, len(s.keys), want)
		}
		used := 0
		for _, v := range s.slots {
			if v != 0 {
				used++
			}
		}
		if used != want-1 {
			t.Fatalf("round %d: %d slots used, want %d", round, used, want-1)
		}
	}
}
