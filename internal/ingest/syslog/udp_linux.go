package syslog

import (
	"syscall"
	"unsafe"
)

// Linux socket options the standard library does not name.
const (
	soMeminfo      = 55 // SO_MEMINFO: the socket's memory counters
	skMeminfoDrops = 8  // SK_MEMINFO_DROPS: datagrams the kernel dropped
	skMeminfoVars  = 9
)

// kernelDrops returns how many datagrams the kernel has dropped on the
// socket so far (its receive buffer was full), so that the server can
// count them instead of losing them unseen.
func kernelDrops(fd uintptr) (uint32, bool) {
	var info [skMeminfoVars]uint32
	size := uint32(unsafe.Sizeof(info))
	_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_SOCKET, soMeminfo,
		uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 || size <= skMeminfoDrops*4 {
		return 0, false
	}
	return info[skMeminfoDrops], true
}

// forceReadBuffer sets SO_RCVBUFFORCE, which may pass net.core.rmem_max
// (it needs CAP_NET_ADMIN); false when not allowed.
func forceReadBuffer(fd uintptr, bytes int) bool {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, bytes) == nil
}
