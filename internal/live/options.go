package live

import (
	"errors"
	"runtime"
	"time"
)

// Options bound the hub and every stream it serves.
type Options struct {
	// ReplayBytes bounds the ring of recent events kept for resuming
	// (counted as the copied strings plus a fixed overhead an event).
	ReplayBytes int64
	// LogBytes bounds the resume log (see seqlog.go): 8 bytes an event
	// kept since the ring's oldest, in memory and, with Dir set, on disk.
	// A cursor within it resumes exactly, from the ring or the store.
	LogBytes int64
	// Dir, when set, holds the resume log on disk, so that a cursor from
	// before a restart resumes exactly too.
	Dir string
	// FillMemory bounds the rows one resume holds while it reads a stretch
	// of the log from the store; a stretch past it is reported as a gap.
	FillMemory int64
	// ResumeWindow is how long after the last open tail the ring and the
	// resume log are still filled: a viewer that dropped its connection
	// within it resumes exactly; with no tail for longer, the hub copies
	// and logs nothing (a later resume from then gets a gap notice). A
	// restart counts the resume log's last write as the last open tail.
	ResumeWindow time.Duration
	// MaxTails is the most concurrent streams; MaxPerClient the most from
	// one remote address.
	MaxTails, MaxPerClient int
	// MaxDuration ends a stream that has lasted this long (with a notice
	// telling how to resume); Idle ends one that matched nothing that long.
	MaxDuration, Idle time.Duration
	// Heartbeat is how often an SSE comment keeps proxies from closing a
	// quiet stream.
	Heartbeat time.Duration
	// BufferEvents is each stream's queue of matched events waiting to be
	// written; past it events are counted as dropped, never waited for.
	BufferEvents int
	// PendingEvents bounds the published events waiting for the hub's
	// matcher (matcher.go); past it, groups are shed unmatched and every
	// viewer is told they were dropped, so that an overloaded machine
	// spends itself on ingest rather than on live deliveries.
	PendingEvents int
	// SinceRows caps the history a ?since= stream starts with.
	SinceRows int
	// FlushInterval is the least time between two writes of one stream:
	// events arriving meanwhile go out together, so thousands of viewers
	// cost a write each per interval rather than one per group commit. A
	// stream that has been quiet that long writes its next event at once.
	FlushInterval time.Duration
	// Writers is how many goroutines write the streams (flusher.go), each
	// stream as its write comes due. Streams never compete for the CPU as
	// thousands of runnable goroutines, which would crowd ingest out of
	// the scheduler's queues: with 5,000 busy viewers and a goroutine
	// writing each, max TCP ingest once fell to 2% of its rate without
	// them. At most half the cores' worth write at once; the others stand
	// by for writers stuck on viewers whose connections take nothing (each
	// blocks one for up to WriteTimeout). Four a core.
	Writers int
	// WriteTimeout bounds one stream's write: a viewer whose connection
	// accepts nothing for that long is cut off (it resumes exactly from
	// its cursor) rather than holding one of the Writers.
	WriteTimeout time.Duration
}

// DefaultOptions returns what logcaster serve uses unless told otherwise.
func DefaultOptions() Options {
	return Options{
		// 16 MiB of recent events answer most resumes at once; older ones
		// come from the store (fill.go), so the ring need not be large, and
		// a smaller one is less for the GC to scan under load.
		ReplayBytes: 16 << 20,
		// 32 MiB: 4 million events, 3.5 minutes at 20,000 events/s.
		LogBytes: 32 << 20,
		// 64 MiB: a few hundred thousand matching rows of one stretch,
		// well inside the server's default 448 MiB memory limit.
		FillMemory:   64 << 20,
		ResumeWindow: 15 * time.Minute,
		MaxTails:     10000,
		MaxPerClient: 100,
		MaxDuration:  time.Hour,
		Idle:         10 * time.Minute,
		// 15 s is below the 30-60 s idle timeouts common in proxies and
		// load balancers.
		Heartbeat: 15 * time.Second,
		// 4096 events is a few seconds of a busy filter: enough to ride out
		// a scheduling hiccup, small enough that 10,000 viewers stay cheap
		// (the queue holds pointers into the shared ring, not copies).
		BufferEvents: 4096,
		SinceRows:    100000,
		// 64 Ki events: two of the pipeline's largest groups, which arrive
		// only when its queue is full; at 20,000 events/s the groups are a
		// few hundred events and the matcher is never this far behind.
		PendingEvents: 64 << 10,
		// 100 ms: a busy stream writes 10 times a second, so 5,000 of them
		// cost 50,000 writes/s (half of what 50 ms cost, the writes being
		// most of the server's CPU under that load), and an event waits at
		// most 100 of the 250 ms the issue allows.
		FlushInterval: 100 * time.Millisecond,
		Writers:       4 * runtime.GOMAXPROCS(0),
		WriteTimeout:  time.Second,
	}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch {
	case o.ReplayBytes <= 0 || o.LogBytes <= 0 || o.FillMemory <= 0:
		return errors.New("live: replay, log and fill sizes must be positive")
	case o.MaxTails <= 0 || o.MaxPerClient <= 0:
		return errors.New("live: tail limits must be positive")
	case o.MaxDuration <= 0 || o.Idle <= 0 || o.Heartbeat <= 0:
		return errors.New("live: durations must be positive")
	case o.FlushInterval < 0:
		return errors.New("live: flush interval must not be negative")
	case o.Writers <= 0 || o.WriteTimeout <= 0:
		return errors.New("live: writers and write timeout must be positive")
	case o.BufferEvents <= 0 || o.SinceRows <= 0 || o.PendingEvents <= 0:
		return errors.New("live: buffer, since and pending sizes must be positive")
	}
	return nil
}
