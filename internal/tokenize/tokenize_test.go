package tokenize

import (
	"fmt"
	"testing"
)

func TestEach(t *testing.T) {
	for in, want := range map[string]string{
		"Connection refused: host db-1:5432": "[Connection refused host db 1 5432]",
		"user_id=42&x":                       "[user_id 42 x]",
		"결제 실패: 카드 한도 초과 (txId=1234567)":     "[결제 실패 카드 한도 초과 txId 1234567]",
		"  ":               "[]",
		"é-à":              "[é à]",
		"\xff\xfebad utf8": "[bad utf8]",
	} {
		var got []string
		Each(in, func(tok string) { got = append(got, tok) })
		if fmt.Sprint(got) != want {
			t.Errorf("Each(%q) = %v, want %s", in, got, want)
		}
	}
}

func TestHashFoldsCase(t *testing.T) {
	if Hash("Error") != Hash("ERROR") || Hash("error") != Hash("eRrOr") {
		t.Fatal("ASCII case not folded")
	}
	if Hash("Ärger") != Hash("äRGER") {
		t.Fatal("Unicode case not folded")
	}
	if Hash("error") == Hash("errors") {
		t.Fatal("different tokens hash alike")
	}
	if n := testing.AllocsPerRun(100, func() { Hash("SomeMixedCaseToken") }); n != 0 {
		t.Fatalf("Hash of an ASCII token allocates %v times", n)
	}
}

func TestAppendHashesSkipsLongTokens(t *testing.T) {
	long := fmt.Sprintf("%070d", 7)
	hs := AppendHashes(nil, "short "+long+" end")
	if len(hs) != 2 || hs[0] != Hash("short") || hs[1] != Hash("end") {
		t.Fatalf("got %v", hs)
	}
}
