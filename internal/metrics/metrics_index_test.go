package metrics

import (
	"fmt"
	"testing"
)

func TestIndexLabelsAreBounded(t *testing.T) {
	m := New()
	m.MaxIndexLabels = 3
	for i := 0; i < 3; i++ {
		if got := m.IndexLabel(fmt.Sprint("idx", i)); got != fmt.Sprint("idx", i) {
			t.Fatalf("index %d labelled %q", i, got)
		}
	}
	if got := m.IndexLabel("idx9"); got != "other" {
		t.Fatalf("fourth index labelled %q, want other", got)
	}
	if got := m.IndexLabel("idx1"); got != "idx1" {
		t.Fatalf("a known index lost its label: %q", got)
	}
}
