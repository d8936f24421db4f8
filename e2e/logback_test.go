package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// logbackJars are the jars App.java needs, from Debian's liblogback-java,
// liblogstash-logback-encoder-java and their dependencies
// (libslf4j-java, libjackson2-*-java, libdisruptor-java).
var logbackJars = []string{
	"logback-classic", "logback-core", "slf4j-api", "logstash-logback-encoder",
	"jackson-core", "jackson-databind", "jackson-annotations", "disruptor",
}

// TestLogbackLogstashTCP runs a small Java program that logs through
// logback's LogstashTcpSocketAppender (logstash-logback-encoder), the
// usual Spring ELK setup, to the TCP lines port of a real server, and
// checks what was stored against the JSON the same encoder wrote to the
// program's stdout.
func TestLogbackLogstashTCP(t *testing.T) {
	javac, err := exec.LookPath("javac")
	if err != nil {
		t.Fatal("javac not found: apt-get install -y default-jdk-headless")
	}
	var cp []string
	for _, j := range logbackJars {
		p := filepath.Join("/usr/share/java", j+".jar")
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing: apt-get install -y liblogback-java liblogstash-logback-encoder-java", p)
		}
		cp = append(cp, p)
	}
	classes := t.TempDir()
	build := exec.Command(javac, "-encoding", "UTF-8", "-cp", strings.Join(cp, ":"), "-d", classes, "testdata/logback/App.java")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}

	s := startServer(t, "")
	cfg, _ := filepath.Abs("testdata/logback/logback.xml")
	run := exec.Command("java", "-cp", strings.Join(append([]string{classes}, cp...), ":"),
		"-Dlogback.configurationFile="+cfg, "-Dlogcaster.dest="+s.tcp, "App")
	// A zone east of UTC: logback writes @timestamp with the local offset
	// (+09:00), which the server must turn into the right instant.
	run.Env = append(os.Environ(), "TZ=Asia/Seoul")
	var stdout, stderr bytes.Buffer
	run.Stdout, run.Stderr = &stdout, &stderr
	if err := run.Run(); err != nil {
		t.Fatalf("java: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}

	// What the encoder sent, as it wrote it to stdout.
	sent := map[string]map[string]any{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			sent[fmt.Sprint(m["level"])] = m
		}
	}
	if len(sent) != 2 {
		t.Fatalf("program wrote %d JSON events, want 2:\n%s\n%s", len(sent), stdout.String(), stderr.String())
	}
	if ts := fmt.Sprint(sent["ERROR"]["@timestamp"]); !strings.HasSuffix(ts, "+09:00") {
		t.Fatalf("logback wrote @timestamp %q; the test wants a +09:00 offset", ts)
	}

	rows := s.waitRows("index:myapp", 2)
	for _, row := range rows {
		level := fmt.Sprint(row["level"])
		want := sent[level]
		if want == nil {
			t.Fatalf("stored a %s event that was not sent: %v", level, row)
		}
		// The exact instant, to the millisecond logback has.
		sentAt, err := time.Parse(time.RFC3339Nano, fmt.Sprint(want["@timestamp"]))
		if err != nil {
			t.Fatal(err)
		}
		gotAt, err := time.Parse(time.RFC3339Nano, fmt.Sprint(row["timestamp"]))
		if err != nil || !gotAt.Equal(sentAt) {
			t.Errorf("%s: timestamp %v (%v), want %s = %s", level, row["timestamp"], err, want["@timestamp"], sentAt.UTC().Format(time.RFC3339Nano))
		}
		for _, k := range []string{"message", "logger_name", "thread_name", "trace_id"} {
			if fmt.Sprint(row[k]) != fmt.Sprint(want[k]) {
				t.Errorf("%s: %s = %q, want %q", level, k, row[k], want[k])
			}
		}
		if row["index"] != "myapp" {
			t.Errorf("%s: index = %v, want myapp", level, row["index"])
		}
	}
	byLevel := map[string]map[string]any{}
	for _, r := range rows {
		byLevel[fmt.Sprint(r["level"])] = r
	}
	errRow := byLevel["ERROR"]
	if errRow == nil || byLevel["INFO"] == nil {
		t.Fatalf("levels stored: %v", rows)
	}
	if got := fmt.Sprint(errRow["message"]); got != "결제 실패: 카드 한도 초과" {
		t.Errorf("message = %q", got)
	}
	if got := fmt.Sprint(errRow["trace_id"]); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace_id = %q", got)
	}
	st := fmt.Sprint(errRow["stack_trace"])
	if st != fmt.Sprint(sent["ERROR"]["stack_trace"]) ||
		!strings.Contains(st, "java.lang.RuntimeException: payment declined") ||
		!strings.Contains(st, "Caused by: java.lang.IllegalStateException: card limit exceeded") {
		t.Errorf("stack_trace = %q", st)
	}
	if got := s.query("trace_id:4bf92f3577b34da6a3ce929d0e0e4736", 10); len(got) != 2 {
		t.Errorf("trace_id query: %d rows, want 2", len(got))
	}
	if got := s.query(`logger_name:"com.example.payment.PaymentService" level:ERROR`, 10); len(got) != 1 {
		t.Errorf("logger_name query: %d rows, want 1", len(got))
	}
}
