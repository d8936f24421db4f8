package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// benchTarget is the server a phase talks to: one the bench started (pid > 0,
// so its CPU and memory can be read) or an external one.
type benchTarget struct {
	httpURL string // http://host:port
	tcpAddr string // host:port of the TCP lines listener
	pid     int    // 0 for an external server
	dataDir string // "" for an external server

	cmd     *exec.Cmd
	logPath string
	exited  chan error
}

// benchReadyTimeout bounds how long a fresh server may take to answer /ready.
const benchReadyTimeout = 30 * time.Second

// benchAddrDefault matches a listener flag's default such as ":8080" or
// "0.0.0.0:9999", the flags the bench moves to free loopback ports.
var benchAddrDefault = regexp.MustCompile(`^[0-9.]*:[0-9]+$`)

// startBenchServer starts `logcaster serve` from this binary with default
// settings, except that every listener gets a free loopback port and the data
// goes into a fresh folder under tmpDir. LOGCASTER_* variables are not passed
// on, so the server sees the defaults whatever the caller's environment.
func startBenchServer(tmpDir string) (*benchTarget, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	dir, err := os.MkdirTemp(tmpDir, "logcaster-bench-server-*")
	if err != nil {
		return nil, fmt.Errorf("server temp dir: %w", err)
	}
	t := &benchTarget{dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "server.log"), exited: make(chan error, 1)}
	args := []string{"serve", "--data", t.dataDir}
	fs, _ := newServeFlags()
	var ferr error
	fs.VisitAll(func(f *flag.Flag) {
		if ferr != nil || !benchAddrDefault.MatchString(f.DefValue) {
			return
		}
		addr, err := benchFreeAddr()
		if err != nil {
			ferr = err
			return
		}
		args = append(args, "--"+f.Name, addr)
		switch f.Name {
		case "http":
			t.httpURL = "http://" + addr
		case "tcp":
			t.tcpAddr = addr
		}
	})
	if ferr != nil {
		return nil, ferr
	}
	if t.httpURL == "" {
		return nil, errors.New("serve has no --http flag with an address default")
	}
	logf, err := os.Create(t.logPath)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = benchEnvWithout(os.Environ(), "LOGCASTER_")
	cmd.Stdout = logf
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	t.cmd, t.pid = cmd, cmd.Process.Pid
	go func() {
		t.exited <- cmd.Wait()
		logf.Close()
	}()
	if err := t.waitReady(benchReadyTimeout); err != nil {
		t.stop()
		return nil, fmt.Errorf("%w\n%s", err, t.logTail(20))
	}
	return t, nil
}

// benchFreeAddr asks the kernel for a free port on 127.0.0.1. Another
// process could take it before the server binds it; on a bench machine that
// is rare enough, and the server then fails loudly.
func benchFreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}

func benchEnvWithout(env []string, prefix string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, prefix) {
			out = append(out, kv)
		}
	}
	return out
}

func (t *benchTarget) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-t.exited:
			t.exited <- err
			return fmt.Errorf("server exited before ready: %v", err)
		default:
		}
		resp, err := c.Get(t.httpURL + "/ready")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("server not ready after %v", timeout)
}

// stop ends a server the bench started (SIGTERM, then SIGKILL after a
// grace period) and removes its data. It does nothing to an external one.
func (t *benchTarget) stop() {
	if t.cmd == nil {
		return
	}
	t.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-t.exited:
	case <-time.After(30 * time.Second):
		t.cmd.Process.Kill()
		<-t.exited
	}
	t.cmd = nil
	os.RemoveAll(filepath.Dir(t.dataDir))
}

// logTail returns the last n lines of the server's own log.
func (t *benchTarget) logTail(n int) string {
	b, err := os.ReadFile(t.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "server log (last lines):\n  " + strings.Join(lines, "\n  ")
}

// logProblems counts the warning and error lines of the server's log and
// keeps the first few, so a bench run shows what went wrong server-side.
func (t *benchTarget) logProblems(keep int) (count int, first []string) {
	f, err := os.Open(t.logPath)
	if err != nil {
		return 0, nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") ||
			strings.Contains(line, "panic") {
			count++
			if len(first) < keep {
				first = append(first, line)
			}
		}
	}
	return count, first
}

// benchHealth is the part of GET /health the bench reads.
type benchHealth struct {
	Status string `json:"status"`
	Store  struct {
		Events     uint64 `json:"events"`
		Rows       uint64 `json:"rows"`
		Parts      int    `json:"parts"`
		DiskBytes  int64  `json:"disk_bytes"`
		HeadEvents int    `json:"head_events"`
	} `json:"store"`
	Queue struct {
		Size int `json:"size"`
	} `json:"queue"`
}

func (t *benchTarget) health(ctx context.Context, c *http.Client) (benchHealth, error) {
	var h benchHealth
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.httpURL+"/health", nil)
	if err != nil {
		return h, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return h, fmt.Errorf("get health: %w", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return h, fmt.Errorf("decode health: %w", err)
	}
	return h, nil
}

// cpu returns the server's CPU time so far, or 0 for an external server.
func (t *benchTarget) cpu() time.Duration {
	if t.pid == 0 {
		return 0
	}
	d, _ := benchProcCPU(t.pid)
	return d
}

// peakRSS returns the server's peak resident set so far, or 0.
func (t *benchTarget) peakRSS() int64 {
	if t.pid == 0 {
		return 0
	}
	v, _ := benchProcPeakRSS(t.pid)
	return v
}

// settle waits until the server's CPU use falls under idleShare of one core
// for two samples in a row (background flushes and merges done), at most
// limit. It returns how long that took; 0 for an external server.
func (t *benchTarget) settle(limit time.Duration) time.Duration {
	if t.pid == 0 {
		return 0
	}
	const every, idleShare = 500 * time.Millisecond, 0.05
	start := time.Now()
	prev, quiet := t.cpu(), 0
	for time.Since(start) < limit {
		time.Sleep(every)
		cur := t.cpu()
		if float64(cur-prev) < idleShare*float64(every) {
			quiet++
			if quiet == 2 {
				return time.Since(start) - 2*every
			}
		} else {
			quiet = 0
		}
		prev = cur
	}
	return time.Since(start)
}
