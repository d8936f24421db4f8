package ingest

import (
	"net"
	"strconv"
	"testing"
)

func TestListenTCPAndUDPPortZero(t *testing.T) {
	ln, uc, err := ListenTCPAndUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	defer uc.Close()
	tp := ln.Addr().(*net.TCPAddr).Port
	up := uc.LocalAddr().(*net.UDPAddr).Port
	if tp == 0 || tp != up {
		t.Fatalf("tcp port %d, udp port %d: want the same non-zero port", tp, up)
	}
	// Both sockets work: a datagram arrives, a connection is accepted.
	c, err := net.Dial("udp", uc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	n, err := uc.Read(buf)
	if err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("udp read %q, %v", buf[:n], err)
	}
	tc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	tc.Close()
}

func TestListenTCPAndUDPTakenUDPPort(t *testing.T) {
	// Hold a UDP port, then ask for exactly that port: UDP must fail and
	// the TCP listener must not be left open.
	held, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.LocalAddr().(*net.UDPAddr).Port
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if ln, uc, err := ListenTCPAndUDP(addr); err == nil {
		ln.Close()
		uc.Close()
		t.Fatal("want an error for a taken UDP port")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("tcp port left open after the failure: %v", err)
	}
	ln.Close()
}

func TestListenTCPAndUDPBadAddress(t *testing.T) {
	if _, _, err := ListenTCPAndUDP("no-port"); err == nil {
		t.Fatal("want an error for an address without a port")
	}
}
