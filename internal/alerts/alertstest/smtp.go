// Package alertstest holds what the alert tests share: an SMTP receiver
// standing in for a mail server, for the unit tests of package alerts and
// the end-to-end tests of the binary alike. It is imported only from
// _test.go files.
package alertstest

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMTPSink speaks enough of RFC 5321 (HELO/EHLO, MAIL, RCPT, DATA, RSET,
// NOOP, QUIT) on a loopback port to take the alert mails, and keeps each.
type SMTPSink struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string // "from|to,to|data"
}

// NewSMTPSink listens on a free loopback port until the test ends.
func NewSMTPSink(t testing.TB) *SMTPSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPSink{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

// Addr is the sink's host:port.
func (s *SMTPSink) Addr() string { return s.ln.Addr().String() }

// Messages returns the mails taken so far, each "from|to,to|data" with
// data as sent between DATA and the final dot, CRLFs kept.
func (s *SMTPSink) Messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

func (s *SMTPSink) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { io.WriteString(c, line+"\r\n") }
	say("220 sink.test ESMTP")
	var from string
	var to []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		up := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(up, "EHLO"), strings.HasPrefix(up, "HELO"):
			say("250 sink.test")
		case strings.HasPrefix(up, "MAIL FROM:"):
			from = strings.Trim(line[10:], "<> ")
			say("250 2.1.0 ok")
		case strings.HasPrefix(up, "RCPT TO:"):
			to = append(to, strings.Trim(line[8:], "<> "))
			say("250 2.1.5 ok")
		case up == "DATA":
			say("354 end with <CRLF>.<CRLF>")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, from+"|"+strings.Join(to, ",")+"|"+data.String())
			s.mu.Unlock()
			say("250 2.0.0 queued")
		case up == "QUIT":
			say("221 2.0.0 bye")
			return
		case up == "RSET", up == "NOOP":
			say("250 ok")
		default:
			say("502 5.5.2 not implemented")
		}
	}
}
