package alerts

import (
	"sync"
	"time"
)

// Delivery statuses in the history.
const (
	StatusQueued   = "queued"
	StatusSent     = "sent"
	StatusRetrying = "retrying"
	StatusFailed   = "failed"
	StatusDropped  = "dropped" // the destination's queue was full
)

// Delivery is one alert to one destination, as the history shows it.
type Delivery struct {
	ID          int64     `json:"id"`
	Time        time.Time `json:"time"`
	Rule        string    `json:"rule"`
	Kind        string    `json:"kind"`
	State       string    `json:"state,omitempty"` // query_threshold: firing or resolved
	Issue       string    `json:"issue,omitempty"` // short id
	Destination string    `json:"destination"`     // type
	Target      string    `json:"target"`          // url or smtp host:port
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	Updated     time.Time `json:"updated"`
}

// history keeps the newest deliveries in a ring.
type history struct {
	mu     sync.Mutex
	ring   []*Delivery
	next   int // slot of the next add
	full   bool
	nextID int64
}

func newHistory(n int) *history { return &history{ring: make([]*Delivery, n)} }

// add stores d (its ID set) and returns it; older entries fall off.
func (h *history) add(d *Delivery) *Delivery {
	h.mu.Lock()
	h.nextID++
	d.ID = h.nextID
	d.Updated = d.Time
	h.ring[h.next] = d
	h.next++
	if h.next == len(h.ring) {
		h.next, h.full = 0, true
	}
	h.mu.Unlock()
	return d
}

// update changes a delivery's status under the history's lock.
func (h *history) update(d *Delivery, status string, attempts int, errText string) {
	h.mu.Lock()
	d.Status, d.Attempts, d.LastError, d.Updated = status, attempts, errText, time.Now()
	h.mu.Unlock()
}

// list returns copies, newest first.
func (h *history) list() []Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.next
	if h.full {
		n = len(h.ring)
	}
	out := make([]Delivery, 0, n)
	for k := 1; k <= n; k++ {
		i := (h.next - k + len(h.ring)) % len(h.ring)
		out = append(out, *h.ring[i])
	}
	return out
}
