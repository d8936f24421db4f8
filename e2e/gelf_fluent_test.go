package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aphistic/golf"
	"github.com/fluent/fluent-logger-golang/fluent"
)

const koreanMsg = "결제 실패: 카드 한도 초과"

// TestGELF starts the binary with --gelf and sends GELF over UDP (a real
// client, gzip, chunked), TCP (NUL-delimited) and HTTP (POST /gelf).
func TestGELF(t *testing.T) {
	addr := freePort(t)
	s := startServer(t, "", "--gelf", addr)

	// UDP, chunked: a full_message of random hex needs ~20 chunks of 500 B.
	rng := rand.New(rand.NewPCG(3, 4))
	var full strings.Builder
	for full.Len() < 20000 {
		fmt.Fprintf(&full, "%016x", rng.Uint64())
	}
	c, err := golf.NewClientWithConfig(golf.ClientConfig{ChunkSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Dial("udp://" + addr + "?compress=gzip"); err != nil {
		t.Fatal(err)
	}
	l, _ := c.NewLogger()
	// Recent times (an hour ago, at set fractions): the exact instants are
	// checked, and the store keeps recent days.
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	ts := base.Add(250 * time.Millisecond)
	msg := l.NewMessage()
	msg.Level = golf.LEVEL_ERR
	msg.Hostname = "pay-1"
	msg.Timestamp = &ts
	msg.ShortMessage = koreanMsg + " udp"
	msg.FullMessage = full.String()
	msg.Attrs["trace_id"] = "4bf92f3577b34da6a3ce929d0e0e4736"
	msg.Attrs["index"] = "gelfapp"
	c.QueueMsg(msg)
	c.Close()

	// TCP, NUL-delimited.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, `{"version":"1.1","host":"pay-2","short_message":"%s tcp","timestamp":%d.5,"level":4,"_index":"gelfapp","_trace_id":"5bf92f3577b34da6a3ce929d0e0e4736"}`+"\x00", koreanMsg, base.Unix()+1)
	conn.Close()

	// HTTP: answered after the event is durable.
	body := fmt.Sprintf(`{"version":"1.1","host":"pay-3","short_message":"%s http","timestamp":%d.125,"level":6,"_index":"gelfapp"}`, koreanMsg, base.Unix()+2)
	resp, err := http.Post("http://"+s.http+"/gelf", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("POST /gelf: %d, want 202", resp.StatusCode)
	}

	rows := s.waitRows("index:gelfapp", 3)
	want := map[string]map[string]string{
		"udp":  {"timestamp": rfc(ts), "level": "ERROR", "host": "pay-1", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "full_message": full.String()},
		"tcp":  {"timestamp": rfc(base.Add(1500 * time.Millisecond)), "level": "WARN", "host": "pay-2", "trace_id": "5bf92f3577b34da6a3ce929d0e0e4736"},
		"http": {"timestamp": rfc(base.Add(2125 * time.Millisecond)), "level": "INFO", "host": "pay-3"},
	}
	checkRows(t, rows, want)
}

// TestFluentForward starts the binary with --fluent and sends with
// fluent-logger-golang, acks on: Post returns once the server has acked,
// which it does only after the events are durable, so the events are
// queryable at once.
func TestFluentForward(t *testing.T) {
	addr := freePort(t)
	s := startServer(t, "", "--fluent", addr)
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	logger, err := fluent.New(fluent.Config{FluentHost: host, FluentPort: p, RequestAck: true,
		SubSecondPrecision: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer logger.Close()
	base := time.Now().Add(-time.Hour).Truncate(time.Second).Add(123456789)
	for i, kind := range []string{"one", "two"} {
		err := logger.PostWithTime("fluentapp.api", base.Add(time.Duration(i)*time.Second), map[string]any{
			"log":        koreanMsg + " " + kind + "\n",
			"level":      "error",
			"trace_id":   "4bf92f3577b34da6a3ce929d0e0e4736",
			"kubernetes": map[string]any{"pod_name": "api-7d9"},
		})
		if err != nil {
			t.Fatalf("post %s: %v", kind, err)
		}
	}
	rows := s.query("index:fluentapp", 10) // acked: durable and there
	want := map[string]map[string]string{
		"one": {"timestamp": rfc(base), "level": "ERROR", "fluent_tag": "fluentapp.api",
			"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "kubernetes.pod_name": "api-7d9"},
		"two": {"timestamp": rfc(base.Add(time.Second)), "level": "ERROR", "fluent_tag": "fluentapp.api"},
	}
	checkRows(t, rows, want)
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// checkRows finds the row whose message is koreanMsg + " " + key for
// every key of want and checks its fields.
func checkRows(t *testing.T, rows []map[string]any, want map[string]map[string]string) {
	t.Helper()
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %v", len(rows), len(want), rows)
	}
	for kind, fields := range want {
		var row map[string]any
		for _, r := range rows {
			if r["message"] == koreanMsg+" "+kind {
				row = r
			}
		}
		if row == nil {
			t.Errorf("no %q event in %v", koreanMsg+" "+kind, rows)
			continue
		}
		for k, v := range fields {
			got := fmt.Sprint(row[k])
			if k == "timestamp" {
				a, err1 := time.Parse(time.RFC3339Nano, got)
				b, _ := time.Parse(time.RFC3339Nano, v)
				if err1 != nil || !a.Equal(b) {
					t.Errorf("%s: timestamp %q, want %q", kind, got, v)
				}
				continue
			}
			if got != v {
				t.Errorf("%s: %s = %.80q, want %.80q", kind, k, got, v)
			}
		}
	}
}
