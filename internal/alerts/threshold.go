package alerts

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/logcaster/logcaster/internal/query"
)

func (e *Engine) thresholdLoop() {
	defer e.wg.Done()
	if e.opts.Store == nil {
		return
	}
	tick := time.NewTicker(e.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case now := <-tick.C:
			e.evalThresholds(now)
		}
	}
}

// evalThresholds runs every query_threshold rule once at now (the loop
// calls it every Interval; tests call it directly).
func (e *Engine) evalThresholds(now time.Time) {
	e.mu.Lock()
	var rules []*Rule
	for _, r := range e.rules {
		if r.Kind == KindQueryThreshold {
			rules = append(rules, r)
		}
	}
	e.mu.Unlock()
	for _, r := range rules {
		val, err := e.runQuery(r, now)
		if err != nil {
			e.log.Warn("alert rule query failed", "rule", r.Name, "err", err)
			continue
		}
		over := val > r.Threshold
		if r.Op == "<" {
			over = val < r.Threshold
		}
		e.mu.Lock()
		was := e.firing[r.Name]
		if over && !was {
			// A rule that flaps fires at most once per cooldown; until
			// then it stays "not firing" and fires later if still over.
			key := r.Name + "\x00"
			if last, ok := e.last[key]; ok && now.Sub(last) < e.cooldown(r) {
				e.mu.Unlock()
				continue
			}
			e.last[key] = now
		}
		e.firing[r.Name] = over
		e.mu.Unlock()
		if over == was {
			continue
		}
		state := "firing"
		if !over {
			state = "resolved"
		}
		e.dispatch(r, &Alert{Rule: r.Name, Kind: r.Kind, State: state, Time: now, Query: &QueryResult{
			Query: r.Query, Window: r.Window.String(), Op: r.Op, Threshold: r.Threshold, Value: val}})
	}
}

// runQuery returns the last numeric field of the first row the rule's
// query gives over [now-window, now]; no row counts as 0.
func (e *Engine) runQuery(r *Rule, now time.Time) (float64, error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.opts.QueryTimeout)
	defer cancel()
	var val float64
	found := false
	err := r.q.Run(ctx, e.opts.Store, query.RunOptions{Start: now.Add(-time.Duration(r.Window)).UnixNano(),
		End: now.UnixNano() + 1, Now: now, Parallelism: 1}, func(row *query.Row) error {
		if found {
			return nil
		}
		for i := len(row.Fields) - 1; i >= 0; i-- {
			if f, err := strconv.ParseFloat(row.Fields[i].Value, 64); err == nil {
				val, found = f, true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("run %q: %w", r.Query, err)
	}
	return val, nil
}
