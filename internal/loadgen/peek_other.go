//go:build !unix

package loadgen

import "net"

// nothingToRead cannot look without blocking on this system; it assumes the
// connection is open.
func nothingToRead(net.Conn) bool { return true }
