// Package deploy holds the files operators deploy LogCaster with; its tests
// check each file with the tool that will read it (promtool, haproxy,
// nginx) or, for Kubernetes, against the fields the API server requires.
package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestAlertRules(t *testing.T) {
	out := run(t, "prometheus", "promtool", "check", "rules", "alerts.yml")
	if !strings.Contains(out, "SUCCESS: 6 rules found") {
		t.Fatalf("promtool check rules: %s", out)
	}
	run(t, "prometheus", "promtool", "test", "rules", "alerts_test.yml")
}

// ourMetrics are the metric names LogCaster exports (see
// internal/metrics and internal/server); the dashboard and rules may use
// only these (plus Prometheus's own "up").
var ourMetrics = map[string]bool{
	"logcaster_active_connections": true, "logcaster_queue_size": true, "logcaster_queue_capacity": true,
	"logcaster_ingested_events_total": true, "logcaster_ingested_bytes_total": true,
	"logcaster_rejected_events_total": true, "logcaster_dropped_events_total": true,
	"logcaster_http_request_duration_seconds_bucket": true, "logcaster_query_duration_seconds_bucket": true,
	"logcaster_storage_bytes": true, "logcaster_storage_parts": true, "logcaster_wal_sync_duration_seconds_bucket": true,
	"logcaster_live_subscribers": true, "logcaster_issues": true, "logcaster_alerts_sent_total": true,
	"logcaster_data_disk_free_bytes": true, "logcaster_data_disk_size_bytes": true,
}

var metricName = regexp.MustCompile(`logcaster_[a-z_]+`)

func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana/logcaster.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	used := map[string]bool{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			names := metricName.FindAllString(tg.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no LogCaster metric", p.Title, tg.Expr)
			}
			for _, n := range names {
				if !ourMetrics[n] {
					t.Errorf("panel %q uses %s, which LogCaster does not export", p.Title, n)
				}
				used[n] = true
			}
		}
	}
	// The list of what the dashboard shows.
	for _, want := range []string{"logcaster_ingested_events_total", "logcaster_queue_size", "logcaster_active_connections",
		"logcaster_http_request_duration_seconds_bucket", "logcaster_query_duration_seconds_bucket", "logcaster_storage_bytes",
		"logcaster_storage_parts", "logcaster_rejected_events_total", "logcaster_dropped_events_total",
		"logcaster_live_subscribers", "logcaster_issues", "logcaster_alerts_sent_total"} {
		if !used[want] {
			t.Errorf("dashboard does not show %s", want)
		}
	}
	if len(d.Panels) != 14 {
		t.Errorf("dashboard has %d panels, want 14", len(d.Panels))
	}
}

func TestRulesUseOurMetrics(t *testing.T) {
	b, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range metricName.FindAllString(string(b), -1) {
		if !ourMetrics[n] {
			t.Errorf("alerts.yml uses %s, which LogCaster does not export", n)
		}
	}
}

func TestHAProxyConfig(t *testing.T) {
	b, err := os.ReadFile("haproxy/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mode tcp", "balance leastconn", "tcp-check send PING", "tcp-check expect string PONG"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("haproxy.cfg lacks %q", want)
		}
	}
	out := run(t, ".", "haproxy", "-c", "-f", "haproxy/haproxy.cfg")
	if !strings.Contains(out, "Configuration file is valid") {
		t.Fatalf("haproxy -c: %s", out)
	}
}

// TestNginxConfigs runs nginx -t over a main config including both files.
// nginx resolves upstream names when it loads the config, so the pod names
// (which resolve only inside the cluster) are replaced by 127.0.0.1 in the
// copies it checks; nothing else is changed.
func TestNginxConfigs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"stream.conf", "http.conf"} {
		b, err := os.ReadFile(filepath.Join("nginx", f))
		if err != nil {
			t.Fatal(err)
		}
		b = regexp.MustCompile(`logcaster-\d\.logcaster-headless`).ReplaceAll(b, []byte("127.0.0.1"))
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	module := ""
	for _, m := range []string{"/usr/lib/nginx/modules/ngx_stream_module.so", "/usr/share/nginx/modules/ngx_stream_module.so"} {
		if _, err := os.Stat(m); err == nil {
			module = "load_module " + m + ";\n"
			break
		}
	}
	main := module + "pid " + filepath.Join(dir, "nginx.pid") + ";\nerror_log stderr;\nevents {}\ninclude " + filepath.Join(dir, "stream.conf") +
		";\nhttp {\naccess_log off;\nclient_body_temp_path " + dir + ";\nproxy_temp_path " + dir + ";\ninclude " + filepath.Join(dir, "http.conf") + ";\n}\n"
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, dir, "nginx", "-t", "-c", conf)
	if !strings.Contains(out, "test is successful") {
		t.Fatalf("nginx -t: %s", out)
	}
}

// k8sKinds are the apiVersion each kind must use (the stable API groups,
// autoscaling/v2 for HPA with Pods metrics, VPA's CRD group) and the
// fields under spec the API server or controller refuses to do without.
var k8sKinds = map[string]struct {
	apiVersion string
	required   []string
}{
	"StatefulSet":             {"apps/v1", []string{"selector", "serviceName", "template"}},
	"Service":                 {"v1", []string{"ports", "selector"}},
	"HorizontalPodAutoscaler": {"autoscaling/v2", []string{"scaleTargetRef", "maxReplicas", "metrics"}},
	"VerticalPodAutoscaler":   {"autoscaling.k8s.io/v1", []string{"targetRef"}},
	"PodDisruptionBudget":     {"policy/v1", []string{"selector"}},
}

// TestKubernetesManifests is a structural schema check: kubeconform needs
// schemas downloaded from the internet, which CI does not have, so the
// requirements that matter are checked here by hand.
func TestKubernetesManifests(t *testing.T) {
	files, _ := filepath.Glob("kubernetes/*.yaml")
	if len(files) == 0 {
		t.Fatal("no manifests")
	}
	var kinds []string
	objs := map[string]map[string]any{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(fh)
		for {
			var o map[string]any
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			kind, _ := o["kind"].(string)
			want, ok := k8sKinds[kind]
			if !ok {
				t.Fatalf("%s: unexpected kind %q", f, kind)
			}
			if o["apiVersion"] != want.apiVersion {
				t.Errorf("%s: %s apiVersion %v, want %s", f, kind, o["apiVersion"], want.apiVersion)
			}
			name, _ := dig(o, "metadata", "name").(string)
			if !regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`).MatchString(name) || len(name) > 63 {
				t.Errorf("%s: %s name %q is not a DNS label", f, kind, name)
			}
			for _, r := range want.required {
				if dig(o, "spec", r) == nil {
					t.Errorf("%s: %s %s lacks spec.%s", f, kind, name, r)
				}
			}
			kinds = append(kinds, kind+"/"+name)
			objs[kind+"/"+name] = o
		}
		fh.Close()
	}
	sort.Strings(kinds)
	want := []string{"HorizontalPodAutoscaler/logcaster", "PodDisruptionBudget/logcaster", "Service/logcaster-headless",
		"Service/logcaster-http", "Service/logcaster-syslog", "Service/logcaster-tcp", "StatefulSet/logcaster", "VerticalPodAutoscaler/logcaster"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Fatalf("objects %v, want %v", kinds, want)
	}

	sts := objs["StatefulSet/logcaster"]
	podLabels := dig(sts, "spec", "template", "metadata", "labels").(map[string]any)
	if !subset(dig(sts, "spec", "selector", "matchLabels").(map[string]any), podLabels) {
		t.Error("StatefulSet selector does not match its pod labels")
	}
	if dig(sts, "spec", "volumeClaimTemplates") == nil {
		t.Error("StatefulSet has no volume")
	}
	c := dig(sts, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
	if p := dig(c, "readinessProbe", "httpGet", "path"); p != "/ready" {
		t.Errorf("readiness probe path %v, want /ready", p)
	}
	if p := dig(c, "livenessProbe", "httpGet", "path"); p != "/health?probe=liveness" {
		t.Errorf("liveness probe path %v, want /health?probe=liveness (not restarted for a full disk)", p)
	}
	portNames := map[string]bool{}
	for _, p := range c["ports"].([]any) {
		portNames[p.(map[string]any)["name"].(string)] = true
	}
	mounted := false
	for _, vm := range c["volumeMounts"].([]any) {
		if vm.(map[string]any)["name"] == dig(sts, "spec", "volumeClaimTemplates").([]any)[0].(map[string]any)["metadata"].(map[string]any)["name"] {
			mounted = true
		}
	}
	if !mounted {
		t.Error("the volume claim is not mounted")
	}
	for key, o := range objs {
		if !strings.HasPrefix(key, "Service/") {
			continue
		}
		if !subset(dig(o, "spec", "selector").(map[string]any), podLabels) {
			t.Errorf("%s selects no StatefulSet pod", key)
		}
		for _, p := range dig(o, "spec", "ports").([]any) {
			pm := p.(map[string]any)
			if tp, ok := pm["targetPort"].(string); ok && !portNames[tp] {
				t.Errorf("%s targets port %q, which the container does not name", key, tp)
			}
		}
	}
	if !subset(dig(objs["PodDisruptionBudget/logcaster"], "spec", "selector", "matchLabels").(map[string]any), podLabels) {
		t.Error("PDB selects no StatefulSet pod")
	}

	hpa := objs["HorizontalPodAutoscaler/logcaster"]
	if dig(hpa, "spec", "scaleTargetRef", "kind") != "StatefulSet" || dig(hpa, "spec", "scaleTargetRef", "name") != "logcaster" {
		t.Error("HPA does not target the StatefulSet")
	}
	got := map[string]string{}
	for _, m := range dig(hpa, "spec", "metrics").([]any) {
		mm := m.(map[string]any)
		switch mm["type"] {
		case "Resource":
			got[dig(mm, "resource", "name").(string)] = "Resource"
		case "Pods":
			got[dig(mm, "pods", "metric", "name").(string)] = dig(mm, "pods", "target", "averageValue").(string)
		}
	}
	if got["cpu"] != "Resource" || got["memory"] != "Resource" || got["logcaster_active_connections"] != "100" || got["logcaster_queue_size"] == "" {
		t.Errorf("HPA metrics %v", got)
	}
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func subset(sel, labels map[string]any) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
