package alerts

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func configRules(t *testing.T) []Rule {
	rules, err := ParseRules([]byte(`alerts:
  - {name: c1, kind: new_issue, destinations: [{type: webhook, url: "http://127.0.0.1:1/c1"}]}
  - {name: c2, kind: regression, destinations: [{type: slack, url: "http://127.0.0.1:1/c2"}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func serveEngine(t *testing.T, e *Engine) string {
	mux := http.NewServeMux()
	e.Register(func(p string, h http.Handler) { mux.Handle(p, h) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func do(t *testing.T, method, url, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRulesSurviveRestart: rules POSTed and DELETEd through the API are in
// DATA/alerts/rules.json and come back, after the config file's rules, in a
// new engine.
func TestRulesSurviveRestart(t *testing.T) {
	opts := testOptions()
	opts.Dir = filepath.Join(t.TempDir(), "alerts") // created on the first save
	e, err := New(opts, configRules(t))
	if err != nil {
		t.Fatal(err)
	}
	url := serveEngine(t, e) + "/api/v1/alerts/rules"
	for _, post := range []string{
		`{"name":"api1","kind":"issue_frequency","count":50,"window":"5m","cooldown":"1h","project":"shop","destinations":[{"type":"webhook","url":"http://127.0.0.1:1/a1"}]}`,
		`{"name":"api2","kind":"new_issue","destinations":[{"type":"webhook","url":"http://127.0.0.1:1/a2"}]}`,
		`{"name":"c1","kind":"regression","destinations":[{"type":"email","smtp":"127.0.0.1:25","from":"a@b","to":["c@d"]}]}`,
	} {
		if code := do(t, "POST", url, post); code != 201 {
			t.Fatalf("POST %s: %d", post, code)
		}
	}
	if code := do(t, "DELETE", url+"/api2", ""); code != 204 {
		t.Fatalf("DELETE api2: %d", code)
	}
	if code := do(t, "DELETE", url+"/api2", ""); code != 404 {
		t.Fatalf("DELETE api2 again: %d", code)
	}
	if code := do(t, "DELETE", url+"/c2", ""); code != 409 {
		t.Fatalf("DELETE of a config rule: %d", code)
	}
	if code := do(t, "POST", url, `{"name":"bad","kind":"nope"}`); code != 400 {
		t.Fatalf("POST bad: %d", code)
	}
	e.Close()
	if _, err := os.Stat(filepath.Join(opts.Dir, "rules.json.tmp")); !os.IsNotExist(err) {
		t.Fatalf("temporary file left: %v", err)
	}

	e, err = New(opts, configRules(t))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got := e.Rules()
	names := make([]string, len(got))
	for i, r := range got {
		names[i] = r.Name
	}
	if strings.Join(names, ",") != "c1,c2,api1" {
		t.Fatalf("rules after restart %v", names)
	}
	c1, c2, a1 := got[0], got[1], got[2]
	if c1.Kind != KindRegression || c1.Destinations[0].Type != DestEmail || c1.Destinations[0].To[0] != "c@d" {
		t.Fatalf("c1 (replaced through the API) %+v", c1)
	}
	if c2.Kind != KindRegression || c2.Destinations[0].URL != "http://127.0.0.1:1/c2" {
		t.Fatalf("c2 %+v", c2)
	}
	if a1.Kind != KindIssueFrequency || a1.Count != 50 || time.Duration(a1.Window) != 5*time.Minute ||
		time.Duration(a1.Cooldown) != time.Hour || a1.Project != "shop" {
		t.Fatalf("api1 %+v", a1)
	}
	// Deleting a saved rule after the restart is durable too.
	url = serveEngine(t, e) + "/api/v1/alerts/rules"
	if code := do(t, "DELETE", url+"/api1", ""); code != 204 {
		t.Fatalf("DELETE api1: %d", code)
	}
	e.Close()
	e, _ = New(opts, configRules(t))
	if n := len(e.Rules()); n != 2 {
		t.Fatalf("%d rules after deleting api1 and restarting", n)
	}
}

// TestDamagedSavedRules: a rules.json that is not rules is moved aside and
// the server starts with its config rules.
func TestDamagedSavedRules(t *testing.T) {
	opts := testOptions()
	opts.Dir = t.TempDir()
	os.WriteFile(filepath.Join(opts.Dir, "rules.json"), []byte(`{"version":1,"rules":[{"name":`), 0o644)
	e, err := New(opts, configRules(t))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if n := len(e.Rules()); n != 2 {
		t.Fatalf("%d rules", n)
	}
	aside, _ := filepath.Glob(filepath.Join(opts.Dir, "rules.json.damaged-*"))
	if _, err := os.Stat(filepath.Join(opts.Dir, "rules.json")); !os.IsNotExist(err) || len(aside) != 1 {
		t.Fatalf("damaged file not moved aside: %v %v", err, aside)
	}
}
