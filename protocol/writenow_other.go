//go:build !linux

package protocol

import "net"

// writeNow writes nothing here: every write takes the blocking path.
func (w *FrameWriter) writeNow(bufs net.Buffers) (net.Buffers, error) { return bufs, nil }

func (w *FrameWriter) writeFd(uintptr) bool { return true }
