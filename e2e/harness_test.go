// Package e2e runs the real logcaster binary on loopback ports in a
// temporary folder and talks to it over real sockets, as users and their
// shippers do.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	if os.Getenv("LOGCASTER_TAIL_SEND_TO") != "" {
		// TestTailLoad's sender process (tail_bench_test.go) only sends:
		// building the binary again cost it 2 CPU-seconds, which ran on
		// the 2 cores in the second before the load began.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "logcaster-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "logcaster")
	build := exec.Command("go", "build", "-o", binary, "../cmd/logcaster")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build logcaster:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running logcaster serve process.
type server struct {
	t       *testing.T
	dataDir string
	http    string // host:port
	tcp     string
	args    []string
	cmd     *exec.Cmd
	logBuf  *syncBuffer
	exited  chan error
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer starts logcaster serve on fresh loopback ports with its data
// in a temporary folder (or dataDir, to restart over existing data).
func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	s := &server{t: t, dataDir: dataDir, http: freePort(t), tcp: freePort(t)}
	s.args = append([]string{"serve", "--http", s.http, "--tcp", s.tcp, "--data", dataDir, "--log-level", "debug", "--syslog", "", "--gelf", "", "--fluent", ""}, extra...)
	s.start()
	t.Cleanup(func() { s.kill() })
	return s
}

func (s *server) start() {
	s.t.Helper()
	s.logBuf = &syncBuffer{}
	s.cmd = exec.Command(binary, s.args...)
	s.cmd.Stdout = s.logBuf
	s.cmd.Stderr = s.logBuf
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.t.Fatalf("server exited at start: %v\n%s", err, s.logBuf.String())
		default:
		}
		resp, err := http.Get("http://" + s.http + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("server not ready after 20s\n%s", s.logBuf.String())
}

// restart starts the server again over the same data and ports.
func (s *server) restart() { s.start() }

// kill9 kills the server as a crash would.
func (s *server) kill9() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// stop sends SIGTERM and checks the server exits 0.
func (s *server) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		if err != nil {
			s.t.Fatalf("server exit: %v\n%s", err, s.logBuf.String())
		}
	case <-time.After(60 * time.Second):
		s.t.Fatalf("server did not stop within 60s\n%s", s.logBuf.String())
	}
	s.cmd = nil
}

func (s *server) kill() {
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
		s.cmd = nil
	}
	if s.t.Failed() {
		s.t.Logf("server log:\n%s", tail(s.logBuf.String(), 4000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// query runs a query over all time and returns the rows.
func (s *server) query(q string, limit int) []map[string]any {
	s.t.Helper()
	u := fmt.Sprintf("http://%s/api/v1/query?q=%s&limit=%d&start=3650d", s.http, url.QueryEscape(q), limit)
	resp, err := http.Get(u)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("query %q: %d %s", q, resp.StatusCode, b)
	}
	var rows []map[string]any
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			s.t.Fatalf("query %q: bad NDJSON line %q: %v", q, sc.Text(), err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		s.t.Fatal(err)
	}
	return rows
}

// waitRows polls a query until it returns want rows (TCP lines carry no
// acknowledgement, so the test waits for them to be stored).
func (s *server) waitRows(q string, want int) []map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var rows []map[string]any
	for time.Now().Before(deadline) {
		rows = s.query(q, want+10)
		if len(rows) >= want {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(rows) != want {
		s.t.Fatalf("query %q: got %d rows, want %d: %v", q, len(rows), want, rows)
	}
	return rows
}

// ingest posts a body to /api/v1/ingest.
func (s *server) ingest(index string, body []byte, encoding string) (int, map[string]any) {
	s.t.Helper()
	req, err := http.NewRequest("POST", "http://"+s.http+"/api/v1/ingest?index="+url.QueryEscape(index), bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		s.t.Fatalf("ingest answer %d is not JSON: %q", resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func messages(rows []map[string]any) []string {
	var out []string
	for _, r := range rows {
		m, _ := r["message"].(string)
		out = append(out, m)
	}
	return out
}

func hasAll(t *testing.T, got []string, want ...string) {
	t.Helper()
	set := map[string]int{}
	for _, g := range got {
		set[g]++
	}
	for _, w := range want {
		if set[w] != 1 {
			t.Fatalf("want message %q exactly once, have %d; all: %q", w, set[w], got)
		}
	}
}

var _ = strings.TrimSpace

// postQuiet posts an ingest body and reports transport errors instead of
// failing the test (the crash test posts while the server is down).
func postQuiet(addr, index string, body []byte) (int, []byte, error) {
	resp, err := http.Post("http://"+addr+"/api/v1/ingest?index="+url.QueryEscape(index), "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// get fetches a path of the HTTP API and returns the body of a 200 answer.
func (s *server) get(path string) string {
	s.t.Helper()
	resp, err := http.Get("http://" + s.http + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}
