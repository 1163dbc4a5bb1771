package https

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// socketKey names a transport that dials a Unix socket: the socket, what names a pooled
// transport (poolKey), and whether it offers HTTP/1.1 only (a Connect's HTTP1Only or Plain).
type socketKey struct {
	path string
	poolKey
	http1 bool
}

// socketPool holds the transports of requests with Options.SocketPath, apart from the TCP
// ones, bounded as the TCP pool is.
var socketPool = struct {
	sync.Mutex
	m map[socketKey]*http.Transport
}{m: make(map[socketKey]*http.Transport)}

// maxSocketTransports bounds socketPool.
const maxSocketTransports = 8

// socketTransport returns the transport of a request planned by p with a SocketPath: every
// connection goes to that Unix socket, and TLS, SNI and the Host header still use Host, as
// Node's socketPath does. A Connect c (may be nil) gives the HTTP versions and plain HTTP;
// its Dial is not used, as curl's --unix-socket wins over --resolve.
func socketTransport(p plan, c *Connect) *http.Transport {
	frugal := p.memory.frugal()
	key := socketKey{p.socket, poolKey{tls: p.tls.key, maxHeader: p.maxHeader, frugal: frugal}, c != nil && (c.HTTP1Only || c.Plain)}
	socketPool.Lock()
	defer socketPool.Unlock()
	if t, ok := socketPool.m[key]; ok {
		return t
	}
	if len(socketPool.m) >= maxSocketTransports {
		for k, old := range socketPool.m {
			old.CloseIdleConnections()
			delete(socketPool.m, k)
			break
		}
	}
	t := newTransport(p.tls, p.maxHeader)
	if frugal {
		makeFrugal(t)
	}
	if key.http1 {
		t.Protocols = new(http.Protocols)
		t.Protocols.SetHTTP1(true)
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second}
	path := p.socket
	t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, "unix", path)
		if errors.Is(err, fs.ErrNotExist) {
			err = noSocketError{err}
		}
		return c, err
	}
	socketPool.m[key] = t
	return t
}

// noSocketError is a dial to a socket path where no file is: the request fails with
// ErrRefused, as for a socket file that nothing listens on.
type noSocketError struct{ err error }

func (e noSocketError) Error() string   { return e.err.Error() }
func (e noSocketError) Unwrap() []error { return []error{e.err, syscall.ECONNREFUSED} }

// closeIdleSocketConnections closes the idle connections of every Unix-socket transport.
func closeIdleSocketConnections() {
	socketPool.Lock()
	ts := make([]*http.Transport, 0, len(socketPool.m))
	for _, t := range socketPool.m {
		ts = append(ts, t)
	}
	socketPool.Unlock()
	for _, t := range ts {
		t.CloseIdleConnections()
	}
}
