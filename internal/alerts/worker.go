package alerts

import "time"

// dispatch queues the alert to each destination of the rule without
// blocking: a full queue drops the delivery (recorded as dropped).
func (e *Engine) dispatch(r *Rule, a *Alert) {
	for _, d := range r.Destinations {
		rec := &Delivery{Time: a.Time, Rule: a.Rule, Kind: a.Kind, Destination: d.Type, Target: d.target(), Status: StatusQueued}
		if a.Query != nil {
			rec.State = a.State
		}
		if a.Issue != nil {
			rec.Issue = a.Issue.ShortID
		}
		e.hist.add(rec)
		q := e.worker(d)
		select {
		case q <- job{dest: d, alert: a, rec: rec}:
		default:
			e.hist.update(rec, StatusDropped, 0, "destination queue full")
			e.count("error")
		}
	}
}

// worker returns the queue of d's worker, starting it on first use.
func (e *Engine) worker(d Destination) chan job {
	key := d.Type + " " + d.target()
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.workers[key]
	if q == nil {
		q = make(chan job, e.opts.QueueSize)
		e.workers[key] = q
		e.wg.Add(1)
		go e.deliverLoop(q)
	}
	return q
}

func (e *Engine) deliverLoop(q chan job) {
	defer e.wg.Done()
	for {
		select {
		case <-e.ctx.Done():
			return
		case j := <-q:
			e.deliver(j)
		}
	}
}

// deliver tries j until it succeeds or runs out of attempts, waiting
// Backoff, 2*Backoff, ... (at most MaxBackoff) between attempts.
func (e *Engine) deliver(j job) {
	wait := e.opts.Backoff
	for attempt := 1; ; attempt++ {
		err := send(e.ctx, e.client, j.dest, j.alert, e.opts.Timeout)
		if err == nil {
			e.count("ok")
			e.hist.update(j.rec, StatusSent, attempt, "")
			return
		}
		e.count("error")
		if attempt >= e.opts.MaxAttempts {
			e.hist.update(j.rec, StatusFailed, attempt, err.Error())
			e.log.Warn("alert delivery failed", "rule", j.alert.Rule, "destination", j.dest.Type, "attempts", attempt, "err", err)
			return
		}
		e.hist.update(j.rec, StatusRetrying, attempt, err.Error())
		select {
		case <-e.ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, e.opts.MaxBackoff)
	}
}

func (e *Engine) count(result string) {
	if e.opts.Metrics != nil {
		e.opts.Metrics.AlertsSent.WithLabelValues(result).Inc()
	}
}
