package https

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
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

// maxSocketTransports bounds an agent's Unix-socket transports.
const maxSocketTransports = 8

// socketTransport returns the transport of a request of agent a planned by p with a
// SocketPath: every connection goes to that Unix socket (never through a proxy), and TLS,
// SNI and the Host header still use Host, as Node's socketPath does. A Connect c (may be
// nil) gives the HTTP versions and plain HTTP; its Dial is not used, as curl's
// --unix-socket wins over --resolve. The transports are the agent's, kept apart from its
// TCP pool and bounded as it is.
func (a *Agent) socketTransport(p plan, c *Connect) *http.Transport {
	key := socketKey{p.socket, poolKey{tls: p.tls.key, serverName: p.serverName, maxHeader: p.maxHeader, frugal: p.memory.frugal()}, c != nil && (c.HTTP1Only || c.Plain)}
	a.mu.Lock()
	defer a.mu.Unlock()
	if t, ok := a.sockets[key]; ok {
		return t
	}
	if a.sockets == nil {
		a.sockets = make(map[socketKey]*http.Transport)
	}
	if len(a.sockets) >= maxSocketTransports {
		for k, old := range a.sockets {
			old.CloseIdleConnections()
			delete(a.sockets, k)
			break
		}
	}
	t := a.newTransport(p.tls, key.poolKey)
	t.Proxy = nil
	t.OnProxyConnectResponse = nil
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
	a.sockets[key] = t
	return t
}

// noSocketError is a dial to a socket path where no file is: the request fails with
// ErrRefused, as for a socket file that nothing listens on.
type noSocketError struct{ err error }

func (e noSocketError) Error() string   { return e.err.Error() }
func (e noSocketError) Unwrap() []error { return []error{e.err, syscall.ECONNREFUSED} }
