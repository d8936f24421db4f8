package live

import (
	"testing"

	"github.com/logcaster/logcaster/internal/event"
)

// TestShedValues: a value that occurred is always reported as possible;
// absent ones (of the fields looked at) are not; anything else, and two
// stretches that looked at different fields, may have occurred.
func TestShedValues(t *testing.T) {
	sv := newShedValues([]string{"service", "user"})
	sv.add(&event.Event{Fields: []event.Field{{Name: "service", Value: "pay"}, {Name: "user", Value: "u1"}}})
	sv.add(&event.Event{Message: "no fields"})
	for _, c := range []struct {
		field, value string
		may          bool
	}{
		{"service", "pay", true}, {"user", "u1", true},
		{"service", "", true}, {"user", "", true}, // the event without them
		{"service", "u1", false}, {"user", "pay", false}, {"service", "shop", false},
		{"trace", "x", true}, // a field not looked at
	} {
		if got := sv.may(c.field, c.value); got != c.may {
			t.Errorf("may(%s, %q) = %v, want %v", c.field, c.value, got, c.may)
		}
	}
	if !(*shedValues)(nil).may("service", "shop") {
		t.Error("no record must allow every value")
	}
	other := newShedValues([]string{"service", "user"})
	other.add(&event.Event{Fields: []event.Field{{Name: "service", Value: "shop"}}})
	if m := sv.merge(other); m == nil || !m.may("service", "shop") || !m.may("service", "pay") || m.may("service", "mail") {
		t.Error("merging two stretches must keep both's values and only them")
	}
	if sv.merge(newShedValues([]string{"service"})) != nil || sv.merge(nil) != nil {
		t.Error("stretches that looked at different fields must merge to nil")
	}
}
