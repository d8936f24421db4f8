package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// benchIngestResult is what one ingest phase measured.
type benchIngestResult struct {
	Phase       string  `json:"phase"` // "http" or "tcp"
	Events      int     `json:"events"`
	Bytes       int     `json:"bytes"`
	Senders     int     `json:"senders"`
	BatchLines  int     `json:"batch_lines,omitempty"`
	Seconds     float64 `json:"seconds"`
	EventsPerS  float64 `json:"events_per_s"`
	MBPerS      float64 `json:"mb_per_s"`
	Accepted    int     `json:"accepted,omitempty"`
	Rejected    int     `json:"rejected,omitempty"`
	Retries     int     `json:"retries,omitempty"`   // 429/503 answers retried
	Stored      uint64  `json:"stored"`              // store.events from /health at the end
	WrittenS    float64 `json:"written_s,omitempty"` // TCP: until the last write returned
	ServerCPU   float64 `json:"server_cpu_s,omitempty"`
	CPUPerM     float64 `json:"server_cpu_s_per_m_events,omitempty"`
	SettleS     float64 `json:"settle_s,omitempty"` // time to idle after the phase
	CPUPerMIdle float64 `json:"server_cpu_s_per_m_events_to_idle,omitempty"`
	ClientCPU   float64 `json:"client_cpu_s"`
	PeakRSSMiB  float64 `json:"server_peak_rss_mib,omitempty"`
	Error       string  `json:"error,omitempty"`
}

// benchSettleLimit bounds the wait for background work after an ingest phase.
const benchSettleLimit = 120 * time.Second

// benchStallLimit is how long stored events may stay unchanged before the TCP
// phase gives up waiting for the expected total.
const benchStallLimit = 30 * time.Second

func newBenchHTTPClient(conns int) *http.Client {
	tr := &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     time.Minute,
		// The corpus is plain NDJSON; asking for gzip answers would only
		// add work on both sides of a 2-core box.
		DisableCompression: true,
	}
	return &http.Client{Transport: tr}
}

// benchIngestAnswer is the body of POST /api/v1/ingest.
type benchIngestAnswer struct {
	Accepted int               `json:"accepted"`
	Rejected []json.RawMessage `json:"rejected"`
	Error    string            `json:"error"`
}

// benchHTTP sends the corpus as NDJSON bodies on senders concurrent
// connections and times it until the last body is acknowledged.
func benchHTTP(t *benchTarget, corpus *benchCorpus, senders, batch int, index string) benchIngestResult {
	r := benchIngestResult{Phase: "http", Events: corpus.lines, Bytes: len(corpus.data), Senders: senders, BatchLines: batch}
	bodies := benchSplitBodies(corpus.data, batch)
	client := newBenchHTTPClient(senders)
	url := t.httpURL + "/api/v1/ingest?index=" + index

	var (
		next             atomic.Int64
		accepted, reject atomic.Int64
		retries          atomic.Int64
		errOnce          sync.Once
		failed           atomic.Bool
		firstErr         error
		wg               sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		failed.Store(true)
	}
	cpu0, self0 := t.cpu(), benchSelfCPU()
	start := time.Now()
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) || failed.Load() {
					return
				}
				a, rj, rt, err := benchPostBody(client, url, bodies[i])
				accepted.Add(int64(a))
				reject.Add(int64(rj))
				retries.Add(int64(rt))
				if err != nil {
					fail(fmt.Errorf("body %d: %w", i, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, self1 := t.cpu(), benchSelfCPU()
	r.Accepted, r.Rejected, r.Retries = int(accepted.Load()), int(reject.Load()), int(retries.Load())
	if firstErr != nil {
		r.Error = firstErr.Error()
	}
	r.finish(t, elapsed, cpu0, cpu1, self1-self0)
	if h, err := t.health(context.Background(), client); err == nil {
		r.Stored = h.Store.Events
	}
	return r
}

// benchPostBody posts one body, retrying while the server pushes back (429/503
// with Retry-After). It returns the accepted and rejected line counts.
func benchPostBody(client *http.Client, url string, body []byte) (accepted, rejected, retries int, err error) {
	for {
		resp, err := client.Post(url, "application/x-ndjson", bytes.NewReader(body))
		if err != nil {
			return 0, 0, retries, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, 0, retries, fmt.Errorf("read answer: %w", err)
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			retries++
			time.Sleep(benchRetryAfter(resp.Header.Get("Retry-After")))
			continue
		}
		var a benchIngestAnswer
		if err := json.Unmarshal(b, &a); err != nil {
			return 0, 0, retries, fmt.Errorf("status %d, answer %.200q: %w", resp.StatusCode, b, err)
		}
		if resp.StatusCode != http.StatusOK {
			return a.Accepted, len(a.Rejected), retries, fmt.Errorf("status %d: %s", resp.StatusCode, a.Error)
		}
		return a.Accepted, len(a.Rejected), retries, nil
	}
}

// benchRetryAfter turns a Retry-After header (seconds) into a pause; without one
// the bench waits a short while, since the server only said "not now".
func benchRetryAfter(h string) time.Duration {
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		if n == 0 {
			return 10 * time.Millisecond
		}
		return time.Duration(n) * time.Second
	}
	return 100 * time.Millisecond
}

// benchTCP writes the corpus on conns TCP connections and times it until
// /health reports every event stored (TCP lines carry no acknowledgement).
func benchTCP(t *benchTarget, corpus *benchCorpus, conns int) benchIngestResult {
	r := benchIngestResult{Phase: "tcp", Events: corpus.lines, Bytes: len(corpus.data), Senders: conns}
	if t.tcpAddr == "" {
		r.Error = "no TCP address"
		return r
	}
	client := newBenchHTTPClient(1)
	h0, err := t.health(context.Background(), client)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	want := h0.Store.Events + uint64(corpus.lines)
	parts := benchSplitEven(corpus.data, conns)

	// Connect before the clock starts: connection set-up is not ingest.
	cs := make([]net.Conn, len(parts))
	for i := range parts {
		c, err := net.Dial("tcp", t.tcpAddr)
		if err != nil {
			for _, c := range cs[:i] {
				c.Close()
			}
			r.Error = fmt.Sprintf("dial %s: %v", t.tcpAddr, err)
			return r
		}
		cs[i] = c
	}
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	cpu0, self0 := t.cpu(), benchSelfCPU()
	start := time.Now()
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			if _, err := c.Write(parts[i]); err != nil {
				errOnce.Do(func() { firstErr = fmt.Errorf("write conn %d: %w", i, err) })
			}
		}()
	}
	wg.Wait()
	r.WrittenS = time.Since(start).Seconds()
	stored, err := benchWaitStored(t, client, want)
	elapsed := time.Since(start)
	cpu1, self1 := t.cpu(), benchSelfCPU()
	r.Stored = stored - h0.Store.Events
	switch {
	case firstErr != nil:
		r.Error = firstErr.Error()
	case err != nil:
		r.Error = err.Error()
	}
	r.finish(t, elapsed, cpu0, cpu1, self1-self0)
	return r
}

// benchWaitStored polls /health until store.events reaches want, or gives up when
// the count has not moved for benchStallLimit.
func benchWaitStored(t *benchTarget, client *http.Client, want uint64) (uint64, error) {
	const every = 5 * time.Millisecond
	var last uint64
	lastMove := time.Now()
	for {
		h, err := t.health(context.Background(), client)
		if err != nil {
			return last, err
		}
		if h.Store.Events >= want {
			return h.Store.Events, nil
		}
		if h.Store.Events != last {
			last, lastMove = h.Store.Events, time.Now()
		} else if time.Since(lastMove) > benchStallLimit {
			return last, fmt.Errorf("stored events stuck at %d of %d for %v", last, want, benchStallLimit)
		}
		time.Sleep(every)
	}
}

// finish fills the rates and CPU figures; after the timed part it waits for
// the server to go idle, so background work is counted too.
func (r *benchIngestResult) finish(t *benchTarget, elapsed, cpu0, cpu1, clientCPU time.Duration) {
	r.Seconds = elapsed.Seconds()
	if r.Seconds > 0 {
		r.EventsPerS = float64(r.Events) / r.Seconds
		r.MBPerS = float64(r.Bytes) / 1e6 / r.Seconds
	}
	r.ClientCPU = clientCPU.Seconds()
	if t.pid == 0 {
		return
	}
	r.ServerCPU = (cpu1 - cpu0).Seconds()
	r.CPUPerM = r.ServerCPU / (float64(r.Events) / 1e6)
	r.SettleS = t.settle(benchSettleLimit).Seconds()
	r.CPUPerMIdle = (t.cpu() - cpu0).Seconds() / (float64(r.Events) / 1e6)
	r.PeakRSSMiB = float64(t.peakRSS()) / (1 << 20)
}
