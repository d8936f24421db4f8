package sendproto

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// Addr is the server's TCP lines address, host:port.
	Addr string
	// ClientID names this sender for deduplication; "" picks a random one.
	// Two runs must not share one, or the second's frames are dropped as
	// already stored.
	ClientID string
	// Index is the default index of the lines; "" uses the server's.
	Index string
	// Window is the most frames sent and not yet acknowledged.
	Window int
	// DialTimeout bounds one connection attempt, handshake included.
	DialTimeout time.Duration
	// AckTimeout is how long the client waits for the next ack, with
	// frames outstanding, before it takes the connection for dead.
	AckTimeout time.Duration
	// MaxAttempts is how many times the client tries to reconnect after a
	// broken connection before it gives up.
	MaxAttempts int
	// BackoffMin and BackoffMax bound the pause between attempts, which
	// doubles from one attempt to the next.
	BackoffMin, BackoffMax time.Duration
}

// DefaultClientOptions returns the options logcaster send uses.
func DefaultClientOptions(addr string) ClientOptions {
	return ClientOptions{
		Addr:        addr,
		Window:      16, // 16 frames of ~1 MB keep a fast link busy during fsyncs
		DialTimeout: 5 * time.Second,
		AckTimeout:  time.Minute,
		MaxAttempts: 8, // with the backoff below: about 15 s of trying
		BackoffMin:  100 * time.Millisecond,
		BackoffMax:  5 * time.Second,
	}
}

// Validate reports options that cannot work.
func (o ClientOptions) Validate() error {
	switch {
	case o.Addr == "":
		return errors.New("send client: no server address")
	case o.ClientID != "" && !ValidClientID(o.ClientID):
		return fmt.Errorf("send client: invalid client id %q", o.ClientID)
	case o.Index != "" && !ValidIndex(o.Index):
		return fmt.Errorf("send client: invalid index name %q (letters, digits, . _ : - only)", o.Index)
	case o.Window <= 0 || o.MaxAttempts <= 0:
		return errors.New("send client: window and attempts must be positive")
	case o.DialTimeout <= 0 || o.AckTimeout <= 0 || o.BackoffMin <= 0 || o.BackoffMax < o.BackoffMin:
		return errors.New("send client: timeouts and backoff must be positive")
	}
	return nil
}

// Client sends frames and keeps every frame until the server acknowledges
// it, resending the unacknowledged ones in order after a reconnect. Send
// and Close must be called from one goroutine.
type Client struct {
	opts ClientOptions

	mu      sync.Mutex
	cond    *sync.Cond
	conn    net.Conn
	gen     int  // generation of conn; readers of older ones are ignored
	broken  bool // conn failed: reconnect before the next write
	fatal   error
	unacked []pending
	nextSeq uint64

	ackedFrames uint64
	ackedBytes  int64
	reconnects  int
}

type pending struct {
	seq     uint64
	frame   []byte // header and payload, as written
	payload int
}

// Dial connects to the server and performs the handshake. It tries once:
// a server that is not there at the start is a mistake to report at once,
// not a blip to ride out.
func Dial(opts ClientOptions) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.ClientID == "" {
		var b [12]byte
		rand.Read(b[:])
		opts.ClientID = hex.EncodeToString(b[:])
	}
	c := &Client{opts: opts, nextSeq: 1}
	c.cond = sync.NewCond(&c.mu)
	if err := c.connect(); err != nil {
		return nil, c.unreachable(err)
	}
	return c, nil
}

func (c *Client) unreachable(err error) error {
	return fmt.Errorf("cannot reach server at %s: %w", c.opts.Addr, err)
}

// Acked returns how many frames and payload bytes the server has
// acknowledged, and how many times the client reconnected.
func (c *Client) Acked() (frames uint64, bytes int64, reconnects int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ackedFrames, c.ackedBytes, c.reconnects
}

// connect dials, handshakes and starts the ack reader.
func (c *Client) connect() error {
	conn, err := net.DialTimeout("tcp", c.opts.Addr, c.opts.DialTimeout)
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(c.opts.DialTimeout))
	if _, err := conn.Write(AppendHandshake(nil, c.opts.ClientID, c.opts.Index)); err != nil {
		conn.Close()
		return fmt.Errorf("handshake: %w", err)
	}
	br := bufio.NewReaderSize(conn, 4<<10)
	if err := ReadHandshakeAnswer(br); err != nil {
		conn.Close()
		return err
	}
	conn.SetDeadline(time.Time{})
	c.mu.Lock()
	c.gen++
	c.conn, c.broken = conn, false
	gen := c.gen
	c.mu.Unlock()
	go c.readAcks(conn, br, gen)
	return nil
}

// readAcks pops acknowledged frames until the connection fails.
func (c *Client) readAcks(conn net.Conn, br *bufio.Reader, gen int) {
	fail := func(err error) {
		c.mu.Lock()
		if c.gen == gen {
			c.broken = true
			if err != nil && c.fatal == nil {
				c.fatal = err
			}
			c.cond.Broadcast()
		}
		c.mu.Unlock()
		conn.Close()
	}
	for {
		conn.SetReadDeadline(time.Now().Add(c.opts.AckTimeout))
		rep, err := ReadReply(br)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.mu.Lock()
				idle := len(c.unacked) == 0 && c.gen == gen
				c.mu.Unlock()
				if idle {
					continue // nothing outstanding: silence is fine
				}
			}
			fail(nil)
			return
		}
		if rep.Kind == KindError {
			fail(fmt.Errorf("server refused frame %d: %s", rep.Seq, rep.Msg))
			return
		}
		c.mu.Lock()
		if len(c.unacked) > 0 && c.unacked[0].seq == rep.Seq {
			c.ackedFrames++
			c.ackedBytes += int64(c.unacked[0].payload)
			c.unacked[0] = pending{}
			c.unacked = c.unacked[1:]
			c.cond.Broadcast()
			c.mu.Unlock()
			continue
		}
		c.mu.Unlock()
		// Acks come in order; any other seq means we disagree about the
		// stream: start over on a new connection.
		fail(nil)
		return
	}
}

// Send sends payload (lines separated by LF) as one frame. It returns once
// the frame is written, blocking while Window frames are unacknowledged,
// and reconnects (resending) if the connection breaks. The payload is
// copied, so the caller may reuse it.
func (c *Client) Send(payload []byte) error {
	if len(payload) == 0 {
		return nil
	}
	if len(payload) > MaxFrameBytes {
		return fmt.Errorf("send: frame of %d bytes over the %d-byte limit", len(payload), MaxFrameBytes)
	}
	c.mu.Lock()
	for {
		for !c.broken && c.fatal == nil && len(c.unacked) >= c.opts.Window {
			c.cond.Wait()
		}
		if c.fatal != nil {
			err := c.fatal
			c.mu.Unlock()
			return err
		}
		if !c.broken {
			break
		}
		c.mu.Unlock()
		if err := c.reconnect(); err != nil {
			return err
		}
		c.mu.Lock()
	}
	seq := c.nextSeq
	c.nextSeq++
	frame := make([]byte, 0, HeaderLen+len(payload))
	frame = append(AppendFrameHeader(frame, seq, payload), payload...)
	c.unacked = append(c.unacked, pending{seq: seq, frame: frame, payload: len(payload)})
	conn, gen := c.conn, c.gen
	c.mu.Unlock()
	if _, err := conn.Write(frame); err != nil {
		c.markBroken(gen)
		// The frame is kept: the next Send or Close resends it.
	}
	return nil
}

func (c *Client) markBroken(gen int) {
	c.mu.Lock()
	if c.gen == gen {
		c.broken = true
	}
	c.mu.Unlock()
}

// reconnect replaces a broken connection, with backoff, and resends every
// unacknowledged frame in order.
func (c *Client) reconnect() error {
	c.mu.Lock()
	if c.conn != nil {
		c.conn.Close()
	}
	c.reconnects++
	c.mu.Unlock()
	backoff := c.opts.BackoffMin
	var lastErr error
	for attempt := 0; attempt < c.opts.MaxAttempts; attempt++ {
		if attempt > 0 {
			time.Sleep(backoff)
			backoff = min(2*backoff, c.opts.BackoffMax)
		}
		if err := c.connect(); err != nil {
			lastErr = err
			continue
		}
		c.mu.Lock()
		frames := make([][]byte, len(c.unacked))
		for i, p := range c.unacked {
			frames[i] = p.frame
		}
		conn, gen := c.conn, c.gen
		c.mu.Unlock()
		bufs := net.Buffers(frames)
		if _, err := bufs.WriteTo(conn); err != nil {
			c.markBroken(gen)
			lastErr = err
			continue
		}
		return nil
	}
	return c.unreachable(lastErr)
}

// Close waits until the server has acknowledged every frame (reconnecting
// and resending as needed), then closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	for {
		for !c.broken && c.fatal == nil && len(c.unacked) > 0 {
			c.cond.Wait()
		}
		if c.fatal != nil || len(c.unacked) == 0 {
			break
		}
		c.mu.Unlock()
		if err := c.reconnect(); err != nil {
			c.mu.Lock()
			c.fatal = err
			break
		}
		c.mu.Lock()
	}
	err := c.fatal
	conn := c.conn
	c.gen++ // the reader's end is not a failure any more
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	return err
}
