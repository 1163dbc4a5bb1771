package https

import (
	"fmt"
	"math"
	"net/http"
	"runtime/debug"
	"time"
)

// Memory says how a request's connection trades memory for speed: the
// type of Options.Memory.
//
// On a small device most of a short program's memory is not the
// connection's: a single GET with MemoryFast holds well under 1 MiB of
// connection state. What MemoryFrugal bounds is what grows with the server:
// response data that arrived faster than the caller reads it, and
// connections kept alive after a burst of requests.
type Memory int

const (
	// MemoryAuto, the zero value, is MemoryFrugal when the process runs
	// with a memory limit, that is when the GOMEMLIMIT environment variable
	// or debug.SetMemoryLimit set one (checked at each request), and
	// MemoryFast otherwise. A memory limit says memory is tight: a Go
	// program on a small device should run with one.
	MemoryAuto Memory = iota
	// MemoryFast keeps net/http's settings, tuned for throughput: an
	// HTTP/2 connection lets the server send up to 4 MiB per stream (1 GiB
	// per connection) that the caller has not read yet, and up to 16 idle
	// connections per host are kept alive.
	MemoryFast
	// MemoryFrugal bounds the memory of a connection:
	//
	//   - HTTP/2 flow-control windows of FrugalWindow (256 KiB) per
	//     connection and per stream, so at most that much response data
	//     that the caller has not read yet is held per connection (with
	//     MemoryFast, 4 MiB per stream). The cost is throughput on links
	//     with a long round trip: at most FrugalWindow per round trip,
	//     about 2.5 MB/s at 100 ms (on a LAN or loopback it hardly shows).
	//     HTTP/1.1 needs no such bound: TCP's own flow control holds back a
	//     server that sends faster than the caller reads.
	//   - At most 2 idle connections kept alive per host and 4 in all
	//     (MemoryFast: 16 and 100), each closed after 30 seconds unused
	//     (MemoryFast: 90): a burst of parallel requests does not leave a
	//     pool of connections, each with its TLS state, buffers and
	//     goroutines, behind it. Sequential requests reuse one connection
	//     as before.
	MemoryFrugal
)

// FrugalWindow is the HTTP/2 flow-control window, per connection and per
// stream, that a MemoryFrugal connection advertises.
const FrugalWindow = 256 << 10

// Idle connection pool bounds of MemoryFrugal connections.
const (
	frugalIdlePerHost = 2
	frugalIdle        = 4
	frugalIdleTimeout = 30 * time.Second
)

// String returns the constant's name, or "Memory(N)" for other values.
func (m Memory) String() string {
	switch m {
	case MemoryAuto:
		return "MemoryAuto"
	case MemoryFast:
		return "MemoryFast"
	case MemoryFrugal:
		return "MemoryFrugal"
	}
	return fmt.Sprintf("Memory(%d)", int(m))
}

// frugal reports whether a connection with setting m is frugal now.
func (m Memory) frugal() bool {
	switch m {
	case MemoryFrugal:
		return true
	case MemoryFast:
		return false
	}
	return memoryLimited()
}

// memoryLimited reports whether the process runs with a memory limit
// (GOMEMLIMIT or debug.SetMemoryLimit). Reading the limit takes a lock of
// the runtime and allocates nothing.
func memoryLimited() bool {
	return debug.SetMemoryLimit(-1) < math.MaxInt64
}

// makeFrugal sets the memory bounds of MemoryFrugal on t.
func makeFrugal(t *http.Transport) {
	t.HTTP2 = &http.HTTP2Config{
		MaxReceiveBufferPerConnection: FrugalWindow,
		MaxReceiveBufferPerStream:     FrugalWindow,
	}
	t.MaxIdleConnsPerHost = frugalIdlePerHost
	t.MaxIdleConns = frugalIdle
	t.IdleConnTimeout = frugalIdleTimeout
}
