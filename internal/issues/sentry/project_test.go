package sentry

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/logcaster/logcaster/internal/issues"
)

// TestNumericProject: a DSN such as http://KEY@host/1 (the only shape the
// JavaScript SDKs accept) reaches the project of that number when the key
// is that project's; another number, another project's key or no key is
// refused.
func TestNumericProject(t *testing.T) {
	h, tr, sink, key := newTestHandler(t)
	other, err := tr.CreateProject("shop")
	if err != nil {
		t.Fatal(err)
	}
	if other.ID != 2 {
		t.Fatalf("second project numbered %d", other.ID)
	}
	mux := http.NewServeMux()
	mux.Handle(RouteEnvelope, h)
	mux.Handle(RouteStore, h)
	post := func(path, key string) int {
		r := httptest.NewRequest("POST", path, strings.NewReader(envelopeOf("00000000000000000000000000000001", `{"message":"numeric dsn"}`)))
		if key != "" {
			r.Header.Set("X-Sentry-Auth", "Sentry sentry_version=7, sentry_key="+key)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	for _, c := range []struct {
		path, key string
		code      int
	}{
		{"/api/1/envelope/", key, 200},
		{"/api/2/envelope/", other.Key, 200},
		{"/api/42/envelope/", other.Key, 401},
		{"/api/1/envelope/", other.Key, 401},
		{"/api/1/envelope/", "", 401},
		{"/api/1/envelope/", "0123456789abcdef0123456789abcdef", 401},
		{"/api/1x/envelope/", key, 401},
	} {
		if got := post(c.path, c.key); got != c.code {
			t.Errorf("POST %s key %q: %d, want %d", c.path, c.key, got, c.code)
		}
	}
	list, total, _ := tr.List(issues.ListOptions{})
	var projects []string
	for _, is := range list {
		projects = append(projects, is.Project)
	}
	if total != 2 || strings.Join(projects, ",") != "shop,web" && strings.Join(projects, ",") != "web,shop" {
		t.Fatalf("issues %d in projects %v", total, projects)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.events) != 2 || sink.events[0].Index != "web" || sink.events[1].Index != "shop" {
		t.Fatalf("log events %+v", sink.events)
	}
}
