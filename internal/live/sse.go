package live

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/coder/websocket"

	"github.com/logcaster/logcaster/internal/query"
	"github.com/logcaster/logcaster/internal/store"
)

// Route is the SSE endpoint.
const Route = "GET /api/v1/tail"

// Gauge is what the handler counts open streams with (a Prometheus gauge).
type Gauge interface {
	Inc()
	Dec()
}

// Handler serves live tails as Server-Sent Events.
type Handler struct {
	hub   *Hub
	sc    store.Scanner
	gauge Gauge
}

// NewHandler serves the hub's streams; sc answers ?since= history; gauge
// may be nil.
func NewHandler(h *Hub, sc store.Scanner, gauge Gauge) *Handler {
	return &Handler{hub: h, sc: sc, gauge: gauge}
}

// request is a tail request's parsed parameters.
type request struct {
	q     *query.Query
	from  *Cursor
	since time.Duration
}

func parseRequest(r *http.Request) (request, error) {
	var req request
	src := r.URL.Query().Get("q")
	if src == "" {
		src = "*"
	}
	q, err := query.Parse(src)
	if err != nil {
		return req, err
	}
	if err := q.FilterOnly(); err != nil {
		return req, err
	}
	req.q = q
	c := r.Header.Get("Last-Event-ID")
	if c == "" {
		c = r.URL.Query().Get("cursor")
	}
	if c != "" {
		cur, err := ParseCursor(c)
		if err != nil {
			return req, err
		}
		req.from = &cur
	}
	if s := r.URL.Query().Get("since"); s != "" && req.from == nil {
		d, err := query.ParseDuration(s)
		if err != nil || d <= 0 {
			return req, errors.New("since must be a positive duration like 5m")
		}
		req.since = d
	}
	return req, nil
}

func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.serve(w, r, false)
}

// serve runs one stream, as SSE or (ws set) over a WebSocket.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, ws bool) {
	req, err := parseRequest(r)
	if err != nil {
		http.Error(w, "tail: "+err.Error(), http.StatusBadRequest)
		return
	}
	client := clientOf(r)
	if err := h.hub.Acquire(client); err != nil {
		code := http.StatusTooManyRequests
		if errors.Is(err, ErrClosed) {
			code = http.StatusServiceUnavailable
		}
		http.Error(w, "tail: "+err.Error(), code)
		return
	}
	defer h.hub.Release(client)
	sub, res, err := h.hub.Subscribe(req.q, req.from)
	if err != nil {
		http.Error(w, "tail: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer sub.Close()
	if h.gauge != nil {
		h.gauge.Inc()
		defer h.gauge.Dec()
	}
	rc := http.NewResponseController(w)
	// A stream outlives the server's read and write timeouts, which are
	// sized for requests; its own limits are MaxDuration and Idle.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	st := &stream{h: h, w: w, rc: rc, sub: sub, ctx: r.Context(), broken: make(chan struct{})}
	if ws {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return // Accept has answered
		}
		defer conn.CloseNow()
		st.ws = conn
		// The client sends nothing; CloseRead answers its pings and ends
		// ctx when it goes away.
		st.ctx = conn.CloseRead(r.Context())
	} else {
		hd := w.Header()
		hd.Set("Content-Type", "text/event-stream")
		hd.Set("Cache-Control", "no-cache")
		hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		// No chunked encoding: the body simply runs until the stream ends
		// and the connection closes (net/http's documented setup for
		// SSE). A flush is then one write(2); chunking made it two or
		// three (size line, data, trailing CRLF), the writes being most of
		// the server's CPU with 5,000 viewers.
		hd.Set("Transfer-Encoding", "identity")
		w.WriteHeader(http.StatusOK)
	}
	if res.Gap {
		st.notice("gap", "from_cursor", req.from.String(), "reason", "the cursor is ahead of this server's events")
	}
	if res.fill != nil {
		if err := st.fill(st.ctx, req.q, res.fill); err != nil {
			return
		}
	}
	if req.since > 0 {
		if err := st.history(st.ctx, req); err != nil {
			return
		}
	}
	if st.flush() != nil {
		return
	}
	st.run(st.ctx)
	if st.ws != nil {
		st.ws.Close(websocket.StatusNormalClosure, "")
	}
}

// stream is one open SSE response.
type stream struct {
	h   *Handler
	w   http.ResponseWriter
	rc  *http.ResponseController
	sub *Subscription
	ctx context.Context
	buf []byte
	// box is the pool's pointer to buf while buf is the pool's (getBuf).
	box *[]byte
	// ws is set for a WebSocket stream: buf then holds JSON messages that
	// end at the offsets in ends.
	ws   *websocket.Conn
	ends []int
	// seen counts history rows by key, so that a live event the store
	// already answered is not written twice.
	seen map[uint64]int
	// last is the sequence number of the last event written.
	last uint64
	// err is the first write error of a drain; the stream then ends.
	err error
	// wctx, while set, bounds a WebSocket write (see writeQueued).
	wctx context.Context
	// deadline is the SSE connection's write deadline (see flush).
	deadline time.Time

	// wmu is held by whoever writes to the connection: one of the hub's
	// writers (writeDue) or the stream's own goroutine (heartbeats, the
	// end); done, under it, is set once the stream has ended, after which
	// nothing may touch the ResponseWriter.
	wmu  sync.Mutex
	done bool
	// broken is closed when a writer's write failed (st.err): the stream
	// then ends.
	broken chan struct{}
	// wroteAt is when a writer last wrote events (unix ns), for the idle
	// cut-off and the heartbeat.
	wroteAt atomic.Int64
}

func (st *stream) flush() error {
	if st.ws != nil {
		start := 0
		for _, end := range st.ends {
			ctx := st.ctx
			if st.wctx != nil {
				ctx = st.wctx
			}
			if err := st.ws.Write(ctx, websocket.MessageText, st.buf[start:end]); err != nil {
				return err
			}
			start = end
		}
		st.putBuf()
		st.ends = st.ends[:0]
		return nil
	}
	// Writes have a deadline (see Options.WriteTimeout), moved forward only
	// once half of it is spent: setting it each flush was a tenth of the
	// server's CPU with 5,000 busy streams. A blocked write is thus cut
	// off after between half and all of WriteTimeout.
	if now, timeout := time.Now(), st.h.hub.opts.WriteTimeout; st.deadline.Sub(now) < timeout/2 {
		st.deadline = now.Add(timeout)
		_ = st.rc.SetWriteDeadline(st.deadline)
	}
	if len(st.buf) > 0 {
		if _, err := st.w.Write(st.buf); err != nil {
			return err
		}
		st.putBuf()
	}
	return st.rc.Flush()
}

func (st *stream) cursor(seq uint64) Cursor { return Cursor{st.h.hub.epoch, seq} }

// endFrame marks the end of a WebSocket message.
func (st *stream) endFrame() {
	if st.ws != nil {
		st.ends = append(st.ends, len(st.buf))
	}
}

// notice adds an event of the given type whose data is a JSON object of
// string pairs (all ASCII, so strconv's quoting is valid JSON).
func (st *stream) notice(typ string, kv ...string) {
	if st.ws != nil {
		st.buf = append(st.buf, `{"type":`...)
		st.buf = strconv.AppendQuote(st.buf, typ)
	} else {
		st.buf = append(st.buf, "event: "...)
		st.buf = append(st.buf, typ...)
		st.buf = append(st.buf, "\ndata: {"...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 || st.ws != nil {
			st.buf = append(st.buf, ',')
		}
		st.buf = strconv.AppendQuote(st.buf, kv[i])
		st.buf = append(st.buf, ':')
		st.buf = strconv.AppendQuote(st.buf, kv[i+1])
	}
	if st.ws != nil {
		st.buf = append(st.buf, '}')
	} else {
		st.buf = append(st.buf, "}\n\n"...)
	}
	st.endFrame()
}

// dropped adds a dropped notice: count matching events lost to a full
// queue and, when the hub shed (see matcher.go), "unchecked" events that
// were never matched against the filter (any of them may have matched).
func (st *stream) dropped(d drop) {
	if st.ws != nil {
		st.buf = append(st.buf, `{"type":"dropped","count":`...)
	} else {
		st.buf = append(st.buf, "event: dropped\ndata: {\"count\":"...)
	}
	st.buf = strconv.AppendInt(st.buf, int64(d.dropped), 10)
	if d.unchecked > 0 {
		st.buf = append(st.buf, ",\"unchecked\":"...)
		st.buf = strconv.AppendUint(st.buf, d.unchecked, 10)
	}
	st.buf = append(st.buf, ",\"resume_cursor\":\""...)
	st.buf = st.cursor(d.from).AppendText(st.buf)
	if st.ws != nil {
		st.buf = append(st.buf, "\"}"...)
	} else {
		st.buf = append(st.buf, "\"}\n\n"...)
	}
	st.endFrame()
}

// log adds one event of this run; line is its NDJSON row without the
// newline.
func (st *stream) log(seq uint64, line []byte) { st.logAt(st.cursor(seq), line) }

// logAt adds one event at cursor c (of this run or, filled from the
// store, of an earlier one).
func (st *stream) logAt(c Cursor, line []byte) {
	if st.ws != nil {
		st.buf = append(st.buf, `{"type":"log","cursor":"`...)
		st.buf = c.AppendText(st.buf)
		st.buf = append(st.buf, `","event":`...)
		st.buf = append(st.buf, line...)
		st.buf = append(st.buf, '}')
		st.endFrame()
		return
	}
	st.buf = append(st.buf, "id: "...)
	st.buf = c.AppendText(st.buf)
	st.buf = append(st.buf, "\nevent: log\ndata: "...)
	st.buf = append(st.buf, line...)
	st.buf = append(st.buf, '\n', '\n')
}

func (st *stream) heartbeat() {
	if st.ws != nil {
		st.buf = append(st.buf, `{"type":"heartbeat"}`...)
		st.endFrame()
		return
	}
	st.buf = append(st.buf, ": hb\n\n"...)
}

// history writes the store's matching events of the last req.since, oldest
// first. The subscription is already registered and queues live events
// meanwhile; those the store also returned are skipped when they are
// taken (matched by time, index and message).
func (st *stream) history(ctx context.Context, req request) error {
	now := time.Now()
	var rows []*query.Row
	err := req.q.Run(ctx, st.h.sc, query.RunOptions{Start: now.Add(-req.since).UnixNano(), Limit: st.h.hub.opts.SinceRows, Now: now}, func(r *query.Row) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		st.notice("error", "error", "history: "+err.Error())
		return st.flush()
	}
	st.seen = make(map[uint64]int, len(rows))
	var line []byte
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		idx, _ := r.Get("index")
		msg, _ := r.Get("message")
		st.seen[rowKey(r.Time, idx, msg)]++
		// History rows carry the cursor at registration: a resume from
		// them continues with everything live since then.
		line = query.AppendNDJSON(line[:0], r)
		st.log(st.sub.start, line[:len(line)-1])
		if len(st.buf) > 64<<10 {
			if err := st.flush(); err != nil {
				return err
			}
		}
	}
	st.last = st.sub.start
	return nil
}

func rowKey(t int64, index, msg string) uint64 {
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(index)
	_, _ = d.Write([]byte{0})
	_, _ = d.WriteString(msg)
	return d.Sum64() ^ uint64(t)
}

// bufPool holds the streams' write buffers between flushes: a stream owns
// one only while it has something to write, so 10,000 idle streams hold
// none, and busy ones stop allocating (growing a buffer per stream was a
// tenth of the CPU under load, most of it paying the GC).
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, writeChunk+8<<10)
	return &b
}}

// getBuf takes a buffer from the pool into st.buf, keeping the pointer
// the pool holds it by in st.box for putBuf.
func (st *stream) getBuf() {
	st.box = bufPool.Get().(*[]byte)
	st.buf = (*st.box)[:0]
}

// putBuf gives st.buf back to the pool, in the box it came in: boxing the
// slice afresh at each flush was an allocation per write (4% of the
// server's CPU with 5,000 busy streams, with the GC work it caused).
func (st *stream) putBuf() {
	b, box := st.buf, st.box
	st.buf, st.box = nil, nil
	if cap(b) < writeChunk || cap(b) > 4*writeChunk {
		return // a small notice's, or a history burst's: let it go
	}
	if box == nil {
		box = new([]byte) // grown from a notice's buffer: rare
	}
	*box = b[:0]
	bufPool.Put(box)
}

// writeChunk is the most a stream buffers before writing: a few hundred
// events, below the 64 KiB a loopback or LAN socket takes in one write.
const writeChunk = 32 << 10

// drain writes what the subscription has queued; it reports whether any
// event was written and the cursor of a drop it reported (0: none). A
// write error is kept in st.err.
func (st *stream) drain() (wrote bool, dropFrom uint64, dropped bool) {
	ents, d := st.sub.take()
	for _, e := range ents {
		if st.buf == nil {
			st.getBuf() // again after each piece is written
		}
		if st.seen != nil {
			k := rowKey(e.ev.Time, e.ev.Index, e.ev.Message)
			if n := st.seen[k]; n > 0 {
				st.seen[k] = n - 1
				continue
			}
		}
		if st.ws != nil {
			st.log(e.seq, e.line)
		} else {
			st.buf = append(st.buf, e.frame...)
		}
		st.last = e.seq
		wrote = true
		if len(st.buf) >= writeChunk && st.err == nil {
			// A long backlog goes out in pieces, so that a stream's
			// buffer stays small (10,000 of them) and never regrows.
			st.err = st.flush()
		}
	}
	st.seen = nil // only the events queued during the history read can repeat it
	if d.any() {
		st.dropped(d)
	}
	return wrote, d.from, d.any()
}

// end unregisters, writes what is still queued and a final notice with the
// cursor to resume from.
func (st *stream) end(typ, reason string) {
	resume := st.sub.Close()
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if st.err != nil {
		return // the connection is broken
	}
	if _, from, dropped := st.drain(); dropped {
		// The events lost just before the end come first.
		resume = from
	}
	st.notice(typ, "reason", reason, "resume_cursor", st.cursor(resume).String())
	_ = st.flush()
}

// writeDue is a hub writer's turn at the stream (flusher.go): it writes
// what the subscription has queued, within the hub's WriteTimeout. A
// viewer whose connection takes nothing for that long is cut off (it
// resumes from its cursor). When the stream is being written already (a
// heartbeat, or another writer stuck on a slow viewer), the turn is put
// off by FlushInterval instead of waiting, so a writer never waits for one
// stream while the others are due.
func (st *stream) writeDue() {
	if !st.wmu.TryLock() {
		st.h.hub.flusher.schedule(st, time.Now().Add(max(st.h.hub.opts.FlushInterval, time.Millisecond)).UnixNano())
		return
	}
	defer st.wmu.Unlock()
	if st.done || st.err != nil {
		return
	}
	if st.ws != nil {
		wctx, cancel := context.WithTimeout(st.ctx, st.h.hub.opts.WriteTimeout)
		defer cancel()
		st.wctx = wctx
		defer func() { st.wctx = nil }()
	}
	wrote, _, _ := st.drain()
	if st.err == nil {
		st.err = st.flush()
	}
	if st.err != nil {
		close(st.broken)
		return
	}
	if wrote {
		st.wroteAt.Store(time.Now().UnixNano())
	}
}

// run serves the stream once it is live: the hub's writers write its
// events (writeDue); this goroutine ends it at its maximum duration, when
// idle, when the server shuts down or the viewer goes, and writes its
// heartbeats.
func (st *stream) run(ctx context.Context) {
	defer func() {
		st.sub.attach(nil)
		st.wmu.Lock()
		st.done = true
		st.wmu.Unlock()
	}()
	opts := st.h.hub.opts
	// One timer serves the maximum duration, the idle cut-off and the
	// heartbeat: with 5,000 streams, a select over three more timer
	// channels was a sixth of the server's CPU.
	// Times are unix ns. The writers record when they last wrote events
	// (wroteAt); this goroutine when it last wrote a heartbeat (beatAt).
	start := time.Now().UnixNano()
	endAt, beatAt := start+int64(opts.MaxDuration), start
	// next returns when the stream is idle (no event written for Idle)
	// and when its next heartbeat is due (Heartbeat after the last write
	// or heartbeat).
	next := func() (idleAt, hbAt int64) {
		last := max(start, st.wroteAt.Load())
		return last + int64(opts.Idle), max(last, beatAt) + int64(opts.Heartbeat)
	}
	wait := func() time.Duration {
		idleAt, hbAt := next()
		return time.Duration(min(endAt, idleAt, hbAt) - time.Now().UnixNano())
	}
	st.sub.attach(st)
	timer := time.NewTimer(wait())
	defer timer.Stop()
	const resume = "; reconnect with Last-Event-ID or ?cursor= set to resume_cursor to resume"
	for {
		select {
		case <-timer.C:
			now := time.Now().UnixNano()
			idleAt, hbAt := next()
			switch {
			case now >= endAt:
				st.end("end", "the stream reached its maximum duration of "+opts.MaxDuration.String()+resume)
				return
			case now >= idleAt:
				st.end("idle", "no event matched for "+opts.Idle.String()+resume)
				return
			case now >= hbAt:
				st.wmu.Lock()
				st.heartbeat()
				err := st.flush()
				st.wmu.Unlock()
				if err != nil {
					return
				}
				beatAt = now
			}
			timer.Reset(wait())
		case <-st.h.hub.Done():
			st.end("end", "the server is shutting down"+resume)
			return
		case <-st.broken:
			return
		case <-ctx.Done():
			return
		}
	}
}
