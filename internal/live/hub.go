// Package live is LogCaster's live tail: a hub that receives every group of
// events after the pipeline has made it durable, numbers each event with a
// cursor, keeps recent events in a ring bounded in bytes, and hands the
// events matching each viewer's filter to that viewer's bounded queue.
//
// Promises: cursors ("<epoch>-<seq>", the epoch being the server's start)
// only grow, in the order the pipeline accepted the events; a stream
// delivers matching events in cursor order and never twice. Publish never
// waits for a viewer nor for matching: it numbers a group and hands it to
// the hub's matcher goroutine (matcher.go). A viewer whose queue is full
// loses events and is told so (an explicit dropped notice with the count
// and the cursor to resume from); when the matcher is behind by more than
// Options.PendingEvents (an overloaded machine), groups are shed unmatched
// and every viewer they may concern gets a dropped notice whose
// "unchecked" field counts them (a viewer of one exact value only when the
// value occurred in them, see shed_values.go), so that ingest keeps the
// CPU and live deliveries give way.
//
// Resume: a stream opened with a cursor continues exactly after it. From
// the ring when the cursor is still in it (replay and registration happen
// under the hub's lock). From the store otherwise, including a cursor of an
// earlier run: the resume log (seqlog.go, kept on disk under Options.Dir)
// holds for every published group its first cursor, its time range and an
// 8-byte content hash an event, so the stream reads the store over each
// stretch's time range with its filter and writes the rows whose hashes
// the log lists, in cursor order, each with its original cursor; then the
// ring and the live queue follow from the ring's oldest cursor on, so
// nothing is written twice. Positions the log does not cover (no tail was
// open within ResumeWindow, the log's byte bound, an unknown run, a store
// read past FillMemory) get an explicit gap notice naming the range; never
// silence. What is not promised: events the store no longer holds
// (retention) are not replayed; an event made durable in the instant
// between the WAL commit and the hub numbering it, when the process is
// killed in that instant, has no cursor and is not replayed; a machine
// crash (not a process kill) may lose the resume log's last records, which
// are written without fsync, and with them the end of that run; two
// different events whose 64-bit content hashes collide within one stretch
// could be swapped (about 2^-64 a pair).
package live

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/query"
)

// ErrTooManyTails and ErrTooManyForClient are returned by Acquire when a
// limit is reached; ErrClosed once the hub is shutting down.
var (
	ErrTooManyTails     = errors.New("too many live tails open")
	ErrTooManyForClient = errors.New("too many live tails open from this address")
	ErrClosed           = errors.New("live tail is shutting down")
)

// entryOverhead approximates an entry's memory beyond its strings (the
// struct, the ring slot, the field headers) so that the ring's byte bound
// is honest for tiny events.
const entryOverhead = 160

// entry is one event in the ring, its strings copied out of the batch.
type entry struct {
	seq  uint64
	ev   event.Event
	size int
	// frame is the SSE event (id, type, data and the blank line) and line
	// the NDJSON row inside it, rendered once by the matcher or a replay
	// (under h.subMu) and shared by all.
	frame, line []byte
	// frameLen is len(frame) once counted against the ring, or
	// frameEvicted once the ring has let go of the entry (a frame rendered
	// later, for a backlog, is then not counted).
	frameLen atomic.Int32
}

const frameEvicted = -1

// Hub numbers events, keeps the replay ring and feeds subscriptions.
type Hub struct {
	opts  Options
	epoch int64
	done  chan struct{}

	mu        sync.Mutex
	seq       uint64   // the last event's sequence number
	ring      []*entry // ring[ringStart:] are live, seqs contiguous
	ringStart int
	ringBytes int64 // the entries' strings; their frames are frameBytes
	closed    bool
	// viewers is how many subscriptions are registered (Publish queues
	// groups for the matcher only when there are any).
	viewers int
	// pending is the matcher's queue (matcher.go), pendingEvents the
	// events in it or being matched, shed the events never offered.
	pending       []pub
	pendingEvents int
	shed          uint64
	shedAt        atomic.Int64 // unix ns of the last shed (overloaded)
	wake          chan struct{}
	// quit asks the matcher to finish; matcherDone is closed when it has.
	quit, matcherDone chan struct{}
	// frameBytes is the rendered frames of the ring's entries.
	frameBytes atomic.Int64

	// subMu orders the matcher's offers with Subscribe and Close. It is
	// taken before mu, never after, and Publish never takes it: ingest
	// never waits for matching.
	subMu  sync.Mutex
	groups map[string]*group // subscriptions by canonical filter
	// exact indexes the groups whose filter is one exact value (exact.go),
	// scanned holds the others, which offer runs over each published
	// group; touched is offer's scratch list of the exact groups matched.
	exact   exactIndex
	scanned map[string]*group
	// exactFields is the exact index's field names, for Publish, which
	// does not take subMu, to record what a shed stretch held (see
	// shedValues).
	exactFields atomic.Pointer[[]string]
	touched     []*group
	// matched is the last sequence number offered to the subscriptions.
	matched uint64
	// lastViewer is when a publish last found a subscription; the ring is
	// filled only within ResumeWindow of it (see Publish).
	lastViewer time.Time
	// log maps cursors older than the ring to the store (seqlog.go); lw
	// keeps it on disk when Options.Dir is set.
	log seqLog
	lw  *logWriter
	// frames is the current chunk rendered frames are appended to
	// (under subMu).
	frames []byte
	// rowFields is render's scratch row (under subMu).
	rowFields []event.Field
	// fills bounds the resumes reading the store at once.
	fills chan struct{}
	// flusher is the queue of streams due to be written by the hub's
	// writers (flusher.go).
	flusher flusher

	limMu    sync.Mutex
	open     int
	byClient map[string]int
}

// group is the subscriptions sharing one filter, matched once a publish.
type group struct {
	q    *query.Query
	subs map[*Subscription]struct{}
	// exact is set when q is field:=value (indexed in Hub.exact); rows
	// then collects the entries it matches while a group is offered.
	exact        bool
	field, value string
	rows         []int
}

// newGroup returns the group of q's filter, indexed in h.exact when it is
// one exact value and in h.scanned otherwise; h.subMu is held.
func (h *Hub) newGroup(key string, q *query.Query) *group {
	g := &group{q: q, subs: map[*Subscription]struct{}{}}
	if field, value, ok := q.ExactMatch(); ok {
		g.exact, g.field, g.value = true, field, value
		h.exact.add(field, value, g)
		h.storeExactFields()
	} else {
		h.scanned[key] = g
	}
	h.groups[key] = g
	return g
}

// dropGroup undoes newGroup once its last subscription has left; h.subMu
// is held.
func (h *Hub) dropGroup(key string, g *group) {
	delete(h.groups, key)
	if g.exact {
		h.exact.remove(g.field, g.value)
		h.storeExactFields()
	} else {
		delete(h.scanned, key)
	}
}

// storeExactFields publishes the exact index's field names for Publish;
// h.subMu is held.
func (h *Hub) storeExactFields() {
	names := make([]string, len(h.exact.fields))
	for i, f := range h.exact.fields {
		names[i] = f.name
	}
	h.exactFields.Store(&names)
}

// NewHub returns a hub whose cursors carry epoch (the server's start).
func NewHub(opts Options, epoch time.Time) (*Hub, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	h := &Hub{
		opts:     opts,
		epoch:    epoch.UnixMilli(),
		done:     make(chan struct{}),
		groups:   map[string]*group{},
		scanned:  map[string]*group{},
		byClient: map[string]int{},
		log:      seqLog{limit: opts.LogBytes},
		// Two fills at once: a mass reconnect after a restart reads the
		// store a few viewers at a time instead of starving ingest.
		fills:   make(chan struct{}, 2),
		flusher: newFlusher(opts.Writers, runtime.GOMAXPROCS(0)/2),
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),

		matcherDone: make(chan struct{}),
	}
	if opts.Dir != "" {
		lw, newest, err := openLog(opts.Dir, h.epoch, opts.LogBytes, &h.log)
		if err != nil {
			return nil, err
		}
		h.lw = lw
		// A tail open shortly before a restart may resume into this run:
		// keep logging as if it were still open.
		h.lastViewer = newest
	}
	go h.match()
	for w := range opts.Writers {
		go h.write(w)
	}
	return h, nil
}

// Options returns the hub's options.
func (h *Hub) Options() Options { return h.opts }

// Epoch is the boot epoch cursors carry.
func (h *Hub) Epoch() int64 { return h.epoch }

// Done is closed when the hub shuts down; every stream then ends.
func (h *Hub) Done() <-chan struct{} { return h.done }

// Close ends every stream (each writes a notice with its resume cursor),
// once the matcher has offered what was published before (at most
// Options.PendingEvents), so that the streams end with it written.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		<-h.done
		return
	}
	h.closed = true
	close(h.quit)
	h.mu.Unlock()
	<-h.matcherDone
	close(h.done)
}

// Acquire counts a new stream from client against the limits; Release
// gives it back.
func (h *Hub) Acquire(client string) error {
	h.limMu.Lock()
	defer h.limMu.Unlock()
	select {
	case <-h.done:
		return ErrClosed
	default:
	}
	if h.open >= h.opts.MaxTails {
		return ErrTooManyTails
	}
	if h.byClient[client] >= h.opts.MaxPerClient {
		return ErrTooManyForClient
	}
	h.open++
	h.byClient[client]++
	return nil
}

// Release undoes one Acquire.
func (h *Hub) Release(client string) {
	h.limMu.Lock()
	defer h.limMu.Unlock()
	h.open--
	if h.byClient[client]--; h.byClient[client] <= 0 {
		delete(h.byClient, client)
	}
}

// Publish is the pipeline subscriber: it numbers every event of the group,
// copies it into the ring and the resume log, and hands it to the matcher
// (matcher.go), which queues it to each subscription whose filter matches.
// It never waits for a viewer nor for matching.
func (h *Hub) Publish(batches []*event.Batch) {
	n := 0
	for _, b := range batches {
		n += len(b.Events)
	}
	if n == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if h.viewers > 0 {
		h.lastViewer = now
	} else if now.Sub(h.lastViewer) > h.opts.ResumeWindow {
		// Nobody has tailed for a while, so nobody can resume: keep the
		// cursors counting but copy nothing. Copying every event into the
		// ring cost ~0.5 CPU-s per million events and 64 MiB of memory on
		// a server nobody watched. A late resume gets a gap notice.
		h.seq += uint64(n)
		h.dropRing()
		return
	}
	if h.viewers > 0 && !h.closed && h.pendingEvents > 0 && h.pendingEvents+n > h.opts.PendingEvents {
		h.shedGroup(batches, n, now) // the matcher is behind (matcher.go)
		return
	}
	fresh := make([]*entry, 0, n)
	slab := newEntrySlab(batches, n)
	seg := &segment{epoch: h.epoch, first: h.seq + 1, hashes: make([]uint64, 0, n)}
	for _, b := range batches {
		for i := range b.Events {
			h.seq++
			e := slab.copyEntry(&b.Events[i], h.seq)
			fresh = append(fresh, e)
			h.ring = append(h.ring, e)
			h.ringBytes += int64(e.size)
			seg.hashes = append(seg.hashes, hashEvent(&e.ev))
			if len(seg.hashes) == 1 || e.ev.Time < seg.minT {
				seg.minT = e.ev.Time
			}
			if len(seg.hashes) == 1 || e.ev.Time > seg.maxT {
				seg.maxT = e.ev.Time
			}
		}
	}
	h.log.append(seg)
	if h.lw != nil {
		h.lw.write(seg)
	}
	h.evict()
	if h.viewers > 0 && !h.closed {
		h.enqueue(fresh, now)
	}
}

// dropRing lets go of every entry of the ring; the hub's lock is held.
func (h *Hub) dropRing() {
	if len(h.ring) == 0 {
		return
	}
	for _, e := range h.ring[h.ringStart:] {
		if n := e.frameLen.Swap(frameEvicted); n > 0 {
			h.frameBytes.Add(-int64(n))
		}
	}
	clear(h.ring)
	h.ring, h.ringStart, h.ringBytes = h.ring[:0], 0, 0
}

// evict drops the oldest entries past the byte bound, keeping at least the
// newest one, and compacts the slice once half of it is dead.
func (h *Hub) evict() {
	for h.ringBytes+h.frameBytes.Load() > h.opts.ReplayBytes && len(h.ring)-h.ringStart > 1 {
		e := h.ring[h.ringStart]
		h.ringBytes -= int64(e.size)
		if n := e.frameLen.Swap(frameEvicted); n > 0 {
			h.frameBytes.Add(-int64(n))
		}
		h.ring[h.ringStart] = nil
		h.ringStart++
	}
	if h.ringStart > 1024 && h.ringStart > len(h.ring)/2 {
		n := copy(h.ring, h.ring[h.ringStart:])
		clear(h.ring[n:])
		h.ring = h.ring[:n]
		h.ringStart = 0
	}
}

// render fills e.frame and e.line and counts them against the ring;
// callers hold h.subMu.
func (h *Hub) render(e *entry) {
	if e.frame != nil {
		return
	}
	// The row's fields go in a slice kept for the next render (under
	// subMu): a fresh one each was an allocation per matched event.
	r := query.Row{Time: e.ev.Time, HasTime: true, Fields: h.rowFields[:0]}
	for _, f := range [...]event.Field{
		{Name: event.FieldIndex, Value: e.ev.Index},
		{Name: event.FieldLevel, Value: e.ev.Level},
		{Name: event.FieldMessage, Value: e.ev.Message},
		{Name: event.FieldTraceID, Value: e.ev.TraceID},
	} {
		if f.Value != "" {
			r.Fields = append(r.Fields, f)
		}
	}
	r.Fields = append(r.Fields, e.ev.Fields...)
	// The whole SSE frame is rendered once and shared: a stream appends
	// it with one copy (the cursor's formatting was a tenth of the
	// streams' CPU with 5,000 viewers).
	fr := h.frames[len(h.frames):]
	fr = append(fr, "id: "...)
	fr = Cursor{h.epoch, e.seq}.AppendText(fr)
	fr = append(fr, "\nevent: log\ndata: "...)
	start := len(fr)
	fr = query.AppendNDJSON(fr, &r)
	fr = append(fr, '\n')
	clear(r.Fields) // keep no event's strings alive
	h.rowFields = r.Fields[:0]
	if cap(fr) != cap(h.frames[len(h.frames):]) {
		// Outgrew the arena's chunk: fr is a fresh allocation of its own;
		// start a new chunk for the next frames.
		h.frames = make([]byte, 0, frameChunk)
	} else {
		h.frames = h.frames[:len(h.frames)+len(fr)]
	}
	e.frame = fr[:len(fr):len(fr)]
	e.line = fr[start : len(fr)-2] // the row without its newline
	if e.frameLen.CompareAndSwap(0, int32(len(fr))) {
		h.frameBytes.Add(int64(len(fr)))
	}
}

// frameChunk is the allocation the rendered frames are cut from: one
// allocation for a few hundred frames rather than one each. A chunk lives
// while any of its frames is in the ring or a queue.
const frameChunk = 64 << 10

// sseFrameOverhead is the SSE framing around a row: "id: ", a cursor of two
// 20-digit numbers, "\nevent: log\ndata: " and the blank line.
const sseFrameOverhead = 64

// entrySlab hands out the entries of one published group from one
// allocation, and their strings from another: two allocations a group
// instead of three an event, which under load were most of the GC's work.
// A slab lives until the ring lets go of its last entry.
type entrySlab struct {
	ents   []entry
	fields []event.Field
	buf    []byte
}

func newEntrySlab(batches []*event.Batch, n int) *entrySlab {
	size, fields := 0, 0
	for _, b := range batches {
		for i := range b.Events {
			ev := &b.Events[i]
			size += len(ev.Index) + len(ev.Level) + len(ev.Message) + len(ev.TraceID)
			for _, f := range ev.Fields {
				size += len(f.Name) + len(f.Value)
			}
			fields += len(ev.Fields)
		}
	}
	return &entrySlab{ents: make([]entry, 0, n), fields: make([]event.Field, 0, fields), buf: make([]byte, 0, size)}
}

// copyEntry copies ev's strings into the slab, as the batch's arena is
// reused once the group is written.
func (sl *entrySlab) copyEntry(ev *event.Event, seq uint64) *entry {
	start := len(sl.buf)
	cp := func(s string) string {
		if s == "" {
			return ""
		}
		at := len(sl.buf)
		sl.buf = append(sl.buf, s...) // within capacity: never moves
		return unsafe.String(&sl.buf[at], len(s))
	}
	sl.ents = append(sl.ents, entry{seq: seq})
	e := &sl.ents[len(sl.ents)-1]
	e.ev = event.Event{Time: ev.Time, Index: cp(ev.Index), Level: cp(ev.Level), Message: cp(ev.Message), TraceID: cp(ev.TraceID)}
	if len(ev.Fields) > 0 {
		at := len(sl.fields)
		for _, f := range ev.Fields {
			sl.fields = append(sl.fields, event.Field{Name: cp(f.Name), Value: cp(f.Value)})
		}
		e.ev.Fields = sl.fields[at:len(sl.fields):len(sl.fields)]
	}
	e.size = len(sl.buf) - start + entryOverhead + 32*len(ev.Fields)
	return e
}
