package issues

import (
	"testing"
	"time"
)

// TestProjectNumbers: projects are numbered 1, 2, ... in order of creation
// (their DSNs name them by number), the numbers survive a restart, and a
// project that issues from logs opened first gets a key and the next
// number while its short ids go on from where they were.
func TestProjectNumbers(t *testing.T) {
	opts := testOpts(t)
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := tr.CreateProject("shop")
	b, _ := tr.CreateProject("billing")
	again, _ := tr.CreateProject("shop")
	if a.ID != 1 || b.ID != 2 || again.ID != 1 || again.Key != a.Key {
		t.Fatalf("numbers %d %d %d", a.ID, b.ID, again.ID)
	}
	// An issue from the logs of index "api" opens project api without a key.
	e := javaEvent("handle", time.Now(), "u1", "1.0")
	e.Project = "api"
	sid, err := tr.Record(e)
	if err != nil || sid != "API-1" {
		t.Fatalf("record: %q %v", sid, err)
	}
	if _, ok := tr.ProjectByID(0); ok {
		t.Fatal("a project without a key has a number")
	}
	c, err := tr.CreateProject("api")
	if err != nil || c.ID != 3 || c.Key == "" || c.NextSeq != 1 {
		t.Fatalf("api: %+v %v", c, err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	tr, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for id, name := range map[int64]string{1: "shop", 2: "billing", 3: "api"} {
		if p, ok := tr.ProjectByID(id); !ok || p.Name != name {
			t.Errorf("project %d after restart: %+v %v", id, p, ok)
		}
	}
	e2 := javaEvent("other", time.Now(), "u2", "1.0")
	e2.Project = "api"
	if sid, err := tr.Record(e2); err != nil || sid != "API-2" {
		t.Fatalf("second api issue: %q %v", sid, err)
	}
}
