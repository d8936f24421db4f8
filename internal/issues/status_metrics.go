package issues

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/logcaster/logcaster/internal/metrics"
)

// statusCounts counts issues by status and mirrors the counts into the
// logcaster_issues{status} gauge, labelled with the statuses' API names.
type statusCounts struct {
	n [numStatuses]int64
	g [numStatuses]prometheus.Gauge // nil without Options.Metrics
}

const numStatuses = 3

// statusLabels are the gauge's label values, by statusIndex.
var statusLabels = [numStatuses]string{"unresolved", "resolved", "ignored"}

func statusIndex(s string) int {
	switch s {
	case StatusResolved:
		return 1
	case StatusIgnored:
		return 2
	}
	return 0
}

func (c *statusCounts) init(m *metrics.Metrics) {
	if m == nil || m.Issues == nil {
		return
	}
	for i, l := range statusLabels {
		c.g[i] = m.Issues.WithLabelValues(l)
	}
}

// move counts one issue leaving status from (none when "") for to.
func (c *statusCounts) move(from, to string) {
	if from == to {
		return
	}
	if from != "" {
		c.add(statusIndex(from), -1)
	}
	c.add(statusIndex(to), 1)
}

func (c *statusCounts) add(i int, d int64) {
	c.n[i] += d
	if c.g[i] != nil {
		c.g[i].Set(float64(c.n[i]))
	}
}

// reset recounts from the issues, after a load.
func (c *statusCounts) reset(byID map[int64]*issue) {
	c.n = [numStatuses]int64{}
	for _, is := range byID {
		c.n[statusIndex(is.Status)]++
	}
	for i := range c.g {
		if c.g[i] != nil {
			c.g[i].Set(float64(c.n[i]))
		}
	}
}

// StatusCounts returns how many issues have each status.
func (t *Tracker) StatusCounts() map[string]int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return map[string]int64{StatusUnresolved: t.statuses.n[0], StatusResolved: t.statuses.n[1], StatusIgnored: t.statuses.n[2]}
}
