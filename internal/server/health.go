package server

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/logcaster/logcaster/internal/httpjson"
)

// Health answers must come back in well under 100 ms even when ingest
// saturates the server, because load balancers and Kubernetes take a slow
// answer for a dead server. So the checks that can block — the store's
// write lock (held across a WAL fsync), statfs on a busy disk, dialling the
// listeners — run in a background loop every healthInterval, and the
// handlers read the latest results. Cheap figures (queue length, store
// stats under a read lock) are read live so that callers polling /health
// for progress (logcaster bench) see current numbers.
const (
	healthInterval = time.Second
	// healthStale: results older than this mean the check loop itself is
	// stuck (a check blocked on a hung disk); that is reported, not hidden.
	healthStale = 10 * time.Second
	// listenerDialTimeout bounds one listener check; a loopback connect
	// that takes longer means the accept loop is not keeping up.
	listenerDialTimeout = 500 * time.Millisecond
	// diskWarnRatio, diskWarnBytes: below 10% or 64 MiB free the operator
	// should act (a flush or merge may soon not fit). diskFailBytes: below
	// 1 MiB not even a WAL group commit fits; the server is not ready. The
	// store's own write errors (store check) catch the rest.
	diskWarnRatio = 0.10
	diskWarnBytes = 64 << 20
	diskFailBytes = 1 << 20
	// queueWarnRatio: a queue this full means the store is not keeping up
	// and senders are about to be pushed back.
	queueWarnRatio = 0.9
	// walSlowCommit: a group commit this slow delays every acknowledgement.
	walSlowCommit = time.Second
	// walStalled: events are queued yet no commit has finished this long.
	walStalled = 10 * time.Second
)

// Check statuses, from best to worst.
const (
	statusOK      = "ok"
	statusWarn    = "warn"
	statusFailing = "failing"
)

// check is the result of one health check of one part.
type check struct {
	Status    string         `json:"status"`
	LatencyMS float64        `json:"latency_ms"`
	Error     string         `json:"error,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

// healthReport is the latest round of background checks.
type healthReport struct {
	at     time.Time
	checks map[string]check
}

// healthChecker runs the background checks.
type healthChecker struct {
	s    *Server
	mu   sync.Mutex
	last healthReport
	stop chan struct{}
	done chan struct{}
	// running is set by start; close waits for the loop only if it runs
	// (Start can fail before it).
	running bool
}

func newHealthChecker(s *Server) *healthChecker {
	return &healthChecker{s: s, stop: make(chan struct{}), done: make(chan struct{})}
}

// start runs one round at once, so /ready is truthful from the first
// request, then one every healthInterval.
func (h *healthChecker) start() {
	h.round()
	h.running = true
	go func() {
		defer close(h.done)
		t := time.NewTicker(healthInterval)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.round()
			}
		}
	}()
}

func (h *healthChecker) close() {
	if !h.running {
		return
	}
	select {
	case <-h.stop:
		return
	default:
	}
	close(h.stop)
	<-h.done
}

func (h *healthChecker) report() healthReport {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

func (h *healthChecker) round() {
	checks := map[string]check{}
	checks["store"] = timed(h.checkStore)
	checks["disk"] = timed(h.checkDisk)
	checks["wal"] = timed(h.checkWAL)
	for i, l := range h.s.listeners {
		name, addr := listenerAddr(l, i)
		if addr == nil {
			continue
		}
		checks["listener_"+name] = timed(func() check { return dialCheck(addr) })
	}
	h.mu.Lock()
	h.last = healthReport{at: time.Now(), checks: checks}
	h.mu.Unlock()
}

func timed(fn func() check) check {
	start := time.Now()
	c := fn()
	c.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	return c
}

func (h *healthChecker) checkStore() check {
	if err := h.s.store.Health(); err != nil {
		return check{Status: statusFailing, Error: err.Error()}
	}
	return check{Status: statusOK}
}

func (h *healthChecker) checkDisk() check {
	dir := h.s.opts.DataDir
	if dir == "" {
		return check{Status: statusOK, Details: map[string]any{"note": "data dir unknown"}}
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return check{Status: statusFailing, Error: fmt.Sprintf("statfs %s: %v", dir, err)}
	}
	free := fs.Bavail * uint64(fs.Bsize)
	total := fs.Blocks * uint64(fs.Bsize)
	c := check{Status: statusOK, Details: map[string]any{"free_bytes": free, "total_bytes": total}}
	if total > 0 {
		ratio := float64(free) / float64(total)
		c.Details["free_ratio"] = ratio
		if ratio < diskWarnRatio {
			c.Status = statusWarn
		}
	}
	if free < diskWarnBytes {
		c.Status = statusWarn
	}
	if free < diskFailBytes {
		c.Status = statusFailing
		c.Error = "disk nearly full"
	}
	return c
}

func (h *healthChecker) checkWAL() check {
	at, took := h.s.metrics.LastWALSync()
	c := check{Status: statusOK, Details: map[string]any{"last_commit_ms": float64(took.Microseconds()) / 1000}}
	if at.IsZero() {
		c.Details["last_commit_age_seconds"] = nil
		if h.s.pipe.Len() > 0 && time.Since(h.s.started) > walStalled {
			c.Status, c.Error = statusFailing, "events queued but no WAL commit yet"
		}
		return c
	}
	age := time.Since(at)
	c.Details["last_commit_age_seconds"] = age.Seconds()
	switch {
	case h.s.pipe.Len() > 0 && age > walStalled:
		c.Status, c.Error = statusFailing, "events queued but no WAL commit for "+age.Round(time.Second).String()
	case took > walSlowCommit:
		c.Status, c.Error = statusWarn, "last WAL commit took "+took.Round(time.Millisecond).String()
	}
	return c
}

// listenerAddr names a listener and finds the address to dial, through
// the Addr or TCPAddr method the protocol servers have. UDP-only parts are
// not dialled: there is nothing to connect to.
func listenerAddr(l Listener, i int) (string, net.Addr) {
	name := fmt.Sprintf("%T", l) // "*ingest.TCPServer" -> "ingest.TCPServer"
	for j := len(name) - 1; j >= 0; j-- {
		if name[j] == '*' {
			name = name[j+1:]
			break
		}
	}
	switch v := l.(type) {
	case interface{ Addr() net.Addr }:
		return name, v.Addr()
	case interface{ TCPAddr() net.Addr }:
		return name, v.TCPAddr()
	}
	return fmt.Sprintf("%s_%d", name, i), nil
}

// dialCheck connects to a listener on loopback, proving its accept loop
// runs.
func dialCheck(addr net.Addr) check {
	a := addr.String()
	if ta, ok := addr.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		a = net.JoinHostPort("127.0.0.1", fmt.Sprint(ta.Port))
	}
	c, err := net.DialTimeout("tcp", a, listenerDialTimeout)
	if err != nil {
		return check{Status: statusFailing, Error: err.Error(), Details: map[string]any{"addr": a}}
	}
	c.Close()
	return check{Status: statusOK, Details: map[string]any{"addr": a}}
}

// worst is the overall status of a set of checks.
func worst(checks map[string]check) string {
	out := statusOK
	for _, c := range checks {
		switch {
		case c.Status == statusFailing:
			return statusFailing
		case c.Status == statusWarn:
			out = statusWarn
		}
	}
	return out
}

// currentChecks returns the cached checks plus the live queue check, and
// marks the report stale when the loop has stopped producing.
func (s *Server) currentChecks() map[string]check {
	rep := s.health.report()
	checks := make(map[string]check, len(rep.checks)+2)
	for k, v := range rep.checks {
		checks[k] = v
	}
	start := time.Now()
	q := check{Status: statusOK, Details: map[string]any{"size": s.pipe.Len(), "capacity": s.pipe.Cap()}}
	if c := s.pipe.Cap(); c > 0 && float64(s.pipe.Len()) >= queueWarnRatio*float64(c) {
		q.Status, q.Error = statusWarn, "queue nearly full"
	}
	q.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	checks["queue"] = q
	if age := time.Since(rep.at); rep.at.IsZero() || age > healthStale {
		checks["checker"] = check{Status: statusFailing, Error: "health checks stalled", Details: map[string]any{"age_seconds": age.Seconds()}}
	}
	return checks
}

// handleHealth reports every part; it answers 503 when the store cannot
// write (the contract of issue 2: a load balancer or a person sees at once
// that ingest is failing) or when the check loop has stalled. With
// ?probe=liveness only a stalled loop — something hung — is 503: a
// Kubernetes liveness probe must not restart a pod for a full disk, which
// a restart does not cure (/ready takes the pod out of traffic instead).
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	checks := s.currentChecks()
	code := http.StatusOK
	if _, stalled := checks["checker"]; stalled {
		code = http.StatusServiceUnavailable
	}
	if r.URL.Query().Get("probe") != "liveness" && checks["store"].Status == statusFailing {
		code = http.StatusServiceUnavailable
	}
	st := s.store.Stats()
	storeStatus := map[string]any{
		"status": checks["store"].Status, "events": st.Rows + uint64(st.HeadEvents), "partitions": st.Partitions, "parts": st.Parts, "rows": st.Rows,
		"disk_bytes": st.DiskBytes, "head_events": st.HeadEvents, "oldest_day": st.OldestDay, "newest_day": st.NewestDay,
	}
	if e := checks["store"].Error; e != "" {
		storeStatus["error"] = e
	}
	httpjson.Write(w, code, map[string]any{
		"status":         worst(checks),
		"version":        s.opts.Version,
		"uptime_seconds": int(time.Since(s.started).Seconds()),
		"store":          storeStatus,
		"queue":          map[string]any{"size": s.pipe.Len(), "capacity": s.pipe.Cap()},
		"checks":         checks,
	})
}

// handleReady is readiness: 503 when this server should get no traffic —
// shutting down, or any part failing (store refusing writes, disk full,
// a listener down, WAL stalled). Warnings stay ready.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		httpjson.Write(w, http.StatusServiceUnavailable, map[string]any{"status": "shutting down"})
		return
	}
	checks := s.currentChecks()
	status := worst(checks)
	code := http.StatusOK
	if status == statusFailing {
		code = http.StatusServiceUnavailable
	}
	if status != statusFailing {
		status = "ready"
	}
	httpjson.Write(w, code, map[string]any{"status": status, "checks": checks})
}

// diskFigure returns the free (or total) bytes of dir's filesystem for the
// disk gauges; NaN when statfs fails, so a broken mount does not read as
// "full" or "empty".
func diskFigure(dir string, free bool) float64 {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return math.NaN()
	}
	if free {
		return float64(fs.Bavail) * float64(fs.Bsize)
	}
	return float64(fs.Blocks) * float64(fs.Bsize)
}
