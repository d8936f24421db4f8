//go:build !linux

package syslog

func kernelDrops(fd uintptr) (uint32, bool)      { return 0, false }
func forceReadBuffer(fd uintptr, bytes int) bool { return false }
