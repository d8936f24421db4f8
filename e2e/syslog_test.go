package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSyslogLogger starts the real binary with --syslog and sends with
// util-linux logger over TCP (RFC 5424, octet counting) and UDP (RFC 3164),
// then queries the events back.
func TestSyslogLogger(t *testing.T) {
	logger, err := exec.LookPath("logger")
	if err != nil {
		t.Fatalf("logger not found: install it with apt-get install -y bsdutils")
	}
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	s := startServer(t, "", "--syslog", addr)

	const korean = "결제 실패: 카드 한도 초과"
	from := time.Now()
	runs := [][]string{
		{"--tcp", "--octet-count", "--rfc5424", "--sd-id", "trace@32473", "--sd-param", `trace_id="4bf92f3577b34da6a3ce929d0e0e4736"`, korean + " tcp"},
		{"--udp", "--rfc3164", korean + " udp"},
	}
	for _, r := range runs {
		args := append([]string{"--server", "127.0.0.1", "--port", port, "-t", "payment", "-p", "local0.err", "--id=4242"}, r...)
		cmd := exec.Command(logger, args...)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("logger %v: %v\n%s", r, err, out)
		}
	}
	rows := s.waitRows("service:payment", 2)
	to := time.Now()
	host, _ := os.Hostname()
	host = strings.SplitN(host, ".", 2)[0]
	for _, kind := range []string{"tcp", "udp"} {
		var row map[string]any
		for _, r := range rows {
			if r["message"] == korean+" "+kind {
				row = r
			}
		}
		if row == nil {
			t.Fatalf("no %s event in %v", kind, rows)
		}
		want := map[string]string{"level": "ERROR", "index": "payment", "service": "payment",
			"facility": "local0", "host": host, "pid": "4242"}
		if kind == "tcp" {
			want["trace_id"] = "4bf92f3577b34da6a3ce929d0e0e4736"
		}
		for k, v := range want {
			if got := fmt.Sprint(row[k]); got != v {
				t.Errorf("%s: field %s = %q, want %q (row %v)", kind, k, got, v, row)
			}
		}
		ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(row["timestamp"]))
		if err != nil || ts.Before(from.Add(-time.Second)) || ts.After(to.Add(time.Second)) {
			t.Errorf("%s: timestamp %v (%v) not within [%s, %s]", kind, row["timestamp"], err, from, to)
		}
	}
	if got := s.query(`trace_id:4bf92f3577b34da6a3ce929d0e0e4736`, 10); len(got) != 1 {
		t.Fatalf("trace_id query: %d rows, want 1", len(got))
	}
}
