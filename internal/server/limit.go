package server

import (
	"net"
	"sync"

	"github.com/logcaster/logcaster/internal/metrics"
)

// limitListener closes connections beyond max at once, counting them, so
// that a flood of clients gets a clear refusal instead of a hang and cannot
// exhaust the server's file descriptors or memory.
type limitListener struct {
	net.Listener
	sem chan struct{}
	m   *metrics.Metrics
}

func newLimitListener(ln net.Listener, max int, m *metrics.Metrics) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, sem: make(chan struct{}, max), m: m}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			l.m.ConnOpened("http")
			return &limitConn{Conn: c, l: l}, nil
		default:
			l.m.Rejected("http", "conn_limit", 1) // before the close, as ingest.ConnServer does
			c.Close()
		}
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		<-c.l.sem
		c.l.m.ConnClosed("http")
	})
	return err
}
