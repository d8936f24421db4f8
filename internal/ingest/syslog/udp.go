package syslog

import (
	"errors"
	"syscall"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// UDP cannot push back on a sender, so the server keeps the kernel's
// socket buffer drained and sheds load where it can count it:
//
//   - One reader goroutine reads datagrams without blocking (read(2) with
//     the socket non-blocking, through the runtime poller) into chunks:
//     each chunk collects every datagram that is waiting, so a burst costs
//     one handover, and a chunk is handed to the parsers as soon as the
//     socket is empty, so a lone message is not held back.
//   - Chunks come from a fixed free list. When the parsers are behind and
//     no chunk is free, datagrams are read and dropped, counted as
//     dropped{reason="workers_busy"}: dropping in the kernel would be
//     invisible.
//   - Parsers submit without blocking; a full pipeline queue drops the
//     batch, counted as dropped{reason="queue_full"}.
//   - Datagrams the kernel dropped because the socket buffer was full
//     (SO_MEMINFO's drop counter, on Linux) are counted as
//     dropped{reason="socket_buffer_full"}.

// Sizes of the UDP chunks.
const (
	// maxDatagram is the largest UDP payload (65,535 minus the 8-byte UDP
	// header); a read buffer one byte larger tells an oversized datagram.
	maxDatagram = 65535 - 8
	// udpChunkBytes holds ~800 typical 300-byte datagrams when each read
	// leaves room for the largest one.
	udpChunkBytes = 256 << 10
	// udpChunks bounds the memory of queued datagrams (8 MiB).
	udpChunks = 32
	// kernelDropsEvery is how often the kernel's drop counter is read: a
	// syscall, so not per chunk at high rates.
	kernelDropsEvery = 100 * time.Millisecond
)

// udpChunk is datagrams read back to back.
type udpChunk struct {
	buf  []byte
	ends []int // end offset of each datagram in buf
}

type udpBuffers struct {
	free chan *udpChunk
	work chan *udpChunk
	room int // bytes a read needs free in a chunk: the limit plus one
}

func (s *Server) startUDP() {
	limit := min(s.opts.MaxMessageBytes, maxDatagram)
	ub := &udpBuffers{
		free: make(chan *udpChunk, udpChunks),
		work: make(chan *udpChunk, udpChunks),
		room: limit + 1,
	}
	for i := 0; i < udpChunks; i++ {
		ub.free <- &udpChunk{buf: make([]byte, 0, max(udpChunkBytes, 2*ub.room))}
	}
	s.udpBuf = ub
	s.udpWG.Add(1 + s.opts.UDPWorkers)
	go s.udpReader()
	for i := 0; i < s.opts.UDPWorkers; i++ {
		go s.udpWorker()
	}
}

func (s *Server) udpReader() {
	defer s.udpWG.Done()
	ub := s.udpBuf
	defer close(ub.work)
	m := s.opts.Metrics
	rc, err := s.udp.SyscallConn()
	if err != nil {
		s.log.Error("syslog udp: no raw socket access", "err", err)
		return
	}
	discard := make([]byte, ub.room)
	// The kernel's own drops (its buffer full while this goroutine was
	// not reading) are read from the socket and counted too, at most
	// every kernelDropsEvery.
	var lastDrops uint32
	rc.Control(func(fd uintptr) { lastDrops, _ = kernelDrops(fd) })
	lastCheck := time.Now()
	for {
		var ch *udpChunk
		select {
		case ch = <-ub.free:
		default:
		}
		var got, tooBig, discarded int
		var readErr error
		err := rc.Read(func(fd uintptr) bool {
			for {
				dst := discard
				if ch != nil {
					if cap(ch.buf)-len(ch.buf) < ub.room {
						return true // chunk full
					}
					dst = ch.buf[len(ch.buf) : len(ch.buf)+ub.room]
				}
				n, err := syscall.Read(int(fd), dst)
				switch {
				case err == syscall.EINTR:
					continue
				case err == syscall.EAGAIN:
					return got > 0 // false: wait until readable
				case err != nil:
					readErr = err
					return true
				}
				got++
				switch {
				case n == 0: // an empty datagram: nothing to keep
				case n >= ub.room:
					tooBig++
				case ch == nil:
					discarded++
					return true // look for a free chunk again
				default:
					ch.buf = ch.buf[:len(ch.buf)+n]
					ch.ends = append(ch.ends, len(ch.buf))
				}
			}
		})
		if tooBig > 0 {
			m.Rejected(protoUDP, "bad_frame", tooBig)
		}
		if discarded > 0 {
			m.Dropped(protoUDP, "workers_busy", discarded)
		}
		if ch != nil {
			if len(ch.ends) > 0 {
				ub.work <- ch // never blocks: there are only udpChunks chunks
			} else {
				ub.free <- ch
			}
		}
		if err != nil { // the socket is closed
			return
		}
		if now := time.Now(); now.Sub(lastCheck) >= kernelDropsEvery {
			lastCheck = now
			rc.Control(func(fd uintptr) {
				if drops, ok := kernelDrops(fd); ok {
					m.Dropped(protoUDP, "socket_buffer_full", int(drops-lastDrops))
					lastDrops = drops
				}
			})
		}
		if readErr != nil && !errors.Is(readErr, syscall.ECONNREFUSED) {
			s.log.Warn("syslog udp: read failed", "err", readErr)
			time.Sleep(10 * time.Millisecond) // do not spin on a lasting error
		}
	}
}

func (s *Server) udpWorker() {
	defer s.udpWG.Done()
	ub := s.udpBuf
	m := s.opts.Metrics
	p := NewParser()
	opts := ParseOptions{DefaultIndex: s.opts.DefaultIndex, Location: s.opts.Location}
	badLogged := false
	for ch := range ub.work {
		b := &event.Batch{Events: make([]event.Event, 0, len(ch.ends))}
		opts.Now = time.Now().UnixNano()
		start, malformed := 0, 0
		for _, end := range ch.ends {
			b.Bytes += end - start
			if err := p.Parse(b, ch.buf[start:end], opts); err != nil {
				malformed++
				if !badLogged {
					badLogged = true
					s.log.Warn("syslog udp: malformed message kept (logged once)", "err", err)
				}
			}
			start = end
		}
		ch.buf, ch.ends = ch.buf[:0], ch.ends[:0]
		ub.free <- ch
		m.Rejected(protoUDP, "malformed", malformed)
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
