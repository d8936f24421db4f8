package ingest

import (
	"net"
	"strconv"
	"strings"
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
	// the TCP listener must not be left open. The port is one whose TCP
	// side is free, or the TCP listen would fail first (other tests run
	// beside this one and hold TCP ports of their own).
	var held *net.UDPConn
	var addr string
	for try := 0; ; try++ {
		uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(uc.LocalAddr().(*net.UDPAddr).Port))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			held = uc
			break
		}
		uc.Close()
		if try == 20 {
			t.Fatal("no UDP port with its TCP side free")
		}
	}
	defer held.Close()
	ln, uc, err := ListenTCPAndUDP(addr)
	if err == nil {
		ln.Close()
		uc.Close()
		t.Fatal("want an error for a taken UDP port")
	}
	if !strings.Contains(err.Error(), "listen udp") {
		t.Fatalf("want the UDP listen to fail, got %v", err)
	}
	ln, err = net.Listen("tcp", addr)
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
