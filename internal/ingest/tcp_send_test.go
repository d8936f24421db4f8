package ingest

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/sendproto"
)

// cuttingProxy forwards connections to target and cuts the n-th one (in
// both directions) after it has forwarded cuts[n] bytes from the client.
type cuttingProxy struct {
	ln     net.Listener
	target string
	cuts   []int64
	conns  atomic.Int32
	cutN   atomic.Int32
}

func newCuttingProxy(t *testing.T, target string, cuts ...int64) *cuttingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttingProxy{ln: ln, target: target, cuts: cuts}
	t.Cleanup(func() { ln.Close() })
	go p.run()
	return p
}

func (p *cuttingProxy) run() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		n := int(p.conns.Add(1)) - 1
		limit := int64(-1)
		if n < len(p.cuts) {
			limit = p.cuts[n]
		}
		go p.serve(c, limit)
	}
}

func (p *cuttingProxy) serve(c net.Conn, limit int64) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	var once sync.Once
	cut := func() { once.Do(func() { c.Close(); s.Close() }) }
	go func() { io.Copy(c, s); cut() }()
	if limit < 0 {
		io.Copy(s, c)
	} else {
		io.CopyN(s, c, limit)
		p.cutN.Add(1)
	}
	cut()
}

func TestSendResendsAfterCut(t *testing.T) {
	w := &recordWriter{}
	srv := startTCP(t, newPipeline(t, w, 0), nil)
	// Cut the first connection after 100 KB and the second after 300 KB,
	// mid-frame: frames in flight are lost, some stored without their ack.
	proxy := newCuttingProxy(t, srv.Addr().String(), 100_000, 300_000)

	opts := sendproto.DefaultClientOptions(proxy.ln.Addr().String())
	opts.Index = "sent"
	opts.Window = 4
	opts.BackoffMin = 10 * time.Millisecond
	cl, err := sendproto.Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	const frames, linesPerFrame = 200, 50
	var payload []byte
	for f := 0; f < frames; f++ {
		payload = payload[:0]
		for l := 0; l < linesPerFrame; l++ {
			payload = fmt.Appendf(payload, `{"msg":"frame %d line %d","pad":"%s"}`+"\n", f, l, strings.Repeat("p", 20))
		}
		if err := cl.Send(payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	if proxy.cutN.Load() != 2 {
		t.Fatalf("proxy cut %d connections, want 2", proxy.cutN.Load())
	}
	acked, _, reconnects := cl.Acked()
	if acked != frames || reconnects < 2 {
		t.Fatalf("acked %d frames with %d reconnects", acked, reconnects)
	}
	// Everything acknowledged is stored, and exactly once.
	msgs := w.messages()
	if len(msgs) != frames*linesPerFrame {
		t.Fatalf("stored %d lines, want %d", len(msgs), frames*linesPerFrame)
	}
	for i := 1; i < len(msgs); i++ {
		if msgs[i] == msgs[i-1] {
			t.Fatalf("stored twice: %q", msgs[i])
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Logf("%d reconnects, %d resent frames dropped as duplicates", reconnects, w.dups)
	for _, e := range w.events {
		if e.Index != "sent" {
			t.Fatalf("index %q", e.Index)
		}
	}
}

func TestSendUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	_, err = sendproto.Dial(sendproto.DefaultClientOptions(addr))
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach server at "+addr+": ") {
		t.Fatalf("err = %v", err)
	}
}

func TestSendServerGoneMidStream(t *testing.T) {
	w := &recordWriter{}
	srv := startTCP(t, newPipeline(t, w, 0), nil)
	opts := sendproto.DefaultClientOptions(srv.Addr().String())
	opts.BackoffMin, opts.BackoffMax, opts.MaxAttempts = time.Millisecond, 5*time.Millisecond, 3
	cl, err := sendproto.Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Send([]byte("one\ntwo\n")); err != nil {
		t.Fatal(err)
	}
	w.waitCount(t, 2)
	ctx, cancel := contextWithTimeout(5 * time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	var sendErr error
	for i := 0; i < 100 && sendErr == nil; i++ {
		sendErr = cl.Send([]byte("three\n"))
		time.Sleep(time.Millisecond)
	}
	if sendErr == nil {
		sendErr = cl.Close()
	}
	if sendErr == nil || !strings.HasPrefix(sendErr.Error(), "cannot reach server at ") {
		t.Fatalf("err = %v", sendErr)
	}
}

func TestSendBadHandshake(t *testing.T) {
	w := &recordWriter{}
	srv := startTCP(t, newPipeline(t, w, 0), nil)
	c := dial(t, srv)
	io.WriteString(c, sendproto.Magic+" bad/id\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	ans, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(ans), sendproto.Magic+" ERR invalid client id") {
		t.Fatalf("answer %q", ans)
	}
}
