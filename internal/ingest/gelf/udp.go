package gelf

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// UDP cannot push back on a sender, so the server keeps the socket drained
// and sheds load where it can count it: one reader goroutine reads
// datagrams, reassembles chunked messages (chunks must meet in one place)
// and queues whole messages for UDPWorkers goroutines that decompress,
// parse and submit without blocking. A full queue, a full pipeline, an
// incomplete chunked message: each is counted in
// logcaster_dropped_events_total with its reason.

const (
	// maxDatagram is the largest UDP payload; a read buffer one byte
	// larger tells an oversized datagram.
	maxDatagram = 65535 - 8
	// sweepEvery is how often incomplete chunked messages are checked for
	// their timeout (the reader wakes up for it even when the socket is
	// quiet).
	sweepEvery = 500 * time.Millisecond
)

// datagramBufs recycles the buffers messages are queued in.
var datagramBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func (s *Server) startUDP() {
	s.udpWork = make(chan *[]byte, s.opts.UDPQueue)
	s.udpWG.Add(1 + s.opts.UDPWorkers)
	go s.udpReader()
	for i := 0; i < s.opts.UDPWorkers; i++ {
		go s.udpWorker()
	}
}

func (s *Server) udpReader() {
	defer s.udpWG.Done()
	defer close(s.udpWork)
	m := s.opts.Metrics
	asm := newAssembler(s.opts.MaxPendingMessages, s.opts.MaxPendingBytes, s.opts.MaxMessageBytes, s.opts.ChunkTimeout)
	buf := make([]byte, maxDatagram+1)
	nextSweep := time.Now().Add(sweepEvery)
	s.udp.SetReadDeadline(nextSweep)
	for {
		n, err := s.udp.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !s.closing.Load() {
				now := time.Now()
				m.Dropped(protoUDP, "chunks_incomplete", asm.sweep(now))
				nextSweep = now.Add(sweepEvery)
				s.udp.SetReadDeadline(nextSweep)
				continue
			}
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("gelf udp: read failed", "err", err)
			time.Sleep(10 * time.Millisecond) // do not spin on a lasting error
			continue
		}
		p := buf[:n]
		if n == 0 {
			continue
		}
		if n > maxDatagram {
			m.Rejected(protoUDP, "too_large", 1)
			continue
		}
		if !isChunk(p) {
			if n > s.opts.MaxMessageBytes {
				m.Rejected(protoUDP, "too_large", 1)
				continue
			}
			q := datagramBufs.Get().(*[]byte)
			*q = append((*q)[:0], p...)
			s.queue(q)
			continue
		}
		now := time.Now()
		msg, err := asm.add(p, now)
		switch {
		case errors.Is(err, errPendingFull):
			m.Dropped(protoUDP, "chunks_pending_full", 1)
		case errors.Is(err, ErrTooLarge):
			m.Rejected(protoUDP, "too_large", 1)
		case err != nil:
			m.Rejected(protoUDP, "bad_chunk", 1)
		case msg != nil:
			s.queue(&msg)
		}
		if now.After(nextSweep) { // a busy socket never times out: sweep here
			m.Dropped(protoUDP, "chunks_incomplete", asm.sweep(now))
			nextSweep = now.Add(sweepEvery)
			s.udp.SetReadDeadline(nextSweep)
		}
	}
}

// queue hands a whole message to the workers, or drops it (counted) when
// they are behind.
func (s *Server) queue(q *[]byte) {
	select {
	case s.udpWork <- q:
	default:
		s.opts.Metrics.Dropped(protoUDP, "workers_busy", 1)
		putDatagram(q)
	}
}

// maxPooledDatagram keeps reassembled giants out of the pool.
const maxPooledDatagram = 64 << 10

func putDatagram(q *[]byte) {
	if cap(*q) <= maxPooledDatagram {
		datagramBufs.Put(q)
	}
}

func (s *Server) udpWorker() {
	defer s.udpWG.Done()
	m := s.opts.Metrics
	p := NewParser()
	d := decompressors.Get().(*decompressor)
	defer decompressors.Put(d)
	opts := ParseOptions{DefaultIndex: s.opts.DefaultIndex}
	badLogged := false
	for q := range s.udpWork {
		b := &event.Batch{}
		opts.Now = time.Now().UnixNano()
		for q != nil {
			if err := s.parseDatagram(p, d, b, *q, opts); err != nil {
				reason := "malformed"
				if errors.Is(err, ErrTooLarge) {
					reason = "too_large"
				}
				m.Rejected(protoUDP, reason, 1)
				if !badLogged {
					badLogged = true
					s.log.Warn("gelf udp: message refused (logged once)", "err", err)
				}
			}
			putDatagram(q)
			q = nil
			if b.Len() < s.opts.BatchEvents {
				select { // take what else is waiting: one submit a burst
				case q = <-s.udpWork:
				default:
				}
			}
		}
		if b.Len() == 0 {
			m.Bytes(protoUDP, b.Bytes)
			continue
		}
		if _, err := s.sink.Submit(s.ctx, b, false); err != nil {
			reason := "shutdown"
			if errors.Is(err, pipeline.ErrQueueFull) {
				reason = "queue_full"
			}
			m.Dropped(protoUDP, reason, b.Len())
			continue
		}
		ingest.CountIngested(m, protoUDP, b)
	}
}

// parseDatagram inflates and parses one whole message into b.
func (s *Server) parseDatagram(p *Parser, d *decompressor, b *event.Batch, msg []byte, opts ParseOptions) error {
	b.Bytes += len(msg)
	plain, err := d.inflate(msg, s.opts.MaxMessageBytes)
	if err != nil {
		return err
	}
	return p.Parse(b, plain, opts)
}
