package ingest

import (
	"fmt"
	"net"
	"strconv"
)

// udpBindAttempts is how often ListenTCPAndUDP picks a new port when addr
// has port 0 and the TCP port it got is taken for UDP.
const udpBindAttempts = 20

// ListenTCPAndUDP listens on addr with TCP and UDP on the same port, as
// syslog and GELF senders expect one port for both. With port 0 (or none)
// the TCP port is picked first and UDP takes the same number; if another
// socket holds that UDP port, it tries again with a new TCP port, up to
// udpBindAttempts times. On error nothing is left open.
func ListenTCPAndUDP(addr string) (net.Listener, *net.UDPConn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("address %q: %w", addr, err)
	}
	for attempt := 1; ; attempt++ {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen tcp on %s: %w", addr, err)
		}
		tcpPort := ln.Addr().(*net.TCPAddr).Port
		ua, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, strconv.Itoa(tcpPort)))
		if err != nil {
			ln.Close()
			return nil, nil, fmt.Errorf("udp address: %w", err)
		}
		uc, err := net.ListenUDP("udp", ua)
		if err != nil {
			ln.Close()
			if (port == "0" || port == "") && attempt < udpBindAttempts {
				continue
			}
			return nil, nil, fmt.Errorf("listen udp on %s: %w", ua, err)
		}
		return ln, uc, nil
	}
}
