// Package alerts evaluates alert rules and delivers their alerts.
//
// Rules are new_issue and regression (evaluated as the issue tracker
// reports each change), issue_frequency (more than N events of one issue
// within a window, also on each change) and query_threshold (a query with
// a stats pipe over a window, evaluated every Options.Interval, which fires
// once when it crosses the threshold and resolves once when it goes back).
//
// Promises: OnIssue never blocks; it queues and, when the queue is full,
// drops and counts the change. A rule alerts at most once per issue per
// cooldown. Each destination has its own worker and bounded queue, so a
// destination that fails or hangs delays only its own alerts; an attempt is
// bounded by Options.Timeout and retried with exponential backoff up to
// Options.MaxAttempts. The newest Options.HistorySize deliveries are kept
// in memory with their status. Rules added or deleted through the API are
// written to Options.Dir before they take effect and are loaded again at
// start, after the config file's rules (saved.go).
package alerts

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logcaster/logcaster/internal/issues"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/store"
)

// Options configure an Engine.
type Options struct {
	// Interval is how often query_threshold rules run.
	Interval time.Duration
	// Cooldown is the least time between two alerts of one rule for one
	// issue (rules may set their own).
	Cooldown time.Duration
	// PublicURL is the base of links to issues (http://host:port).
	PublicURL string
	// QueueSize bounds the queue of issue changes and each destination's
	// queue of deliveries.
	QueueSize int
	// HistorySize is how many deliveries GET /api/v1/alerts/history keeps.
	HistorySize int
	// Timeout bounds one delivery attempt.
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one delivery; Backoff is the wait
	// after the first failure, doubled after each, at most MaxBackoff.
	MaxAttempts         int
	Backoff, MaxBackoff time.Duration
	// QueryTimeout bounds one evaluation of a query_threshold rule.
	QueryTimeout time.Duration
	// Dir keeps the rules added through the API (rules.json); "" keeps
	// them in memory only.
	Dir string

	Store   store.Scanner    // for query_threshold; nil turns those off
	Metrics *metrics.Metrics // nil: not counted
	Logger  *slog.Logger     // nil: slog.Default()
}

// DefaultOptions returns the options logcaster serve uses.
func DefaultOptions() Options {
	return Options{
		Interval:     2 * time.Second,
		Cooldown:     5 * time.Minute,
		QueueSize:    1024,
		HistorySize:  1000,
		Timeout:      5 * time.Second,
		MaxAttempts:  5,
		Backoff:      500 * time.Millisecond,
		MaxBackoff:   30 * time.Second,
		QueryTimeout: 10 * time.Second,
	}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch {
	case o.Interval <= 0 || o.Cooldown < 0 || o.Timeout <= 0 || o.QueryTimeout <= 0:
		return errors.New("alerts options: interval, timeouts must be positive")
	case o.QueueSize <= 0 || o.HistorySize <= 0 || o.MaxAttempts <= 0:
		return errors.New("alerts options: queue, history and attempts must be positive")
	case o.Backoff <= 0 || o.MaxBackoff < o.Backoff:
		return errors.New("alerts options: backoff must be positive and at most max backoff")
	}
	return nil
}

type change struct {
	v  issues.IssueView
	c  issues.Change
	at time.Time
}

// job is one delivery waiting for its destination's worker.
type job struct {
	dest  Destination
	alert *Alert
	rec   *Delivery
}

// Engine evaluates rules and delivers alerts.
type Engine struct {
	opts   Options
	log    *slog.Logger
	client *http.Client
	hist   *history

	changes chan change
	dropped atomic.Int64

	saveMu sync.Mutex // serialises changes of the saved rules

	mu      sync.Mutex
	rules   []*Rule
	fromAPI map[string]bool        // names of the rules added through the API
	last    map[string]time.Time   // rule + "\x00" + issue id -> last alert
	seen    map[string][]time.Time // issue_frequency: rule + issue -> recent events
	firing  map[string]bool        // query_threshold rule -> firing
	workers map[string]chan job    // destination key -> queue

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New starts an engine with rules (validated here).
func New(opts Options, rules []Rule) (*Engine, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{opts: opts, log: opts.Logger, client: &http.Client{}, hist: newHistory(opts.HistorySize),
		changes: make(chan change, opts.QueueSize), last: map[string]time.Time{}, seen: map[string][]time.Time{},
		firing: map[string]bool{}, workers: map[string]chan job{}, fromAPI: map[string]bool{}}
	if e.log == nil {
		e.log = slog.Default()
	}
	for i := range rules {
		if err := e.AddRule(rules[i]); err != nil {
			return nil, err
		}
	}
	e.loadSaved()
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.wg.Add(2)
	go e.issueLoop()
	go e.thresholdLoop()
	return e, nil
}

// Close stops evaluating and delivering; queued deliveries are abandoned.
func (e *Engine) Close() {
	e.cancel()
	e.wg.Wait()
}

// AddRule adds a rule in memory, or replaces the rule of the same name, as
// the config file's rules are added; SaveRule is the API's durable way.
func (e *Engine) AddRule(r Rule) error { return e.addRule(r, false) }

func (e *Engine) addRule(r Rule, api bool) error {
	if err := r.Validate(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if api {
		e.fromAPI[r.Name] = true
	} else {
		delete(e.fromAPI, r.Name)
	}
	for i, old := range e.rules {
		if old.Name == r.Name {
			e.rules[i] = &r
			delete(e.firing, r.Name)
			return nil
		}
	}
	e.rules = append(e.rules, &r)
	return nil
}

// Rules returns copies of the rules.
func (e *Engine) Rules() []Rule {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Rule, len(e.rules))
	for i, r := range e.rules {
		out[i] = *r
	}
	return out
}

// History returns the kept deliveries, newest first.
func (e *Engine) History() []Delivery { return e.hist.list() }

// Dropped is how many issue changes were dropped on a full queue.
func (e *Engine) Dropped() int64 { return e.dropped.Load() }

// OnIssue is the tracker's issues.Options.OnChange: it queues the change
// and returns at once.
func (e *Engine) OnIssue(v issues.IssueView, c issues.Change) {
	select {
	case e.changes <- change{v: v, c: c, at: time.Now()}:
	default:
		e.dropped.Add(1)
	}
}

func (e *Engine) issueLoop() {
	defer e.wg.Done()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case ch := <-e.changes:
			e.evalIssue(ch)
		case now := <-prune.C:
			e.prune(now)
		}
	}
}

// pruneEvery is how often state of quiet issues is forgotten.
const pruneEvery = time.Minute

// prune forgets cooldowns that have passed and issue_frequency windows
// that are empty, so the state grows with the issues alerting now, not
// with every issue ever seen.
func (e *Engine) prune(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	longest := e.opts.Cooldown
	for _, r := range e.rules {
		longest = max(longest, time.Duration(r.Cooldown))
	}
	for k, t := range e.last {
		if now.Sub(t) > longest {
			delete(e.last, k)
		}
	}
	window := map[string]time.Duration{}
	for _, r := range e.rules {
		window[r.Name] = time.Duration(r.Window)
	}
	for k, ts := range e.seen {
		name, _, _ := strings.Cut(k, "\x00")
		if w, ok := window[name]; !ok || len(ts) == 0 || now.Sub(ts[len(ts)-1]) > w {
			delete(e.seen, k)
		}
	}
}

func (e *Engine) evalIssue(ch change) {
	e.mu.Lock()
	var fire []*Rule
	for _, r := range e.rules {
		if r.Project != "" && r.Project != ch.v.Project {
			continue
		}
		key := r.Name + "\x00" + ch.v.ID
		switch r.Kind {
		case KindNewIssue:
			if ch.c != issues.ChangeNew {
				continue
			}
		case KindRegression:
			if ch.c != issues.ChangeRegression {
				continue
			}
		case KindIssueFrequency:
			// Keep the times of the newest Count+1 events inside the
			// window: Count+1 of them means "over Count".
			ts := e.seen[key]
			from := ch.at.Add(-time.Duration(r.Window))
			k := 0
			for k < len(ts) && !ts[k].After(from) {
				k++
			}
			ts = append(ts[k:], ch.at)
			if int64(len(ts)) > r.Count+1 {
				ts = ts[int64(len(ts))-r.Count-1:]
			}
			e.seen[key] = ts
			if int64(len(ts)) <= r.Count {
				continue
			}
		default:
			continue
		}
		if last, ok := e.last[key]; ok && ch.at.Sub(last) < e.cooldown(r) {
			continue
		}
		e.last[key] = ch.at
		fire = append(fire, r)
	}
	e.mu.Unlock()
	for _, r := range fire {
		v := ch.v
		e.dispatch(r, &Alert{Rule: r.Name, Kind: r.Kind, State: "firing", Time: ch.at, Issue: &v,
			Link: e.opts.PublicURL + "/api/v1/issues/" + v.ID})
	}
}

// cooldown is the rule's own cooldown, else the engine's.
func (e *Engine) cooldown(r *Rule) time.Duration {
	if r.Cooldown > 0 {
		return time.Duration(r.Cooldown)
	}
	return e.opts.Cooldown
}
