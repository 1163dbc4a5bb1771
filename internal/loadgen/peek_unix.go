//go:build unix

package loadgen

import (
	"net"
	"syscall"
)

// nothingToRead reports whether c is open with no byte and no end of stream
// waiting to be read, without blocking and without consuming anything.
func nothingToRead(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true // cannot tell: assume open
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true // one look, never wait
	})
	return err == nil && open
}
