package esbulk

import "unsafe"

// bytesView returns p as a string without copying; the string must not
// outlive p's next change.
func bytesView(p []byte) string {
	return unsafe.String(unsafe.SliceData(p), len(p))
}
